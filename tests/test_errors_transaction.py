"""A refused call leaves the caller's transaction usable: every public function runs in a savepoint
of it (reads and record_system_event included), and a call that opened the transaction on an idle
connection rolls back only what it did."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg.pq import TransactionStatus

from ops_db import events
from ops_db.core.errors import OpsDbError, ValidationError
from ops_db.ledger import strategies

SINCE = datetime.now(UTC) - timedelta(days=1)


def _mine(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT count(*) FROM trading.strategies WHERE name LIKE 'savepoint-%'").fetchone()
    assert row is not None
    return int(row[0])


def test_refused_write_and_read_keep_the_callers_transaction(db: psycopg.Connection[Any]) -> None:
    for run in range(20):
        strategies.create_strategy(db, f"savepoint-{run}")
        with pytest.raises(ValidationError, match="severity"):
            events.record_system_event(db, "LOUD", "feed", "started", "refused by the database")
        with pytest.raises(OpsDbError):  # refused by the server (negative LIMIT), not by Python
            events.recent_system_events(db, since=SINCE, limit=-1)
        assert db.execute("SELECT 1").fetchone() == (1,)
        assert _mine(db) == run + 1  # the caller's earlier work in the transaction is still there


def test_a_call_on_an_idle_connection_leaves_it_idle(fresh_db: str) -> None:
    with psycopg.connect(fresh_db) as conn:
        for _ in range(20):
            assert conn.info.transaction_status == TransactionStatus.IDLE
            with pytest.raises(OpsDbError):
                events.recent_system_events(conn, since=SINCE, limit=-1)
            assert conn.info.transaction_status == TransactionStatus.IDLE
            assert conn.execute("SELECT 1").fetchone() == (1,)
            conn.rollback()
        # an accepted call on an idle connection is a transaction of its own, committed
        strategies.create_strategy(conn, "savepoint-idle")
        assert conn.info.transaction_status == TransactionStatus.IDLE
    with psycopg.connect(fresh_db) as other:
        assert _mine(other) == 1
