#!/usr/bin/env bash
# Make sure the high-availability and recovery tools are installed: Patroni, etcd and pgBackRest,
# from this machine's own Debian suite (bookworm: patroni 3.0.2, etcd-server 3.4, pgbackrest 2.45).
#
# Already installed: change nothing. Missing: apt-get install them (needs root). No apt source is
# ever added. Services the packages ship are not used (ops-db starts its own processes), and are
# stopped and disabled when the package manager did start them.
set -euo pipefail
umask 022

say() { printf 'install-ha: %s\n' "$*"; }
die() { printf 'install-ha: error: %s\n' "$*" >&2; exit 1; }

# command -> the Debian package that provides it
declare -A PACKAGE_OF=([patroni]=patroni [etcd]=etcd-server [etcdctl]=etcd-client [pgbackrest]=pgbackrest)

needed=()
for cmd in patroni etcd etcdctl pgbackrest; do
    command -v "$cmd" >/dev/null || needed+=("${PACKAGE_OF[$cmd]}")
done
# Patroni talks to etcd 3 through python3-etcd's exceptions and urllib3; Debian's patroni depends on
# both, but a hand-installed patroni may not.
# Asked of patroni's own interpreter (its #! line), not of whatever python3 comes first on PATH.
if command -v patroni >/dev/null; then
    patroni_python=$(head -n 1 "$(command -v patroni)" | sed -n 's/^#! *//p' | awk '{print $1}')
    if [[ $patroni_python == /usr/bin/python3* ]] && ! "$patroni_python" -c 'import etcd, urllib3' 2>/dev/null; then
        needed+=(python3-etcd python3-urllib3)
    fi
fi

if ((${#needed[@]} == 0)); then
    say "patroni $(patroni --version 2>/dev/null | awk '{print $2}'), etcd $(etcd --version 2>/dev/null \
        | awk '/etcd Version/ {print $3}'), pgbackrest $(pgbackrest version | awk '{print $2}'): nothing to do"
    exit 0
fi

[[ -r /etc/debian_version ]] || die "not a Debian system: install ${needed[*]} yourself (docs/deployment.md)"
[[ $(id -u) -eq 0 ]] || die "installing ${needed[*]} needs root (apt-get); run 'sudo $0' once"
command -v apt-get >/dev/null || die "apt-get not found"

export DEBIAN_FRONTEND=noninteractive
say "installing from this machine's Debian suite: ${needed[*]}"
# Other installs may hold the dpkg lock for a while: wait for it rather than fail.
apt_opts=(-o DPkg::Lock::Timeout=600 -y -qq --no-install-recommends)
if ! apt-get "${apt_opts[@]}" install "${needed[@]}" >/dev/null 2>&1; then
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    apt-get "${apt_opts[@]}" install "${needed[@]}" >/dev/null
fi

# The packages' own services (etcd on 2379, patroni@) are not ops-db's: where an init system started
# them, stop them so that they neither hold ports nor form a cluster nobody asked for.
if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
    for unit in etcd.service patroni.service; do
        if systemctl is-active --quiet "$unit" 2>/dev/null; then
            say "stopping and disabling the package's $unit (ops-db runs its own)"
            systemctl disable --now "$unit" >/dev/null 2>&1 || true
        fi
    done
fi

for cmd in patroni etcd etcdctl pgbackrest; do
    command -v "$cmd" >/dev/null || die "$cmd still missing after installing ${needed[*]}"
done
say "installed: patroni $(patroni --version | awk '{print $2}'), pgbackrest $(pgbackrest version | awk '{print $2}')"
