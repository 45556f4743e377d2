#!/usr/bin/env bash
# Restore an ops-db backup made by scripts/backup.sh into a freshly created database.
# Usage and exit codes: scripts/restore.sh --help; runbook: docs/operations.md.
set -Eeuo pipefail
umask 077

# The exit codes: names and numbers of ops_db.core.errors.ExitCode (tests/test_exit_codes.py holds them
# equal); the others (--help) come from ops-db backup restore.
readonly EXIT_USAGE=2 EXIT_CONFIG=3 EXIT_DUMP_FAILED=11

usage() {
    cat <<'EOF'
Usage: scripts/restore.sh [--force] [-j N] full FILE [TARGET_DB]
       scripts/restore.sh [--force] [-j N] schema FILE [TARGET_DB]
       scripts/restore.sh [--force] [-j N] clone SOURCE_DB TARGET_DB

  full     restore schema and data of FILE (a .dump made by backup.sh)
  schema   restore only the schema of FILE
  clone    back up SOURCE_DB (backup.sh full, into a temporary directory) and restore it as TARGET_DB
  --force  replace a TARGET_DB that already holds tables
  -j N, --jobs N
           restore with N parallel pg_restore jobs (1 to 32; default RESTORE_JOBS, else 2).
           A plain `pg_restore -j N` of these dumps fails on TimescaleDB's catalog (its
           tables keep their foreign keys, e.g. chunk_index -> chunk) and leaves hypertables
           without chunks; restore.sh runs pre-data and the catalog's rows single-job first,
           then the other rows and the indexes and constraints with N jobs. -j 1: one
           single-job pg_restore.

TARGET_DB defaults to the configured database (PGDATABASE after resolving the settings).

Steps: the .sha256 of FILE and its manifest is checked first; the server must offer the
TimescaleDB version (and edition) the manifest names; the dump is restored into a new
database <target>__restoring_<pid> between timescaledb_pre_restore() and
timescaledb_post_restore() (the latter also when pg_restore fails); its row counts are
compared with the manifest; only then is it renamed to TARGET_DB (an existing TARGET_DB
is dropped at that moment, with --force); last, `ops-db verify` runs against TARGET_DB.

Connection: as for ops-db (OPS_DB_URL, DATABASE_URL, PG*, local cluster); a password goes
to pg_restore as PGPASSWORD in its own environment, never on a command line nor in a file. The role needs CREATEDB and must be
able to create the timescaledb extension (normally a superuser); the roles ops_owner,
ops_app and ops_readonly must exist on the target server (pg_dumpall --roles-only).

Environment: OPS_DB_BIN (the ops-db command), RESTORE_JOBS (default for -j, 2),
RESTORE_LOCK_DIR (default /tmp), OPS_DB_ADMIN_DB (database used for CREATE/DROP DATABASE,
default postgres).

Exit codes:
  0   restored, matches the manifest, ops-db verify passed
  1   unexpected failure
  2   usage error
  3   configuration error: ops-db missing, no database configured, a bad setting
  8   the database cannot be reached (libpq's reason is printed)
  10  another restore into the same target is running
  11  clone: the backup of SOURCE_DB failed
  20  checksum missing or wrong: the backup is incomplete or corrupt; nothing was touched
  21  TARGET_DB already holds tables and --force was not given; nothing was touched
  22  the server lacks the TimescaleDB version or edition of the backup; nothing was touched
  23  pg_restore failed; the partial database was dropped, TARGET_DB untouched
  24  row counts differ from the manifest; the restored copy was dropped, TARGET_DB untouched
  25  restored in place, but `ops-db verify` reports problems (e.g. run ops-db migrate)
EOF
}

PROG=restore.sh
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"


# -- arguments ---------------------------------------------------------------------------
FORCE=0
# Two jobs by default: the rows of the chunks load and their indexes build side by side; the
# parallel passes keep TimescaleDB's catalog single-job (see --help).
JOBS=${RESTORE_JOBS:-2}
ARGS=()
while [[ $# -gt 0 ]]; do
    case $1 in
        -h | --help) usage; exit 0 ;;
        --force) FORCE=1 ;;
        -j | --jobs)
            [[ $# -ge 2 ]] || die "$EXIT_USAGE" "$1 needs a number of jobs"
            JOBS=$2
            shift
            ;;
        -j* | --jobs=*) JOBS=${1#--jobs=}; JOBS=${JOBS#-j} ;;
        -*) die "$EXIT_USAGE" "unknown option $1 (see --help)" ;;
        *) ARGS+=("$1") ;;
    esac
    shift
done
[[ $JOBS =~ ^[1-9][0-9]?$ && $JOBS -le 32 ]] || die "$EXIT_USAGE" "--jobs (or RESTORE_JOBS) '$JOBS': give 1 to 32 parallel jobs"
[[ ${#ARGS[@]} -ge 2 ]] || { usage >&2; exit "$EXIT_USAGE"; }
MODE=${ARGS[0]}
FILE=
SOURCE_DB=
TARGET=
case $MODE in
    full | schema)
        [[ ${#ARGS[@]} -le 3 ]] || die "$EXIT_USAGE" "$MODE takes FILE [TARGET_DB]"
        FILE=${ARGS[1]}
        TARGET=${ARGS[2]:-}
        ;;
    clone)
        [[ ${#ARGS[@]} -eq 3 ]] || die "$EXIT_USAGE" "clone takes SOURCE_DB TARGET_DB"
        SOURCE_DB=${ARGS[1]}
        TARGET=${ARGS[2]}
        [[ $SOURCE_DB != "$TARGET" ]] || die "$EXIT_USAGE" "clone: SOURCE_DB and TARGET_DB are the same"
        ;;
    *) die "$EXIT_USAGE" "unknown mode '$MODE' (full, schema, clone; see --help)" ;;
esac

OPS_DB=$(find_ops_db) || die "$EXIT_CONFIG" "ops-db not found: run 'make install' or set OPS_DB_BIN"

[[ -z $TARGET || $TARGET =~ ^[A-Za-z_][A-Za-z0-9_-]{0,40}$ ]] \
    || die "$EXIT_USAGE" "TARGET_DB '$TARGET': use letters, digits, _ and - (at most 41 characters)"
RESTORE_ARGS=()
[[ $FORCE -eq 1 ]] && RESTORE_ARGS+=(--force)
RESTORE_ARGS+=(--jobs "$JOBS")

# -- everything else is one ops-db process: ops-db backup restore ------------------------------
# It resolves the connection (a password only ever reaches pg_restore's environment), takes the
# per-target lock, checks the checksums, the target and the server's TimescaleDB, restores
# into a new database, compares it with the manifest, puts it in place and runs verify,
# exiting with the codes above. Stopped (SIGTERM/SIGINT), it drops the half-restored copy.
if [[ $MODE != clone ]]; then
    [[ $MODE == schema ]] && RESTORE_ARGS+=(--schema-only)
    exec "$OPS_DB" backup restore "$FILE" ${TARGET:+"$TARGET"} "${RESTORE_ARGS[@]}"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ops-db-restore.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
say "backing up $SOURCE_DB"
# The source database on the configured server, instead of the configured database.
if ! OPS_DB_BACKUP_DATABASE=$SOURCE_DB BACKUP_DIR=$WORK/clone BACKUP_LOCK_FILE=$WORK/clone.lock S3_BUCKET='' \
    RETENTION_MIN_KEEP=1 OPS_DB_BIN=$OPS_DB "$SCRIPT_DIR/backup.sh" full; then
    die "$EXIT_DUMP_FAILED" "clone: the backup of $SOURCE_DB failed"
fi
FILE=$(find "$WORK/clone" -maxdepth 1 -name '*_full_*.dump' | head -n 1)
"$OPS_DB" backup restore "$FILE" "$TARGET" "${RESTORE_ARGS[@]}" || exit $?
