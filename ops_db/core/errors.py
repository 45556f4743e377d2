"""Every exception ops_db raises, and every exit code of its commands: one place, one meaning each.

The database enforces the invariants (constraints, the order state machine, the append-only
audit trail); Python only reports them. ``ops_db.core.error_map`` turns a psycopg error into
one of these, raised ``from`` the original so the cause stays visible.

Exit codes: `ExitCode` is the one table of every ``ops-db`` command and of scripts/backup.sh
and scripts/restore.sh (their ``readonly EXIT_*=`` tables use the same names and numbers).
Each number has one meaning. Every exception's ``exit_code`` is one of them; a specific code
(anything but FAILURE) is assigned by exactly one class here, and the classes that share its
meaning derive from that class (``Locked``: maintain's, a restore's, a backup's and the
migrations' lock). ``ops-db health`` alone speaks the Nagios plugin protocol instead:
`NagiosStatus` (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN, usage errors included).
"""

from __future__ import annotations

import enum
from typing import ClassVar


class ExitCode(enum.IntEnum):
    """What an ops-db command or script exits with (docs/operations.md#exit-codes)."""

    OK = 0
    FAILURE = 1  # the command failed; its one line says why (unexpected errors too)
    USAGE = 2  # called wrongly: unknown option, bad argument, a confirmation (--yes) missing
    CONFIG = 3  # no database configured, a setting with a bad value, a program it needs missing
    BACKUP_DIR = 4  # backup.sh: BACKUP_DIR (or its lock file) cannot be created or written
    VERIFY_FAILED = 5  # verify/status: migrations, sql/schema files or the catalog differ
    ROLLBACK_REFUSED = 6  # rollback: more steps than applied, or the foundation without --all
    KILL_SWITCH_BLOCKED = 7  # kill-switch on|off waited its bound behind open transactions
    DATABASE_UNAVAILABLE = 8  # the server cannot be reached or refused the connection
    NOT_RUNNING = 9  # db status / db url: the local cluster is not running
    LOCKED = 10  # another run holds this operation's lock (maintain, backup, restore, migrate); nothing done
    DUMP_FAILED = 11  # pg_dump failed (restore.sh clone: the backup of the source); no backup written
    DUMP_UNREADABLE = 12  # the new dump does not read back (pg_restore --list) or its manifest failed
    UPLOAD_FAILED = 13  # backup.sh: the copy to S3 failed; the local backup is complete
    CHECKSUM_MISMATCH = 20  # restore/verify: checksum missing or wrong; nothing touched
    TARGET_NOT_EMPTY = 21  # restore: the target holds tables and no --force; nothing touched
    VERSION_MISMATCH = 22  # restore/verify: the server lacks the backup's TimescaleDB version or edition
    RESTORE_FAILED = 23  # pg_restore failed; the new database was dropped, the target untouched
    COUNT_MISMATCH = 24  # restored rows differ from the manifest; the copy was dropped
    RESTORED_UNVERIFIED = 25  # restored in place, but ops-db verify reports problems
    INTERRUPTED = 130  # Ctrl-C (SIGINT), as shells report it
    TERMINATED = 143  # SIGTERM during a restore (its half-restored copy is dropped first)


class NagiosStatus(enum.IntEnum):
    """``ops-db health`` exits with the Nagios plugin codes, its documented protocol; no other
    command uses these (a usage error of health is UNKNOWN, not USAGE)."""

    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3

    @property
    def severity(self) -> int:
        """Order for "worst": UNKNOWN ranks between OK and WARNING."""
        return {NagiosStatus.OK: 0, NagiosStatus.UNKNOWN: 1, NagiosStatus.WARNING: 2, NagiosStatus.CRITICAL: 3}[self]


class OpsDbError(Exception):
    """Base of every error ops_db raises. ``exit_code`` is what the CLI exits with."""

    exit_code: ClassVar[ExitCode] = ExitCode.FAILURE


class UsageError(OpsDbError):
    """A command called in a way it cannot run (the same code as click's usage errors)."""

    exit_code = ExitCode.USAGE


class ConfigurationError(OpsDbError):
    """No usable connection settings, or a setting with a bad value."""

    exit_code = ExitCode.CONFIG


class ReadOnlyServer(ConfigurationError):
    """A command that changes the database was pointed at a standby (in recovery) or a read-only
    server; it refused before doing anything."""


class DatabaseUnavailable(OpsDbError):
    """The server cannot be reached or refused the connection."""

    exit_code = ExitCode.DATABASE_UNAVAILABLE


class StandbyConnection(DatabaseUnavailable):
    """A writer pool met a server in recovery or read-only (a standby, a demoted primary): the
    pool drops the connection and connects again, to the host that takes writes."""


class Locked(OpsDbError):
    """Another run of the same operation holds its lock; nothing was done."""

    exit_code = ExitCode.LOCKED


class ClusterError(OpsDbError):
    """The local cluster could not be created, started or stopped."""


class MigrationError(OpsDbError):
    """A migration failed; nothing of it was applied or recorded."""


class MigrationLockTimeout(MigrationError, Locked):
    """Another migration run held the lock for longer than the wait allowed."""


class MigrationBlocked(MigrationError):
    """A migration kept timing out on a lock held by another session until the retry deadline."""


class RollbackRefused(MigrationError):
    """A rollback that would undo more than is applied, or the foundation without --all."""

    exit_code = ExitCode.ROLLBACK_REFUSED


class VerificationFailed(OpsDbError):
    """Applied migrations differ from the files, are missing, or some are pending."""

    exit_code = ExitCode.VERIFY_FAILED


class ReferenceUnavailable(OpsDbError):
    """The reference schema could not be built, so the catalog was not compared (exit 1)."""


class PermissionDenied(OpsDbError):
    """The connected role may not do this."""


class ValidationError(OpsDbError):
    """Input refused, by Python before sending or by a database constraint; nothing written."""


class NotFound(OpsDbError):
    """The requested row does not exist."""


class OrderNotFound(NotFound):
    """No order with that id, client order id or broker order id."""


class InvalidTransition(OpsDbError):
    """The order state machine refused a change of status."""


class DuplicateOrder(OpsDbError):
    """An order with that client order id already exists."""


class Overfill(OpsDbError):
    """A fill would take an order past its quantity."""


class KillSwitchActive(OpsDbError):
    """Trading is halted by the kill switch."""


class SelfApproval(PermissionDenied):
    """Four eyes: an order that needs approval cannot be approved by the user who staged it."""


class KillSwitchBlocked(OpsDbError):
    """The halt waited its bound (10 s) behind open transactions that staged or submitted orders."""

    exit_code = ExitCode.KILL_SWITCH_BLOCKED


class MaintainLocked(Locked):
    """Another `ops-db maintain` holds the lock on this database."""


class MaintainFailed(OpsDbError):
    """At least one maintenance step failed (the others ran; see the report)."""


class BackupError(OpsDbError):
    """A backup could not be made, verified or restored."""


class DumpFailed(BackupError):
    """pg_dump failed: no backup was written."""

    exit_code = ExitCode.DUMP_FAILED


class DumpUnreadable(BackupError):
    """pg_restore --list cannot read the new dump back: no backup was written."""

    exit_code = ExitCode.DUMP_UNREADABLE


class ChecksumMismatch(BackupError):
    """The dump or its manifest is missing, or differs from its recorded sha256."""

    exit_code = ExitCode.CHECKSUM_MISMATCH


class TargetNotEmpty(BackupError):
    """The restore target already holds tables (use --force to replace it)."""

    exit_code = ExitCode.TARGET_NOT_EMPTY


class VersionMismatch(BackupError):
    """The server cannot create the TimescaleDB version or edition the backup needs."""

    exit_code = ExitCode.VERSION_MISMATCH


class RestoreFailed(BackupError):
    """pg_restore failed; the partly restored database was dropped."""

    exit_code = ExitCode.RESTORE_FAILED


class CountMismatch(BackupError):
    """The restored database does not hold the rows the manifest recorded."""

    exit_code = ExitCode.COUNT_MISMATCH


class RestoreLocked(BackupError, Locked):
    """Another restore into the same target database is running."""


class RestoreUsageError(BackupError, UsageError):
    """Not a restore that can be asked for: no usable target name, or not a backup.sh dump."""


class RestoredUnverified(BackupError):
    """Restored and in place, but `ops-db verify` reports problems (e.g. pending migrations)."""

    exit_code = ExitCode.RESTORED_UNVERIFIED


class RetryableConflict(OpsDbError):
    """A deadlock, a serialization failure or a lock not obtained: nothing was written, and the
    same call may simply be tried again (``retryable`` says so to generic retry loops)."""

    retryable: ClassVar[bool] = True


# SQLSTATEs raised by our own PL/pgSQL (RAISE ... USING ERRCODE = 'OPS01').
SQLSTATE_INVALID_TRANSITION = "OPS01"
SQLSTATE_OVERFILL = "OPS02"
SQLSTATE_KILL_SWITCH = "OPS03"
SQLSTATE_VALIDATION = "OPS04"
SQLSTATE_NOT_FOUND = "OPS05"
SQLSTATE_SELF_APPROVAL = "OPS06"
SQLSTATE_DUPLICATE_ORDER = "OPS07"

SQLSTATES: dict[str, type[OpsDbError]] = {
    SQLSTATE_INVALID_TRANSITION: InvalidTransition,
    SQLSTATE_OVERFILL: Overfill,
    SQLSTATE_KILL_SWITCH: KillSwitchActive,
    SQLSTATE_VALIDATION: ValidationError,
    SQLSTATE_NOT_FOUND: NotFound,
    SQLSTATE_SELF_APPROVAL: SelfApproval,
    SQLSTATE_DUPLICATE_ORDER: DuplicateOrder,
}
