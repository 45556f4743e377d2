"""The package's own exceptions, and the one place that maps database errors onto them.

The database enforces the invariants (constraints, the order state machine, the
append-only audit trail); Python only reports them. `wrap_errors()` turns a psycopg
error into one of these, raised ``from`` the original so the cause stays visible.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar

import psycopg
from psycopg import errors as pg


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

_BY_SQLSTATE: dict[str, type[OpsDbError]] = {
    SQLSTATE_INVALID_TRANSITION: InvalidTransition,
    SQLSTATE_OVERFILL: Overfill,
    SQLSTATE_KILL_SWITCH: KillSwitchActive,
    SQLSTATE_VALIDATION: ValidationError,
    SQLSTATE_NOT_FOUND: NotFound,
    SQLSTATE_SELF_APPROVAL: SelfApproval,
    SQLSTATE_DUPLICATE_ORDER: DuplicateOrder,
}

# Conflicts with a concurrent transaction: deadlock_detected, serialization_failure, lock_not_available.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001", "55P03"})
# The server went away under the connection: admin_shutdown, crash_shutdown, cannot_connect_now,
# and class 08 (connection exceptions).
_UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})

# Constraint name -> (exception class, message a trader understands). Schema modules
# register their constraints here so that a violation reads as a sentence, not SQL.
_BY_CONSTRAINT: dict[str, tuple[type[OpsDbError], str]] = {}


def register_constraint(name: str, exc: type[OpsDbError], message: str) -> None:
    """Say what a violation of constraint ``name`` means, and which error reports it."""
    _BY_CONSTRAINT[name] = (exc, message)


def translate(exc: psycopg.Error) -> OpsDbError:
    """The ops_db error for a psycopg error (a generic OpsDbError when nothing specific fits)."""
    diag = exc.diag
    constraint = diag.constraint_name
    if constraint and constraint in _BY_CONSTRAINT:
        cls, message = _BY_CONSTRAINT[constraint]
        return cls(message)
    sqlstate = diag.sqlstate or ""
    primary = diag.message_primary or str(exc).strip()
    detail = f" ({diag.message_detail})" if diag.message_detail else ""
    if sqlstate in _BY_SQLSTATE:
        return _BY_SQLSTATE[sqlstate](primary + detail)
    if sqlstate in RETRYABLE_SQLSTATES:
        return RetryableConflict(f"{primary}: nothing was written, try again")
    if sqlstate in _UNAVAILABLE_SQLSTATES or sqlstate.startswith("08"):
        return DatabaseUnavailable(primary)
    if isinstance(exc, pg.UniqueViolation):
        return ValidationError(f"duplicate value violates {constraint or 'a unique key'}{detail}")
    if isinstance(exc, pg.IntegrityError | pg.DataError):
        # Data errors (numeric overflow, bad text, untranslatable characters, datetime overflow,
        # too long for the column) name the column when the server knows it.
        where = ", ".join(
            part for part in (diag.column_name and f"column {diag.column_name}", constraint) if part
        )
        return ValidationError(f"{primary}{f' ({where})' if where else ''}{detail}")
    if isinstance(exc, pg.InsufficientPrivilege):
        return PermissionDenied(primary)
    if isinstance(exc, psycopg.OperationalError) and not sqlstate:
        return DatabaseUnavailable(_first_line(str(exc)))
    return OpsDbError(primary + detail)


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "connection failed"


@contextmanager
def wrap_errors() -> Iterator[None]:
    """Re-raise psycopg errors as ops_db errors."""
    try:
        yield
    except psycopg.Error as exc:
        raise translate(exc) from exc
