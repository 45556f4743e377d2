"""System events: one log for the whole system, where critical events outlive routine ones.

Rows go through the view trading.system_events, whose trigger stores CRITICAL and EMERGENCY
events in a table kept 2 years and the others in one kept 3 months (ops_internal.retention).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from ops_db.core.contract import api
from ops_db.core.error_map import map_errors
from ops_db.core.errors import ValidationError
from ops_db.core.queries import q

SEVERITIES = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", "EMERGENCY")
CRITICAL_SEVERITIES = ("CRITICAL", "EMERGENCY")


@dataclass(frozen=True)
class SystemEvent:
    id: int
    timestamp: datetime
    severity: str
    component: str
    event_type: str
    message: str
    details: dict[str, Any]


@api
def record_system_event(
    conn: psycopg.Connection[Any],
    severity: str,
    component: str,
    event_type: str,
    message: str,
    *,
    details: dict[str, Any] | None = None,
    timestamp: datetime | None = None,
) -> SystemEvent:
    """Store one event (a savepoint inside the caller's transaction); bad input raises ValidationError."""
    for name, value in (("severity", severity), ("component", component), ("event_type", event_type),
                        ("message", message)):
        if not isinstance(value, str):
            raise ValidationError(f"{name} must be a str, got {type(value).__name__}")
    if details is not None and not isinstance(details, dict):
        raise ValidationError(f"details must be a dict, got {type(details).__name__}")
    if timestamp is not None and (not isinstance(timestamp, datetime) or timestamp.utcoffset() is None):
        raise ValidationError(f"timestamp must be a datetime with a time zone, got {timestamp!r}")
    params = {
        "severity": severity,
        "component": component,
        "event_type": event_type,
        "message": message,
        "details": Jsonb(details or {}),
        "timestamp": timestamp,
    }
    with map_errors(), conn.transaction(), conn.cursor(row_factory=class_row(SystemEvent)) as cur:
        row = cur.execute(q("insert_system_event"), params).fetchone()
    assert row is not None
    return row


@api
def recent_system_events(
    conn: psycopg.Connection[Any],
    *,
    since: datetime,
    min_severity: str = "DEBUG",
    component: str | None = None,
    limit: int = 100,
) -> list[SystemEvent]:
    """Events since ``since`` at or above ``min_severity``, newest first."""
    if not isinstance(min_severity, str) or min_severity.upper() not in SEVERITIES:
        raise ValidationError(f"min_severity must be one of {', '.join(SEVERITIES)}, got {min_severity!r}")
    if limit < 1:
        raise ValidationError(f"limit must be at least 1, got {limit}")
    params = {"since": since, "min_severity": min_severity.upper(), "component": component, "limit": limit}
    with map_errors(), conn.transaction(), conn.cursor(row_factory=class_row(SystemEvent)) as cur:
        return cur.execute(q("recent_system_events"), params).fetchall()
