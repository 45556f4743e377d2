"""Every exception ops_db raises, and every exit code of its commands: one place, one meaning each.

The database enforces the invariants (constraints, the order state machine, the append-only
audit trail); Python only reports them. ``ops_db.core.error_map`` turns a psycopg error into
one of these, raised ``from`` the original so the cause stays visible.
"""

from __future__ import annotations

from typing import ClassVar


class OpsDbError(Exception):
    """Base of every error ops_db raises. ``exit_code`` is what the CLI exits with."""

    exit_code: ClassVar[int] = 1


class ConfigurationError(OpsDbError):
    """No usable connection settings, or a setting with a bad value."""

    exit_code = 3


class DatabaseUnavailable(OpsDbError):
    """The server cannot be reached or refused the connection."""

    exit_code = 3


class ClusterError(OpsDbError):
    """The local cluster could not be created, started or stopped."""


class MigrationError(OpsDbError):
    """A migration failed; nothing of it was applied or recorded."""


class MigrationLockTimeout(MigrationError):
    """Another migration run held the lock for longer than the wait allowed."""

    exit_code = 4


class VerificationFailed(OpsDbError):
    """Applied migrations differ from the files, are missing, or some are pending."""

    exit_code = 5


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


class BackupError(OpsDbError):
    """A backup could not be verified or restored."""


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
