#!/usr/bin/env bash
# Cron-safe logical backup of the ops-db database with pg_dump (custom format).
# Usage and exit codes: scripts/backup.sh --help; runbook: docs/operations.md.
set -Eeuo pipefail
umask 077

readonly EXIT_USAGE=2 EXIT_CONFIG=3 EXIT_LOCKED=10 EXIT_DUMP=11 EXIT_VERIFY=12 EXIT_UPLOAD=13

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
cluster (resolved by ops-db). A password is handed to pg_dump in a temporary 0600
passfile, never on a command line; without one, ~/.pgpass applies.

Environment:
  BACKUP_DIR          where backups go (default /var/backups/ops-db)
  RETENTION_DAYS      delete backups older than this many days (default 14)
  RETENTION_MIN_KEEP  but always keep this many good ones per database and mode (default 7);
                      the newest good backup is never deleted
  S3_BUCKET, S3_PREFIX  also copy the set to s3://S3_BUCKET/S3_PREFIX/ (needs the aws command)
  BACKUP_LOCK_FILE    overlap lock (default BACKUP_DIR/.backup.lock)
  OPS_DB_BIN          the ops-db command (default: .venv/bin/ops-db of this checkout, else PATH)

Exit codes:
  0   backup written, verified (and uploaded); retention applied
  1   unexpected failure
  2   usage error
  3   configuration error: ops-db missing, no database configured, cannot connect
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
mkdir -p "$BACKUP_DIR" || die "$EXIT_CONFIG" "cannot create BACKUP_DIR $BACKUP_DIR"
BACKUP_DIR=$(cd "$BACKUP_DIR" && pwd)

# -- the overlap lock: taken before anything is written -------------------------------------
LOCK_FILE=${BACKUP_LOCK_FILE:-$BACKUP_DIR/.backup.lock}
exec 9>>"$LOCK_FILE" || die "$EXIT_CONFIG" "cannot open lock file $LOCK_FILE"
flock --nonblock 9 || die "$EXIT_LOCKED" "another backup is running (lock $LOCK_FILE held); nothing done"

WORK=
SNAPSHOT_PID=
# shellcheck disable=SC2317  # called from the EXIT trap
cleanup() {
    if [[ -n $SNAPSHOT_PID ]]; then kill "$SNAPSHOT_PID" 2>/dev/null || true; fi
    if [[ -n $WORK ]]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

# Under the lock, anything half-written belongs to a run that was killed: remove it.
remove_debris() {
    local path base
    for path in "$BACKUP_DIR"/.work.*; do
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

stamp_epoch() {  # 20260102T030405Z -> seconds since the epoch
    local s=$1
    date -u -d "${s:0:4}-${s:4:2}-${s:6:2} ${s:9:2}:${s:11:2}:${s:13:2}" +%s
}

is_good() {  # a complete set whose files match their checksums
    local base=$1
    [[ -e $base.dump && -e $base.manifest.json && -e $base.sha256 ]] || return 1
    (cd "$BACKUP_DIR" && sha256sum --quiet --status --strict -c "$(basename "$base").sha256")
}

# Retention for one database and mode: delete sets older than RETENTION_DAYS, but keep at
# least RETENTION_MIN_KEEP good ones (and always the newest good one). Only sets whose
# checksums verify count as good.
prune_group() {
    local prefix=$1 now cutoff keep_min kept=0 path base stamp
    now=$(date -u +%s)
    cutoff=$((now - RETENTION_DAYS * 86400))
    keep_min=$((RETENTION_MIN_KEEP > 0 ? RETENTION_MIN_KEEP : 1))
    local dumps=()
    mapfile -t dumps < <(find "$BACKUP_DIR" -maxdepth 1 -type f -name "${prefix}_????????T??????Z.dump" -printf '%f\n' | sort -r)
    for path in "${dumps[@]}"; do
        base=$BACKUP_DIR/${path%.dump}
        stamp=${path%.dump}
        stamp=${stamp##*_}
        local expired=0
        (($(stamp_epoch "$stamp") < cutoff)) && expired=1
        if ((kept < keep_min)); then
            if is_good "$base"; then
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
WORK=$(mktemp -d "$BACKUP_DIR/.work.XXXXXX")

# -- connection: ops-db resolves the settings; a password only ever goes to $WORK/pgpass ----------
child "$OPS_DB" backup libpq-env --pgpass-file "$WORK/pgpass" >"$WORK/env" \
    || die "$EXIT_CONFIG" "cannot resolve the connection settings"
unset OPS_DB_URL DATABASE_URL
while IFS= read -r -d '' assignment; do
    [[ $assignment == PG*=* ]] && export "${assignment?}"
done <"$WORK/env"
export PGCONNECT_TIMEOUT=${PGCONNECT_TIMEOUT:-10}

DB_NAME=$(child psql -X -At --no-password -v ON_ERROR_STOP=1 -c 'SELECT current_database()') \
    || die "$EXIT_CONFIG" "cannot connect to the database"
DB_FILE=${DB_NAME//[^A-Za-z0-9_.-]/_}
PG_DUMP_VERSION=$(pg_dump --version)

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
while [[ -e $BACKUP_DIR/${DB_FILE}_${MODE}_$STAMP.dump ]]; do
    sleep 1
    STAMP=$(date -u +%Y%m%dT%H%M%SZ)
done
BASE=${DB_FILE}_${MODE}_$STAMP
started=$(date +%s)

# -- one snapshot for pg_dump and the manifest's row counts ----------------------------------
# psql reads its commands from us, so it ends (and the snapshot with it) when we do.
coproc SNAP { exec 9>&-; exec psql -X -q -At --no-password -v ON_ERROR_STOP=1; }
# bash unsets SNAP and SNAP_PID as soon as the coprocess ends: keep copies.
SNAPSHOT_PID=${SNAP_PID:-}
snap_in=${SNAP[1]:-}
snap_out=${SNAP[0]:-}
[[ -n $snap_in && -n $snap_out ]] || die "$EXIT_DUMP" "psql ended at once: cannot open a snapshot"
printf '%s\n' 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;' 'SELECT pg_export_snapshot();' >&"$snap_in"
SNAPSHOT=
IFS= read -r -t 60 -u "$snap_out" SNAPSHOT || true
[[ -n $SNAPSHOT ]] || die "$EXIT_DUMP" "could not open a snapshot for the dump"

DUMP_ARGS=(--format=custom --no-password --snapshot="$SNAPSHOT" --file="$WORK/dump")
MANIFEST_TABLES=()
case $MODE in
    # Not --schema-only: that would leave out TimescaleDB's catalog (hypertables would come
    # back as plain tables) and the migration bookkeeping. Only the rows of user tables go.
    schema) DUMP_ARGS+=(--exclude-table-data='trading.*' --exclude-table-data='_timescaledb_internal.*') ;;
    data)
        DUMP_ARGS+=(--data-only --strict-names)
        for table in "${TABLES[@]}"; do
            DUMP_ARGS+=(--table="$table")
            MANIFEST_TABLES+=(--table "$table")
        done
        # A hypertable's rows live in its chunks; list them in the same snapshot. The names
        # were checked above to be plain lower-case identifiers, safe inside a literal.
        printf '%s\n' "SELECT c.chunk_schema || '.' || c.chunk_name FROM timescaledb_information.chunks c" \
            " WHERE c.hypertable_schema || '.' || c.hypertable_name = ANY (string_to_array('${TABLES[*]}', ' '));" \
            "SELECT '--end--';" >&"$snap_in"
        listed=0
        while IFS= read -r -t 60 -u "$snap_out" chunk; do
            if [[ $chunk == --end-- ]]; then
                listed=1
                break
            fi
            DUMP_ARGS+=(--table="$chunk")
        done
        ((listed)) || die "$EXIT_DUMP" "could not list the chunks of ${TABLES[*]}"
        ;;
esac

if ! child pg_dump "${DUMP_ARGS[@]}" 2>"$WORK/pg_dump.log"; then
    tail -n 5 "$WORK/pg_dump.log" >&2
    die "$EXIT_DUMP" "pg_dump failed; no backup written"
fi

# -- read it back before it gets its real name -------------------------------------------------
if ! child pg_restore --list "$WORK/dump" >"$WORK/list" 2>"$WORK/list.log" || ! grep -q '^; Archive created at' "$WORK/list"; then
    tail -n 5 "$WORK/list.log" >&2
    die "$EXIT_VERIFY" "pg_restore --list cannot read the dump; no backup written"
fi
if ! child "$OPS_DB" backup manifest --dump "$WORK/dump" --output "$WORK/manifest" --name "$BASE.dump" \
    --mode "$MODE" --pg-dump-version "$PG_DUMP_VERSION" --snapshot "$SNAPSHOT" "${MANIFEST_TABLES[@]}"; then
    die "$EXIT_VERIFY" "could not write the manifest; no backup written"
fi
exec {snap_in}>&-
wait "$SNAPSHOT_PID" 2>/dev/null || true
SNAPSHOT_PID=

{
    printf '%s  %s\n' "$(sha256sum <"$WORK/dump" | cut -d' ' -f1)" "$BASE.dump"
    printf '%s  %s\n' "$(sha256sum <"$WORK/manifest" | cut -d' ' -f1)" "$BASE.manifest.json"
} >"$WORK/sha256"
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
    command -v aws >/dev/null || die "$EXIT_UPLOAD" "S3_BUCKET is set but the aws command is not installed"
    dest="s3://$S3_BUCKET/${S3_PREFIX:+${S3_PREFIX%/}/}"
    for suffix in dump manifest.json sha256; do
        if ! child aws s3 cp --only-show-errors "$BACKUP_DIR/$BASE.$suffix" "$dest$BASE.$suffix" </dev/null; then
            die "$EXIT_UPLOAD" "upload of $BASE.$suffix to $dest failed (the local backup is complete)"
        fi
    done
    say "uploaded to $dest"
fi

prune_group "${DB_FILE}_${MODE}"
exit 0
