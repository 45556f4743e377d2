#!/usr/bin/env bash
# Cron-safe point-in-time recovery with pgBackRest: stanza, backups, verify, restore to a time.
# Usage and exit codes: scripts/pitr.sh --help; runbook: docs/deployment.md.
set -Eeuo pipefail
umask 027

# The names and numbers of ops-db's one exit-code table (ops_db.core.errors.ExitCode).
readonly EXIT_USAGE=2 EXIT_CONFIG=3 EXIT_LOCKED=10 EXIT_DUMP_FAILED=11 EXIT_CHECKSUM_MISMATCH=20 EXIT_TARGET_NOT_EMPTY=21
readonly EXIT_RESTORE_FAILED=23

usage() {
    cat <<'EOF'
Usage: scripts/pitr.sh setup | full | diff | incr | check | verify | info
       scripts/pitr.sh restore TIME NEW_DATA_DIR [PORT]

  setup    stanza-create (harmless when it exists), then check
  full     a full backup              (cron: weekly)
  diff     a differential backup      (cron: daily; the first one is promoted to full)
  incr     an incremental backup
  check    force a WAL switch on the server and wait for it in the repository (pgbackrest check)
  verify   pgbackrest verify, whose output is read: fails (20) when it names an invalid file,
           though pgbackrest itself exits 0 then (cron: weekly)
  info     pgbackrest info
  restore  restore the backup set before TIME, replay archived WAL up to TIME, into
           NEW_DATA_DIR (must not exist or be empty), and start it promoted on 127.0.0.1:PORT
           (default: the configured port + 1), its socket in NEW_DATA_DIR. Archiving is off
           in the copy (--archive-mode=off): it never pushes WAL into the original's stanza.
           TIME is what PostgreSQL reads, with a zone: '2026-01-02 03:04:05+00'.

A time target needs a commit after it in the archived WAL: take `check` (it switches WAL)
after the time you may restore to, or rely on archive_timeout on a busy server.

Environment:
  PGBACKREST_CONFIG  the pgbackrest.conf to use (required: written by `ops-db pitr configure`;
                     the package's /etc/pgbackrest.conf is never read)
  PITR_STANZA        the stanza (default ops-db)
  PITR_LOCK_FILE     overlap lock (default: beside the config, .pitr-<stanza>.lock)
  PITR_RUN_AS        the OS user pgBackRest and PostgreSQL run as (default: owner of pg1-path)
  PITR_RESTORE_TIMEOUT  seconds to wait for the restored server to be promoted (default 600)
  PG_BINDIR          PostgreSQL's binaries (default /usr/lib/postgresql/15/bin)

Exit codes:
  0   done
  1   unexpected failure
  2   usage error
  3   configuration error: pgbackrest missing, no or unreadable config, unknown user; setup or
      check failed (the stanza cannot be created, or WAL does not reach the repository)
  10  another pitr.sh run on this stanza holds the lock: nothing was touched
  11  the backup failed: no new backup
  20  verify reported invalid or missing files (checksums) in the repository
  21  restore: NEW_DATA_DIR is not empty; nothing touched
  23  restore failed (the new data directory is left for inspection)
EOF
}

PROG=pitr.sh
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[[ $# -ge 1 ]] || { usage >&2; exit "$EXIT_USAGE"; }
MODE=$1
shift
case $MODE in
    -h | --help) usage; exit 0 ;;
    setup | full | diff | incr | check | verify | info)
        [[ $# -eq 0 ]] || die "$EXIT_USAGE" "$MODE takes no arguments (see --help)" ;;
    restore)
        [[ $# -ge 2 && $# -le 3 ]] || die "$EXIT_USAGE" "restore needs TIME NEW_DATA_DIR [PORT] (see --help)" ;;
    *) die "$EXIT_USAGE" "unknown mode '$MODE' (see --help)" ;;
esac

CONFIG=${PGBACKREST_CONFIG:-}
STANZA=${PITR_STANZA:-ops-db}
PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
[[ -n $CONFIG ]] || die "$EXIT_CONFIG" "set PGBACKREST_CONFIG to the pgbackrest.conf to use (ops-db pitr configure)"
[[ -r $CONFIG ]] || die "$EXIT_CONFIG" "cannot read $CONFIG"
CONFIG=$(cd -- "$(dirname -- "$CONFIG")" && pwd)/$(basename -- "$CONFIG")
[[ $STANZA =~ ^[A-Za-z0-9._-]+$ ]] || die "$EXIT_CONFIG" "PITR_STANZA '$STANZA': letters, digits, . _ - only"
PGBACKREST=$(command -v pgbackrest) || die "$EXIT_CONFIG" "pgbackrest is not installed (make ha-tools)"

conf_value() {  # the value of KEY in CONFIG (first match, any section)
    sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" "$CONFIG" | head -n 1
}
PG_PATH=$(conf_value pg1-path)
PG_PORT=$(conf_value pg1-port)
PG_PORT=${PG_PORT:-5432}
[[ -n $PG_PATH ]] || die "$EXIT_CONFIG" "$CONFIG names no pg1-path"

RUN_AS=${PITR_RUN_AS:-}
if [[ -z $RUN_AS ]]; then
    RUN_AS=$(stat -c %U -- "$PG_PATH" 2>/dev/null) || RUN_AS=$(id -un)
fi
id -u -- "$RUN_AS" >/dev/null 2>&1 || die "$EXIT_CONFIG" "unknown user '$RUN_AS' (PITR_RUN_AS)"
SETPRIV=$(command -v setpriv || true)
# Runs a command as RUN_AS (PostgreSQL refuses root; pgBackRest must own what it writes), without
# the lock's descriptor, dying with this script.
as_server() {
    if [[ $(id -un) == "$RUN_AS" ]]; then
        env -u PGPASSWORD "$@" 9>&-
    elif [[ -n $SETPRIV ]]; then
        "$SETPRIV" --reuid="$RUN_AS" --regid="$(id -g -- "$RUN_AS")" --clear-groups --pdeathsig KILL -- \
            env -u PGPASSWORD HOME=/tmp "$@" 9>&-
    else
        runuser -u "$RUN_AS" -- env -u PGPASSWORD HOME=/tmp "$@" 9>&-
    fi
}
pgbr() { as_server "$PGBACKREST" "--config=$CONFIG" "--stanza=$STANZA" "$@"; }

# -- the overlap lock ----------------------------------------------------------------------------
LOCK_FILE=${PITR_LOCK_FILE:-$(dirname -- "$CONFIG")/.pitr-$STANZA.lock}
{ exec 9>>"$LOCK_FILE"; } 2>/dev/null || die "$EXIT_CONFIG" "cannot open lock file $LOCK_FILE"
flock --nonblock 9 || die "$EXIT_LOCKED" "another pitr.sh run holds $LOCK_FILE; nothing done"

started=$(date +%s)
elapsed() { printf '%ss' "$(($(date +%s) - started))"; }

case $MODE in
    setup)
        pgbr stanza-create >/dev/null || die "$EXIT_CONFIG" "stanza-create failed (see the log-path of $CONFIG)"
        pgbr check >/dev/null || die "$EXIT_CONFIG" "check failed: WAL does not reach the repository"
        say "ok: stanza $STANZA ready, WAL archiving checked ($(elapsed))"
        ;;
    full | diff | incr)
        pgbr backup "--type=$MODE" >/dev/null || die "$EXIT_DUMP_FAILED" "$MODE backup failed (see the log-path of $CONFIG)"
        label=$(pgbr info | awk '/backup:/ {l=$NF} END {print l}')
        say "ok: $MODE backup ${label:-written} ($(elapsed))"
        ;;
    check)
        pgbr check >/dev/null || die "$EXIT_CONFIG" "check failed: WAL does not reach the repository"
        say "ok: WAL switched and archived ($(elapsed))"
        ;;
    info)
        pgbr info
        ;;
    verify)
        out=$(pgbr verify --log-level-console=info 2>&1) || die "$EXIT_CHECKSUM_MISMATCH" "verify failed: $(tail -n 3 <<<"$out")"
        # pgbackrest verify exits 0 even when it finds invalid files ("status: error", "checksum invalid: 1"):
        # its words are the result. The "command begin" line only echoes the options.
        findings=$(grep -v 'command begin' <<<"$out" \
            | grep -Ei 'status: (error|invalid)|invalid|missing|checksum|ERROR:|WARN:' || true)
        if [[ -n $findings ]]; then
            head -n 20 <<<"$findings" >&2
            die "$EXIT_CHECKSUM_MISMATCH" "verify reported problems in the repository of stanza $STANZA"
        fi
        say "ok: verify found no invalid file ($(elapsed))"
        ;;
    restore)
        TARGET=$1
        NEW_DIR=$2
        PORT=${3:-$((PG_PORT + 1))}
        if ! [[ $PORT =~ ^[0-9]+$ ]] || ((PORT < 1 || PORT > 65535)); then
            die "$EXIT_USAGE" "PORT '$PORT' is not a port"
        fi
        [[ $TARGET =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}[T\ ][0-9:.]+([+-][0-9:]+|Z|\ UTC)?$ ]] \
            || die "$EXIT_USAGE" "TIME '$TARGET': give e.g. '2026-01-02 03:04:05+00'"
        if [[ -e $NEW_DIR ]] && [[ -n $(ls -A -- "$NEW_DIR") ]]; then
            die "$EXIT_TARGET_NOT_EMPTY" "NEW_DATA_DIR $NEW_DIR is not empty: restore goes into a new directory"
        fi
        [[ $NEW_DIR != "$PG_PATH" ]] || die "$EXIT_USAGE" "NEW_DATA_DIR is the configured server's own pg1-path"
        mkdir -p -- "$NEW_DIR"
        NEW_DIR=$(cd -- "$NEW_DIR" && pwd)
        chown "$RUN_AS:" "$NEW_DIR" 2>/dev/null || true
        chmod 700 "$NEW_DIR"
        # --archive-mode=off: the copy must not push its WAL into the original's stanza.
        pgbr restore --pg1-path="$NEW_DIR" --type=time "--target=$TARGET" --target-action=promote \
            --archive-mode=off --log-level-console=warn >/dev/null \
            || die "$EXIT_RESTORE_FAILED" "pgbackrest restore failed (see the log-path of $CONFIG)"
        # Its own port and socket (the copied configuration names the original's): last in postgresql.auto.conf.
        printf '%s\n' "# written by pitr.sh restore" "port = $PORT" "unix_socket_directories = '$NEW_DIR'" \
            "listen_addresses = '127.0.0.1'" >>"$NEW_DIR/postgresql.auto.conf"
        rm -f -- "$NEW_DIR/postmaster.pid"
        LOG=$NEW_DIR/restore.log
        as_server "$PG_BINDIR/pg_ctl" start -D "$NEW_DIR" -l "$LOG" -w -t 300 >/dev/null \
            || die "$EXIT_RESTORE_FAILED" "the restored server did not start (see $LOG)"
        deadline=$(($(date +%s) + ${PITR_RESTORE_TIMEOUT:-600}))
        while :; do
            state=$(as_server "$PG_BINDIR/psql" -X -A -t -h "$NEW_DIR" -p "$PORT" -U postgres -d postgres \
                -c 'SELECT pg_is_in_recovery()' 2>/dev/null || true)
            [[ $state == f ]] && break
            (($(date +%s) < deadline)) || die "$EXIT_RESTORE_FAILED" "not promoted within ${PITR_RESTORE_TIMEOUT:-600}s (see $LOG)"
            sleep 0.5
        done
        say "ok: restored to $TARGET in $NEW_DIR, promoted, host=$NEW_DIR port=$PORT ($(elapsed))"
        ;;
esac
exit 0
