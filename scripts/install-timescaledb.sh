#!/usr/bin/env bash
# Make sure the local PostgreSQL has the timescaledb extension.
#
# Already installed (Timescale's packages, a hand build): change nothing.
# Missing: build the apache edition from Debian's own timescaledb source package
# (Debian 13 carries a release that supports PostgreSQL 15), fetched through a
# temporary deb-src entry that is removed again. The build is cached, so a second
# run on the same machine takes seconds.
set -euo pipefail
umask 022

PG_MAJOR=${OPS_DB_PG_MAJOR:-15}
SRC_SUITE=${OPS_DB_TIMESCALEDB_SUITE:-trixie}
CACHE_DIR=${OPS_DB_BUILD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ops-db/timescaledb}

say() { printf 'install-timescaledb: %s\n' "$*"; }
die() { printf 'install-timescaledb: error: %s\n' "$*" >&2; exit 1; }

pg_config_bin() {
    local candidate="/usr/lib/postgresql/${PG_MAJOR}/bin/pg_config"
    if [[ -x $candidate ]]; then echo "$candidate"; return; fi
    command -v pg_config || true
}

extension_installed() {
    local pgc
    pgc=$(pg_config_bin)
    [[ -n $pgc ]] || return 1
    [[ -f "$("$pgc" --sharedir)/extension/timescaledb.control" ]]
}

if extension_installed; then
    pgc=$(pg_config_bin)
    say "timescaledb already installed for $("$pgc" --version) ($("$pgc" --sharedir)/extension); nothing to do"
    exit 0
fi

[[ -r /etc/debian_version ]] || die "not a Debian system: install TimescaleDB for PostgreSQL ${PG_MAJOR} yourself (see README, 'Existing TimescaleDB')"
[[ $(id -u) -eq 0 ]] || die "building TimescaleDB needs root (apt-get and make install); run 'sudo $0' once"
command -v apt-get >/dev/null || die "apt-get not found"

export DEBIAN_FRONTEND=noninteractive
needed=()
for pkg in "postgresql-${PG_MAJOR}" "postgresql-server-dev-${PG_MAJOR}" build-essential cmake libssl-dev dpkg-dev; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || needed+=("$pkg")
done
if ((${#needed[@]})); then
    say "installing from this machine's Debian suite: ${needed[*]}"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${needed[@]}" >/dev/null
fi

PG_CONFIG=$(pg_config_bin)
[[ -x $PG_CONFIG ]] || die "pg_config for PostgreSQL ${PG_MAJOR} not found after install"

mkdir -p "$CACHE_DIR"
src_dir=$(find "$CACHE_DIR" -maxdepth 1 -type d -name 'timescaledb-[0-9]*' | sort -V | tail -n 1)
if [[ -z $src_dir ]]; then
    # A private apt state: the deb-src entry never joins the system's sources and is
    # gone when this block ends, whatever happens.
    apt_tmp=$(mktemp -d)
    trap 'rm -rf "$apt_tmp"' EXIT
    mkdir -p "$apt_tmp/lists/partial" "$apt_tmp/cache/archives/partial"
    cat >"$apt_tmp/sources.list" <<SRC
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian ${SRC_SUITE} main
SRC
    apt_opts=(-o "Dir::Etc::SourceList=$apt_tmp/sources.list" -o "Dir::Etc::SourceParts=-"
              -o "Dir::State::Lists=$apt_tmp/lists" -o "Dir::Cache=$apt_tmp/cache"
              -o "APT::Sandbox::User=root")
    say "fetching Debian's timescaledb source package (${SRC_SUITE}) through a temporary deb-src entry"
    apt-get "${apt_opts[@]}" update -qq
    (cd "$CACHE_DIR" && apt-get "${apt_opts[@]}" source -qq --download-only timescaledb >/dev/null)
    dsc=$(find "$CACHE_DIR" -maxdepth 1 -name 'timescaledb_*.dsc' | sort -V | tail -n 1)
    [[ -n $dsc ]] || die "no timescaledb source package found in ${SRC_SUITE}"
    (cd "$CACHE_DIR" && dpkg-source --no-check -x "$(basename "$dsc")" >/dev/null)
    rm -rf "$apt_tmp"
    trap - EXIT
    say "removed the temporary deb-src entry"
    src_dir=$(find "$CACHE_DIR" -maxdepth 1 -type d -name 'timescaledb-[0-9]*' | sort -V | tail -n 1)
fi
[[ -n $src_dir ]] || die "timescaledb source not found under $CACHE_DIR"

build_dir="$src_dir/build-pg${PG_MAJOR}"
if [[ ! -f $build_dir/.ops-db-built ]]; then
    say "building $(basename "$src_dir") (apache edition) against $("$PG_CONFIG" --version)"
    cmake -S "$src_dir" -B "$build_dir" -DPG_CONFIG="$PG_CONFIG" -DAPACHE_ONLY=ON \
        -DREGRESS_CHECKS=OFF -DTAP_CHECKS=OFF -DWARNINGS_AS_ERRORS=OFF -DLINTER=OFF \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$CACHE_DIR/cmake.log" 2>&1 \
        || die "cmake failed; see $CACHE_DIR/cmake.log"
    make -C "$build_dir" -j"$(nproc)" >"$CACHE_DIR/make.log" 2>&1 \
        || die "build failed; see $CACHE_DIR/make.log"
    touch "$build_dir/.ops-db-built"
else
    say "using the cached build in $build_dir"
fi
make -C "$build_dir" install >"$CACHE_DIR/install.log" 2>&1 || die "make install failed; see $CACHE_DIR/install.log"
extension_installed || die "installed, but timescaledb.control is still missing"
say "installed $(basename "$src_dir") (apache edition) into $("$PG_CONFIG" --pkglibdir)"
