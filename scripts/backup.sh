#!/usr/bin/env bash
# Cron-safe logical backup of the ops-db database with pg_dump (custom format).
# Usage and exit codes: scripts/backup.sh --help; runbook: docs/operations.md.
set -Eeuo pipefail
umask 077

# The exit codes: names and numbers of ops_db.core.errors.ExitCode (tests/test_exit_codes.py holds them equal).
readonly EXIT_FAILURE=1 EXIT_USAGE=2 EXIT_CONFIG=3 EXIT_BACKUP_DIR=4 EXIT_DATABASE_UNAVAILABLE=8 EXIT_LOCKED=10
readonly EXIT_DUMP_FAILED=11 EXIT_DUMP_UNREADABLE=12 EXIT_UPLOAD_FAILED=13

usage() {
    cat <<'EOF'
Usage: scripts/backup.sh full | schema | data SCHEMA.TABLE... | prune

  full     the whole database (schema and data)
  schema   schema only: every table empty, but TimescaleDB's catalog, the migration
           bookkeeping and the ops_internal settings kept, so the copy is a working database
  data     the rows of the named tables (hypertables with all their chunks)
  prune    apply retention only, no new backup

Writes BACKUP_DIR/<db>_<mode>_<YYYYmmddTHHMMSSZ>.dump with .manifest.json (versions,
migration status, row counts read in the dump's own snapshot) and .sha256 beside it.
The dump is written under a temporary name and renamed only after pg_restore --list
reads it back; the .sha256 file is written last and marks a complete backup.

Connection: OPS_DB_URL, else DATABASE_URL, else libpq PG* variables, else the local
cluster (resolved by ops-db). A password is handed to pg_dump as PGPASSWORD in its own
environment only: never on a command line nor in any file, so a killed run leaves no
secret behind; without one, ~/.pgpass applies.

Environment:
  BACKUP_DIR          where backups go (default /var/backups/ops-db)
  RETENTION_DAYS      delete backups older than this many days (default 14)
  RETENTION_MIN_KEEP  but always keep this many good ones per database and mode (default 7);
                      the newest good backup is never deleted
  BACKUP_COMPRESS     pg_dump's zlib level, 0 to 9 (default 1: half the CPU of pg_dump's
                      default 6, for a dump about a fifth larger)
  S3_BUCKET, S3_PREFIX  also copy the set to s3://S3_BUCKET/S3_PREFIX/ (needs the aws command)
  BACKUP_LOCK_FILE    overlap lock (default BACKUP_DIR/.backup.lock)
  OPS_DB_BACKUP_DATABASE  back up this database of the configured server instead
  OPS_DB_BIN          the ops-db command (default: .venv/bin/ops-db of this checkout, else PATH)

Exit codes:
  0   backup written, verified (and uploaded); retention applied
  1   unexpected failure
  2   usage error
  3   configuration error: ops-db missing, no database configured, a bad setting
  4   BACKUP_DIR (or the lock file) cannot be created or written: nothing was backed up
  8   the database cannot be reached (libpq's reason is printed): nothing was backed up
  10  another backup holds the lock: nothing was touched
  11  pg_dump failed: no backup written
  12  verification failed (pg_restore --list, or the manifest could not be written)
  13  upload to S3 failed (the local backup is complete and kept)
EOF
}

PROG=backup.sh
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

SETPRIV=$(command -v setpriv || true)
# Runs a command that must not inherit the lock (fd 9) and must die with this script,
# so that kill -9 of backup.sh leaves neither a held lock nor a pg_dump writing on.
child() {
    if [[ -n $SETPRIV ]]; then
        "$SETPRIV" --pdeathsig KILL -- "$@" 9>&-
    else
        "$@" 9>&-
    fi
}

# -- arguments ---------------------------------------------------------------------------
[[ $# -ge 1 ]] || { usage >&2; exit "$EXIT_USAGE"; }
MODE=$1
shift
TABLES=()
case $MODE in
    -h | --help) usage; exit 0 ;;
    full | schema | prune) [[ $# -eq 0 ]] || die "$EXIT_USAGE" "$MODE takes no arguments (see --help)" ;;
    data)
        [[ $# -ge 1 ]] || die "$EXIT_USAGE" "data needs at least one SCHEMA.TABLE"
        for table in "$@"; do
            [[ $table =~ ^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$ ]] \
                || die "$EXIT_USAGE" "table '$table': give schema.table in lower case, e.g. trading.stock_prices"
        done
        TABLES=("$@")
        ;;
    *) die "$EXIT_USAGE" "unknown mode '$MODE' (full, schema, data, prune; see --help)" ;;
esac

BACKUP_DIR=${BACKUP_DIR:-/var/backups/ops-db}
RETENTION_DAYS=${RETENTION_DAYS:-14}
RETENTION_MIN_KEEP=${RETENTION_MIN_KEEP:-7}
[[ $RETENTION_DAYS =~ ^[0-9]+$ ]] || die "$EXIT_CONFIG" "RETENTION_DAYS must be a whole number of days"
[[ $RETENTION_MIN_KEEP =~ ^[0-9]+$ ]] || die "$EXIT_CONFIG" "RETENTION_MIN_KEEP must be a whole number"
mkdir -p -- "$BACKUP_DIR" 2>/dev/null || die "$EXIT_BACKUP_DIR" "cannot create BACKUP_DIR $BACKUP_DIR"
BACKUP_DIR=$(cd -- "$BACKUP_DIR" 2>/dev/null && pwd) || die "$EXIT_BACKUP_DIR" "cannot enter BACKUP_DIR $BACKUP_DIR"
# A real write, not test -w: that answers yes for root, and no for ACLs it cannot read.
probe=$(mktemp "$BACKUP_DIR/.probe.XXXXXX" 2>/dev/null) \
    || die "$EXIT_BACKUP_DIR" "BACKUP_DIR $BACKUP_DIR is not writable by $(id -un); nothing backed up"
rm -f -- "$probe"

# -- the overlap lock: taken before anything is written -------------------------------------
LOCK_FILE=${BACKUP_LOCK_FILE:-$BACKUP_DIR/.backup.lock}
{ exec 9>>"$LOCK_FILE"; } 2>/dev/null || die "$EXIT_BACKUP_DIR" "cannot open lock file $LOCK_FILE"
flock --nonblock 9 || die "$EXIT_LOCKED" "another backup is running (lock $LOCK_FILE held); nothing done"

WORK=
# shellcheck disable=SC2317,SC2329  # called from the EXIT trap
cleanup() {
    if [[ -n $WORK ]]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

# Under the lock, anything half-written belongs to a run that was killed: remove it.
remove_debris() {
    local path base
    for path in "$BACKUP_DIR"/.work.* "$BACKUP_DIR"/.probe.*; do
        [[ -e $path ]] && rm -rf "$path"
    done
    for path in "$BACKUP_DIR"/*_full_*.dump "$BACKUP_DIR"/*_schema_*.dump "$BACKUP_DIR"/*_data_*.dump; do
        [[ -e $path ]] || continue
        base=${path%.dump}
        if [[ ! -e $base.sha256 ]]; then
            say "removing incomplete backup $(basename "$path")"
            rm -f "$path" "$base.manifest.json"
        fi
    done
    for path in "$BACKUP_DIR"/*.sha256 "$BACKUP_DIR"/*.manifest.json; do
        [[ -e $path ]] || continue
        base=${path%.sha256}
        base=${base%.manifest.json}
        [[ -e $base.dump ]] || rm -f "$path"
    done
}

is_good() {  # a complete set whose files match their checksums
    local base=$1
    [[ -e $base.dump && -e $base.manifest.json && -e $base.sha256 ]] || return 1
    (cd "$BACKUP_DIR" && sha256sum --quiet --status --strict -c "$(basename "$base").sha256")
}

# Retention for one database and mode: delete sets older than RETENTION_DAYS, but keep at
# least RETENTION_MIN_KEEP good ones (and always the newest good one). Only sets whose
# checksums verify count as good; FRESH (optional) is the set this run just wrote and checked.
prune_group() {
    local prefix=$1 fresh=${2:-} now cutoff keep_min kept=0 path base stamp
    # A UTC stamp YYYYmmddTHHMMSSZ without its letters is a number that orders like the time:
    # the cutoff is made so by bash's own strftime, not by a date(1) process per set.
    printf -v now '%(%s)T' -1
    TZ=UTC0 printf -v cutoff '%(%Y%m%d%H%M%S)T' $((now - RETENTION_DAYS * 86400))
    keep_min=$((RETENTION_MIN_KEEP > 0 ? RETENTION_MIN_KEEP : 1))
    local dumps=()
    mapfile -t dumps < <(find "$BACKUP_DIR" -maxdepth 1 -type f -name "${prefix}_????????T??????Z.dump" -printf '%f\n' | sort -r)
    # Only expired sets are ever deleted: when even the oldest is not, no checksum needs reading.
    ((${#dumps[@]})) || return 0
    stamp=${dumps[-1]%.dump}
    stamp=${stamp##*_}
    ((10#${stamp//[TZ]/} < cutoff)) || return 0
    for path in "${dumps[@]}"; do
        base=$BACKUP_DIR/${path%.dump}
        stamp=${path%.dump}
        stamp=${stamp##*_}
        local expired=0
        ((10#${stamp//[TZ]/} < cutoff)) && expired=1
        if ((kept < keep_min)); then
            if [[ ${path%.dump} == "$fresh" ]] || is_good "$base"; then  # fresh: written and checked just now
                kept=$((kept + 1))
                continue
            fi
            if ((expired)); then
                say "retention: deleting $(basename "$base").dump (checksum does not verify)"
                rm -f "$base.dump" "$base.manifest.json" "$base.sha256"
            fi
            continue
        fi
        if ((expired)); then
            say "retention: deleting $(basename "$base").dump"
            rm -f "$base.dump" "$base.manifest.json" "$base.sha256"
        fi
    done
}

prune_all() {
    local path prefixes=()
    mapfile -t prefixes < <(find "$BACKUP_DIR" -maxdepth 1 -type f -name '*_????????T??????Z.dump' -printf '%f\n' \
        | sed -E 's/_[0-9]{8}T[0-9]{6}Z\.dump$//' | sort -u)
    for path in "${prefixes[@]}"; do
        prune_group "$path"
    done
}

remove_debris
if [[ $MODE == prune ]]; then
    prune_all
    say "ok: retention applied in $BACKUP_DIR"
    exit 0
fi

OPS_DB=$(find_ops_db) || die "$EXIT_CONFIG" "ops-db not found: run 'make install' or set OPS_DB_BIN"
WORK=$(mktemp -d "$BACKUP_DIR/.work.XXXXXX" 2>/dev/null) \
    || die "$EXIT_BACKUP_DIR" "cannot create a work directory in BACKUP_DIR $BACKUP_DIR"
started=$(date +%s)

# -- the dump, its read-back, manifest and checksums: ops-db backup dump --------------------------
# It resolves the connection (a password only ever reaches pg_dump's environment), exports a snapshot,
# runs pg_dump in it while it counts the rows of the same snapshot for the manifest, checks
# that pg_restore --list reads the dump back, and writes dump, manifest and sha256 to $WORK.
# Its exits: 3 configuration, 8 database unreachable, 11 pg_dump failed, 12 the dump does not
# read back (message printed); it prints the set's name, <db>_<mode>_<UTC stamp>.
TABLE_ARGS=()
for table in "${TABLES[@]}"; do
    TABLE_ARGS+=(--table "$table")
done
# Not in a $(...) subshell: the subshell, not this script, would be the parent whose death kills it.
rc=0
child "$OPS_DB" backup dump --mode "$MODE" --work "$WORK" --backup-dir "$BACKUP_DIR" "${TABLE_ARGS[@]}" \
    >"$WORK/name" || rc=$?
case $rc in
    0) ;;
    "$EXIT_CONFIG" | "$EXIT_DATABASE_UNAVAILABLE" | "$EXIT_DUMP_FAILED" | "$EXIT_DUMP_UNREADABLE") exit "$rc" ;;
    *) die "$EXIT_FAILURE" "ops-db backup dump failed (exit $rc); no backup written" ;;
esac
BASE=$(<"$WORK/name")
[[ $BASE =~ ^[A-Za-z0-9_.-]+_${MODE}_[0-9]{8}T[0-9]{6}Z$ ]] || die "$EXIT_FAILURE" "ops-db backup dump named no backup set"

sync "$WORK/dump" "$WORK/manifest" "$WORK/sha256"
# The .sha256 goes last: until it exists the set is incomplete and nothing counts it.
mv "$WORK/manifest" "$BACKUP_DIR/$BASE.manifest.json"
mv "$WORK/dump" "$BACKUP_DIR/$BASE.dump"
mv "$WORK/sha256" "$BACKUP_DIR/$BASE.sha256"
sync "$BACKUP_DIR"
size=$(stat -c %s "$BACKUP_DIR/$BASE.dump")
say "ok: $BACKUP_DIR/$BASE.dump ($size bytes, $(($(date +%s) - started))s)"

# -- optional copy to S3: its failure fails the run ------------------------------------------
if [[ -n ${S3_BUCKET:-} ]]; then
    command -v aws >/dev/null || die "$EXIT_UPLOAD_FAILED" "S3_BUCKET is set but the aws command is not installed"
    dest="s3://$S3_BUCKET/${S3_PREFIX:+${S3_PREFIX%/}/}"
    for suffix in dump manifest.json sha256; do
        if ! child aws s3 cp --only-show-errors "$BACKUP_DIR/$BASE.$suffix" "$dest$BASE.$suffix" </dev/null; then
            die "$EXIT_UPLOAD_FAILED" "upload of $BASE.$suffix to $dest failed (the local backup is complete)"
        fi
    done
    say "uploaded to $dest"
fi

prune_group "${BASE%_*}" "$BASE"
exit 0
