"""System events: one view, routed by severity; critical ones in their own table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from ops_db import events
from ops_db.core.errors import ValidationError


def test_routing_by_severity_and_reading_back(db: psycopg.Connection[Any]) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    info = events.record_system_event(db, "INFO", "broker", "connected", "session up", details={"latency_ms": 3})
    crit = events.record_system_event(db, "CRITICAL", "risk", "kill_switch", "halted")
    assert info.severity == "INFO" and crit.severity == "CRITICAL" and crit.id != info.id
    assert db.execute("SELECT count(*) FROM ops_internal.system_events_critical WHERE id = %s",
                      (crit.id,)).fetchone() == (1,)
    assert db.execute("SELECT count(*) FROM ops_internal.system_events_routine WHERE id = %s",
                      (info.id,)).fetchone() == (1,)
    assert [e.id for e in events.recent_system_events(db, since=since, min_severity="WARNING")] == [crit.id]
    assert {e.id for e in events.recent_system_events(db, since=since)} == {info.id, crit.id}
    # Plain INSERT through the view, as in seed 002's psql usage.
    db.execute("INSERT INTO trading.system_events (severity, component, event_type, message)"
               " VALUES ('EMERGENCY', 'db', 'disk_full', 'no space')")
    assert db.execute("SELECT count(*) FROM ops_internal.system_events_critical WHERE component = 'db'"
                      ).fetchone() == (1,)


def test_unknown_severity_refused(db: psycopg.Connection[Any]) -> None:
    with pytest.raises(ValidationError, match="severity must be one of 'DEBUG', 'INFO'"):
        events.record_system_event(db, "LOUD", "x", "y", "z")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="severity must be one of"):  # the vocabulary is upper case
        events.record_system_event(db, "info", "x", "y", "z")  # type: ignore[arg-type]


def test_application_may_insert_but_not_rewrite(db: psycopg.Connection[Any]) -> None:
    db.execute("SET ROLE ops_app")
    events.record_system_event(db, "WARNING", "app", "slow", "slow fill")
    refused = (psycopg.errors.InsufficientPrivilege, psycopg.errors.ObjectNotInPrerequisiteState)
    with pytest.raises(refused), db.transaction():
        db.execute("DELETE FROM trading.system_events")
    with pytest.raises(psycopg.errors.InsufficientPrivilege), db.transaction():
        db.execute("DELETE FROM ops_internal.system_events_critical")
    db.execute("RESET ROLE")
