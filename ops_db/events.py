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

from ops_db.errors import wrap_errors
from ops_db.queries import q

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
    """Store one event; an unknown severity raises ValidationError."""
    params = {
        "severity": severity,
        "component": component,
        "event_type": event_type,
        "message": message,
        "details": Jsonb(details or {}),
        "timestamp": timestamp,
    }
    with wrap_errors(), conn.cursor(row_factory=class_row(SystemEvent)) as cur:
        row = cur.execute(q("insert_system_event"), params).fetchone()
    assert row is not None
    return row


def recent_system_events(
    conn: psycopg.Connection[Any],
    *,
    since: datetime,
    min_severity: str = "DEBUG",
    component: str | None = None,
    limit: int = 100,
) -> list[SystemEvent]:
    """Events since ``since`` at or above ``min_severity``, newest first."""
    params = {"since": since, "min_severity": min_severity.upper(), "component": component, "limit": limit}
    with wrap_errors(), conn.cursor(row_factory=class_row(SystemEvent)) as cur:
        return cur.execute(q("recent_system_events"), params).fetchall()
