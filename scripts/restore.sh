#!/usr/bin/env bash
# Restore an ops-db backup made by scripts/backup.sh into a freshly created database.
# Usage and exit codes: scripts/restore.sh --help; runbook: docs/operations.md.
set -Eeuo pipefail
umask 077

readonly EXIT_USAGE=2 EXIT_CONFIG=3 EXIT_LOCKED=10 EXIT_CLONE_DUMP=11
readonly EXIT_CHECKSUM=20 EXIT_NOT_EMPTY=21 EXIT_VERIFY=25

usage() {
    cat <<'EOF'
Usage: scripts/restore.sh [--force] full FILE [TARGET_DB]
       scripts/restore.sh [--force] schema FILE [TARGET_DB]
       scripts/restore.sh [--force] clone SOURCE_DB TARGET_DB

  full     restore schema and data of FILE (a .dump made by backup.sh)
  schema   restore only the schema of FILE
  clone    back up SOURCE_DB (backup.sh full, into a temporary directory) and restore it as TARGET_DB
  --force  replace a TARGET_DB that already holds tables

TARGET_DB defaults to the configured database (PGDATABASE after resolving the settings).

Steps: the .sha256 of FILE and its manifest is checked first; the server must offer the
TimescaleDB version (and edition) the manifest names; the dump is restored into a new
database <target>__restoring_<pid> between timescaledb_pre_restore() and
timescaledb_post_restore() (the latter also when pg_restore fails); its row counts are
compared with the manifest; only then is it renamed to TARGET_DB (an existing TARGET_DB
is dropped at that moment, with --force); last, `ops-db verify` runs against TARGET_DB.

Connection: as for ops-db (OPS_DB_URL, DATABASE_URL, PG*, local cluster); a password goes
to a temporary 0600 passfile, never on a command line. The role needs CREATEDB and must be
able to create the timescaledb extension (normally a superuser); the roles ops_owner,
ops_app and ops_readonly must exist on the target server (pg_dumpall --roles-only).

Environment: OPS_DB_BIN (the ops-db command), RESTORE_LOCK_DIR (default /tmp),
OPS_DB_ADMIN_DB (database used for CREATE/DROP DATABASE, default postgres).

Exit codes:
  0   restored, matches the manifest, ops-db verify passed
  1   unexpected failure
  2   usage error
  3   configuration error: ops-db missing, no database configured, cannot connect
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
ARGS=()
for arg in "$@"; do
    case $arg in
        -h | --help) usage; exit 0 ;;
        --force) FORCE=1 ;;
        -*) die "$EXIT_USAGE" "unknown option $arg (see --help)" ;;
        *) ARGS+=("$arg") ;;
    esac
done
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

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ops-db-restore.XXXXXX")
TMP_DB=
PROMOTED=0
# shellcheck disable=SC2317  # called from the EXIT trap
cleanup() {
    # ops-db drops the new database itself when pg_restore or the comparison fails; this
    # catches the rest (e.g. interrupted between the comparison and the rename).
    if [[ -n $TMP_DB && $PROMOTED -eq 0 ]]; then
        # psql interpolates :"db" (quoted as an identifier) in its input, not in -c.
        PGDATABASE=${OPS_DB_ADMIN_DB:-postgres} psql -X -q --no-password -v ON_ERROR_STOP=1 -v db="$TMP_DB" \
            <<<'DROP DATABASE IF EXISTS :"db" WITH (FORCE);' >/dev/null 2>&1 || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# -- connection: ops-db resolves the settings; a password only ever goes to $WORK/pgpass ----------
"$OPS_DB" backup libpq-env --pgpass-file "$WORK/pgpass" >"$WORK/env" \
    || die "$EXIT_CONFIG" "cannot resolve the connection settings"
unset OPS_DB_URL DATABASE_URL
while IFS= read -r -d '' assignment; do
    [[ $assignment == PG*=* ]] && export "${assignment?}"
done <"$WORK/env"
export PGCONNECT_TIMEOUT=${PGCONNECT_TIMEOUT:-10}

TARGET=${TARGET:-${PGDATABASE:-}}
[[ -n $TARGET ]] || die "$EXIT_USAGE" "name TARGET_DB (no database is configured to default to)"
[[ $TARGET =~ ^[A-Za-z_][A-Za-z0-9_-]{0,40}$ ]] \
    || die "$EXIT_USAGE" "TARGET_DB '$TARGET': use letters, digits, _ and - (at most 41 characters)"

# -- one restore per target at a time ------------------------------------------------------
LOCK_FILE=${RESTORE_LOCK_DIR:-/tmp}/ops-db-restore.$TARGET.lock
exec 9>>"$LOCK_FILE" || die "$EXIT_CONFIG" "cannot open lock file $LOCK_FILE"
flock --nonblock 9 || die "$EXIT_LOCKED" "another restore into $TARGET is running (lock $LOCK_FILE)"

if [[ $MODE == clone ]]; then
    say "backing up $SOURCE_DB"
    if ! PGDATABASE=$SOURCE_DB BACKUP_DIR=$WORK/clone BACKUP_LOCK_FILE=$WORK/clone.lock S3_BUCKET='' \
        RETENTION_MIN_KEEP=1 OPS_DB_BIN=$OPS_DB "$SCRIPT_DIR/backup.sh" full 9>&-; then
        die "$EXIT_CLONE_DUMP" "clone: the backup of $SOURCE_DB failed"
    fi
    FILE=$(find "$WORK/clone" -maxdepth 1 -name '*_full_*.dump' | head -n 1)
    MODE=full
fi

# -- the checksum first: a corrupt or incomplete backup touches nothing ---------------------------
[[ $FILE == *.dump ]] || die "$EXIT_USAGE" "FILE must be a .dump made by backup.sh"
[[ -f $FILE ]] || die "$EXIT_CHECKSUM" "$FILE does not exist"
DIR=$(cd "$(dirname "$FILE")" && pwd)
BASE=$(basename "$FILE" .dump)
FILE=$DIR/$BASE.dump
for suffix in sha256 manifest.json; do
    [[ -f $DIR/$BASE.$suffix ]] || die "$EXIT_CHECKSUM" "$BASE.$suffix is missing: the backup is incomplete"
done
if ! (cd "$DIR" && sha256sum --quiet --strict -c "$BASE.sha256" >&2); then
    die "$EXIT_CHECKSUM" "$BASE does not match its checksums: corrupt backup refused, nothing touched"
fi
say "checksums of $BASE verified"

# -- the target must be new or empty, unless --force ----------------------------------------------
STATE=$("$OPS_DB" backup target-state "$TARGET") || die "$EXIT_CONFIG" "cannot inspect the target $TARGET"
if [[ $STATE == not-empty && $FORCE -eq 0 ]]; then
    die "$EXIT_NOT_EMPTY" "database $TARGET already holds tables: pass --force to replace it (nothing touched)"
fi

# -- restore into a new database, compare, then put it in place --------------------------------
TMP_DB=${TARGET}__restoring_$$
RESTORE_ARGS=(--database "$TMP_DB")
[[ $MODE == schema ]] && RESTORE_ARGS+=(--schema-only)
say "restoring into new database $TMP_DB"
"$OPS_DB" backup restore-db "$FILE" "${RESTORE_ARGS[@]}" 9>&- || exit $?

PROMOTE_ARGS=()
[[ $STATE != absent ]] && PROMOTE_ARGS+=(--replace)
"$OPS_DB" backup promote "$TMP_DB" "$TARGET" "${PROMOTE_ARGS[@]}" || exit $?
PROMOTED=1
say "database $TARGET restored from $BASE"

if ! PGDATABASE=$TARGET "$OPS_DB" verify; then
    die "$EXIT_VERIFY" "$TARGET is restored, but ops-db verify reports problems (pending migrations: ops-db migrate)"
fi
exit 0
