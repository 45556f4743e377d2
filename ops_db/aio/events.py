"""System events: one log for the whole system, where critical events outlive routine ones.

Rows go through the view trading.system_events, whose trigger stores CRITICAL and EMERGENCY
events in a table kept 2 years and the others in one kept 3 months (ops_internal.retention).
Written once, async; ``ops_db/events.py`` is generated from it (tools/async_to_sync.py). The row
type and the severity vocabulary live in ``ops_db.model.events`` and are re-exported here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from ops_db.aio.core.db import fetch_all, fetch_one
from ops_db.core.contract import api
from ops_db.core.errors import ValidationError
from ops_db.model.events import CRITICAL_SEVERITIES, SEVERITIES, Severity, SystemEvent

__all__: list[str] = [  # annotated: the generator (unasyncd) rewrites a plain `__all__ =` assignment
    "CRITICAL_SEVERITIES", "SEVERITIES", "Severity", "SystemEvent", "ValidationError", "recent_system_events",
    "record_system_event",
]


@api
async def record_system_event(
    conn: psycopg.AsyncConnection[Any],
    severity: Severity,
    component: str,
    event_type: str,
    message: str,
    *,
    details: dict[str, Any] | None = None,
    timestamp: datetime | None = None,
) -> SystemEvent:
    """Store one event (a savepoint inside the caller's transaction, else a transaction of its own
    that commits); bad input raises ValidationError naming the field."""
    params = {
        "severity": severity,
        "component": component,
        "event_type": event_type,
        "message": message,
        "details": Jsonb(details or {}),
        "timestamp": timestamp,
    }
    return await fetch_one(conn, SystemEvent, "insert_system_event", params,
                           missing="insert_system_event returned no row")


@api
async def recent_system_events(
    conn: psycopg.AsyncConnection[Any],
    *,
    since: datetime,
    min_severity: Severity = "DEBUG",
    component: str | None = None,
    limit: int = 100,
) -> list[SystemEvent]:
    """Events since ``since`` at or above ``min_severity``, newest first."""
    if limit < 1:
        raise ValidationError(f"limit must be at least 1, got {limit}")
    params = {"since": since, "min_severity": min_severity, "component": component, "limit": limit}
    return await fetch_all(conn, SystemEvent, "recent_system_events", params)
