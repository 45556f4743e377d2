"""ops-db kill-switch, expire-orders and positions from the command line."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest

from ops_db.cli import main
from ops_db.ledger import orders
from tests.ledger_helpers import order_in, stage, strategy, trade


def test_kill_switch_commands(fresh_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["kill-switch", "status", "--url", fresh_db]) == 0
    assert "never switched" in capsys.readouterr().out
    assert main(["kill-switch", "on", "--reason", "broker outage", "--actor", "ops", "--url", fresh_db]) == 0
    assert main(["kill-switch", "status", "--json", "--url", fresh_db]) == 0
    out = capsys.readouterr().out
    state = json.loads(out[out.index("{"):])
    assert (state["active"], state["reason"], state["actor"]) == (True, "broker outage", "ops")
    with psycopg.connect(fresh_db) as conn:
        s = strategy(conn)
        with pytest.raises(Exception, match="halted by the kill switch"):
            stage(conn, s.id)
    assert main(["kill-switch", "off", "--reason", "back", "--actor", "ops", "--url", fresh_db]) == 0
    assert main(["kill-switch", "on", "--reason", "", "--url", fresh_db]) == 1
    assert "needs a reason" in capsys.readouterr().err


def test_expire_orders_and_positions(fresh_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    with psycopg.connect(fresh_db) as conn:
        s = strategy(conn)
        # Each call commits on its own, so the order is staged in a transaction after this line: a
        # margin it still expires after, then a wait past it.
        due = order_in(conn, s.id, "approved", expires_at=datetime.now(UTC) + timedelta(milliseconds=200))
        trade(conn, s.id, "buy", Decimal(10), Decimal(10))
        conn.execute("SELECT pg_sleep(0.25)")
    assert main(["expire-orders", "--json", "--url", fresh_db]) == 0
    out = capsys.readouterr().out
    assert json.loads(out[out.index("["):]) == [{"id": due.id, "client_order_id": due.client_order_id,
                                                 "symbol": "AAPL"}]
    with psycopg.connect(fresh_db) as conn:
        assert orders.get_order(conn, due.id).status == "expired"
    assert main(["positions", "--url", fresh_db]) == 0
    assert "AAPL" in capsys.readouterr().out


def test_kill_switch_on_is_bounded_behind_an_open_transaction(
    fresh_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A client that staged an order and keeps its transaction open cannot make a halt hang."""
    with psycopg.connect(fresh_db) as setup:
        s = strategy(setup)  # committed by the call itself
    with psycopg.connect(fresh_db, application_name="stuck-app") as stuck:
        # The client's own transaction (a call on an idle connection would commit on its own):
        # the order is staged in a savepoint of it, which holds the kill switch state FOR SHARE.
        stuck.execute("SELECT 1")
        stage(stuck, s.id)
        pid = stuck.info.backend_pid
        started = datetime.now(UTC)
        assert main(["kill-switch", "on", "--reason", "halt", "--actor", "ops", "--url", fresh_db]) == 7
        waited = datetime.now(UTC) - started
        err = capsys.readouterr().err
        assert f"pid {pid}" in err and "stuck-app" in err and "NOT switched" in err
        assert waited < timedelta(seconds=60)  # bounded, not a benchmark: the function's lock_timeout is 10 s
        with psycopg.connect(fresh_db) as check:
            assert check.execute("SELECT trading.kill_switch_active()").fetchone() == (False,)
        assert main(["kill-switch", "on", "--reason", "halt", "--actor", "ops", "--terminate-blockers",
                     "--url", fresh_db]) == 0
        assert f"ended pid {pid}" in capsys.readouterr().out
        with pytest.raises(psycopg.OperationalError):
            stuck.execute("SELECT 1")
    with psycopg.connect(fresh_db) as check:
        assert check.execute("SELECT trading.kill_switch_active()").fetchone() == (True,)
        # the stuck transaction rolled back: its order never existed
        assert check.execute("SELECT count(*) FROM trading.staged_orders").fetchone() == (0,)
