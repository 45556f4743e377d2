"""The order state machine, approval rules, audit trail and kill switch, enforced by the database."""

from __future__ import annotations

import time
from datetime import UTC
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from psycopg import errors as pg

from ops_db.core.errors import InvalidTransition, KillSwitchActive, ValidationError
from ops_db.ledger import kill_switch, orders, strategies
from ops_db.model import ledger as model
from tests.ledger_helpers import LEGAL, STATUSES, count, order_in, stage, strategy, unique

ILLEGAL = sorted((a, b) for a in STATUSES for b in STATUSES if a != b and (a, b) not in LEGAL)


def raw_move(conn: psycopg.Connection[Any], order: model.Order, to_status: str) -> None:
    """Move an order as the application role would with plain SQL (fills by inserting executions)."""
    # A failure rolls the savepoint back, and with it the role change.
    with conn.transaction():
        conn.execute("SET ROLE ops_app")
        if to_status in ("partially_filled", "filled"):
            qty = order.quantity - order.filled_quantity
            qty = (qty / 2 if to_status == "partially_filled" else qty) or Decimal(1)
            conn.execute(
                "INSERT INTO trading.executions (order_id, quantity, price) VALUES (%s, %s, 10)", (order.id, qty)
            )
        else:
            conn.execute(
                "UPDATE trading.staged_orders SET status = %s,"
                " rejection_reason = CASE WHEN %s = 'rejected' THEN 'no' END,"
                " broker_order_id = CASE WHEN %s = 'submitted' THEN %s ELSE broker_order_id END WHERE id = %s",
                (to_status, to_status, to_status, unique("B"), order.id),
            )
        conn.execute("RESET ROLE")


@pytest.mark.parametrize(("from_status", "to_status"), sorted(LEGAL))
def test_every_legal_transition_with_raw_sql(db: psycopg.Connection[Any], from_status: str, to_status: str) -> None:
    s = strategy(db)
    # staged -> pending_approval needs an order that requires approval; staged -> approved one that does not.
    extra = {"risk_score": Decimal(90)} if (from_status, to_status) == ("staged", "pending_approval") else {}
    order = order_in(db, s.id, from_status, **extra)
    raw_move(db, order, to_status)
    after = orders.get_order(db, order.id)
    assert after.status == to_status
    last = orders.order_events(db, order.id)[-1]
    assert (last.from_status, last.to_status) == (from_status, to_status)


@pytest.mark.parametrize(("from_status", "to_status"), ILLEGAL)
def test_illegal_transitions_refused_by_the_database(
    db: psycopg.Connection[Any], from_status: str, to_status: str
) -> None:
    s = strategy(db)
    order = order_in(db, s.id, from_status)
    events = count(db, "order_events")
    with pytest.raises(psycopg.Error) as info:
        raw_move(db, order, to_status)
    assert db.execute("SELECT current_user").fetchone() == ("postgres",)
    assert info.value.diag.sqlstate in ("OPS01", "OPS02")
    assert orders.get_order(db, order.id).status == from_status
    assert count(db, "order_events") == events


def test_illegal_transition_reads_as_a_sentence(db: psycopg.Connection[Any]) -> None:
    order = order_in(db, strategy(db).id, "filled")
    with pytest.raises(InvalidTransition, match=rf"order {order.id} is filled; it can no longer change"):
        orders.cancel_order(db, order.id, "alice")
    staged = order_in(db, strategy(db).id, "staged")
    with pytest.raises(InvalidTransition, match="staged: it cannot become submitted"):
        orders.submit_order(db, staged.id, "B-1")


def test_status_only_moves_to_filled_by_fills(db: psycopg.Connection[Any]) -> None:
    order = order_in(db, strategy(db).id, "submitted")
    # _transition is private (no @api): the savepoint the public functions get is the test's own here.
    with pytest.raises(InvalidTransition, match="only by recording fills"), db.transaction():
        orders._transition(db, order.id, "filled", "mallory")
    db.execute("SET ROLE ops_app")
    with pytest.raises(psycopg.DatabaseError, match="changes only by recording a fill"), db.transaction():
        db.execute("UPDATE trading.staged_orders SET filled_quantity = quantity WHERE id = %s", (order.id,))
    db.execute("RESET ROLE")


def test_terms_frozen_after_staging(db: psycopg.Connection[Any]) -> None:
    order = order_in(db, strategy(db).id, "approved")
    db.execute("SET ROLE ops_app")
    with pytest.raises(psycopg.DatabaseError, match="change only while it is staged"), db.transaction():
        db.execute("UPDATE trading.staged_orders SET quantity = 1 WHERE id = %s", (order.id,))
    with pytest.raises(psycopg.DatabaseError, match="decided by the database"), db.transaction():
        db.execute("UPDATE trading.staged_orders SET approval_required = true WHERE id = %s", (order.id,))
    db.execute("RESET ROLE")


@pytest.mark.parametrize(
    ("kwargs", "strategy_kwargs", "reason"),
    [
        ({"risk_score": Decimal("75.01")}, {}, "risk score 75.01 is above 75"),
        ({"compliance_flags": {"position_limit_check": {"passed": False}}}, {}, "position_limit_check failed"),
        ({"concentration_check": False}, {}, "concentration check failed"),
        ({"quantity": Decimal(1001)}, {}, "quantity 1001 is above the strategy limit of 1000"),
        ({"quantity": Decimal(100), "limit_price": Decimal(60)}, {"max_order_value": Decimal(5000)},
         "order value 6000.00 is above the strategy limit of 5000"),
        ({"order_type": "market", "market_data": {"last_price": 60}}, {"max_order_value": Decimal(5000)},
         "order value 6000.00 is above"),
        ({}, {"requires_approval": True}, "requires approval of every order"),
    ],
)
def test_approval_rules(
    db: psycopg.Connection[Any], kwargs: dict[str, Any], strategy_kwargs: dict[str, Any], reason: str
) -> None:
    order = stage(db, strategy(db, **strategy_kwargs).id, **kwargs)
    assert order.approval_required
    assert any(reason in r for r in order.approval_reasons), order.approval_reasons
    with pytest.raises(InvalidTransition, match="needs approval"):
        orders.approve_order(db, order.id, "bob")
    screened = orders.screen_order(db, order.id)
    assert screened.status == "pending_approval"
    approved = orders.approve_order(db, order.id, "carol")
    assert (approved.status, approved.approved_by) == ("approved", "carol")
    assert approved.approved_at is not None


def test_no_approval_below_every_threshold(db: psycopg.Connection[Any]) -> None:
    order = stage(
        db,
        strategy(db, max_order_value=Decimal(5000)).id,
        risk_score=Decimal(75),
        quantity=Decimal(1000),
        limit_price=Decimal(5),
        compliance_flags={"risk_check": {"passed": True}},
        concentration_check=True,
    )
    assert (order.approval_required, order.approval_reasons) == (False, [])
    assert orders.screen_order(db, order.id).status == "approved"


def test_changing_a_staged_order_recomputes_approval(db: psycopg.Connection[Any]) -> None:
    order = stage(db, strategy(db).id)
    assert not order.approval_required
    db.execute("UPDATE trading.staged_orders SET risk_score = 99 WHERE id = %s", (order.id,))
    assert orders.get_order(db, order.id).approval_required


def test_events_complete_for_every_order(db: psycopg.Connection[Any]) -> None:
    s = strategy(db)
    order = order_in(db, s.id, "partially_filled", risk_score=Decimal(80))
    orders.record_fill(db, order.id, order.remaining_quantity, Decimal(11))
    events = orders.order_events(db, order.id)
    assert [(e.event_type, e.from_status, e.to_status) for e in events] == [
        ("created", None, "staged"),
        ("transition", "staged", "pending_approval"),
        ("transition", "pending_approval", "approved"),
        ("transition", "approved", "submitted"),
        ("fill", "submitted", "partially_filled"),
        ("fill", "partially_filled", "filled"),
    ]
    assert [e.actor for e in events][:3] == ["alice", "system", "bob"]
    assert events[3].details["changed"]["broker_order_id"].startswith("B-")
    assert events[5].details["fill_quantity"] == 50 and events[5].details["fill_price"] == 11
    # No order anywhere lacks its creation event, and every status change has its event.
    missing = db.execute(
        "SELECT count(*) FROM trading.staged_orders o WHERE NOT EXISTS (SELECT FROM trading.order_events e"
        " WHERE e.order_id = o.id AND e.event_type = 'created')"
    ).fetchone()
    assert missing == (0,)
    last_matches = db.execute(
        "SELECT bool_and(o.status = (SELECT to_status FROM trading.order_events e WHERE e.order_id = o.id"
        " ORDER BY occurred_at DESC, id DESC LIMIT 1)) FROM trading.staged_orders o"
    ).fetchone()
    assert last_matches == (True,)


def test_rejection_reason_with_sql_metacharacters_is_stored_verbatim(db: psycopg.Connection[Any]) -> None:
    order = order_in(db, strategy(db).id, "pending_approval")
    reason = "size'); DROP TABLE trading.staged_orders; -- \"quoted\" \\ %s"
    rejected = orders.reject_order(db, order.id, "bob", reason)
    assert rejected.rejection_reason == reason
    assert rejected.status_reason == reason
    assert orders.order_events(db, order.id)[-1].details["changed"]["status_reason"] == reason


@pytest.mark.parametrize("statement", [
    "UPDATE trading.order_events SET actor = 'mallory'",
    "DELETE FROM trading.order_events",
    "TRUNCATE trading.order_events",
    "INSERT INTO trading.order_events (order_id, event_type, to_status, actor) "
    "SELECT id, 'changed', 'filled', 'mallory' FROM trading.staged_orders LIMIT 1",
])
def test_order_events_immutable_for_ops_app(db: psycopg.Connection[Any], statement: str) -> None:
    order_in(db, strategy(db).id, "submitted")
    before = db.execute("SELECT count(*), max(actor) FROM trading.order_events").fetchone()
    db.execute("SET ROLE ops_app")
    with pytest.raises(pg.InsufficientPrivilege), db.transaction():
        db.execute(statement)  # type: ignore[arg-type]
    db.execute("RESET ROLE")
    assert db.execute("SELECT count(*), max(actor) FROM trading.order_events").fetchone() == before


def test_order_events_refuse_changes_even_from_the_owner(db: psycopg.Connection[Any]) -> None:
    order_in(db, strategy(db).id, "staged")
    db.execute("SET ROLE ops_owner")
    with pytest.raises(pg.InsufficientPrivilege, match="append-only"), db.transaction():
        db.execute("UPDATE trading.order_events SET actor = 'owner'")
    db.execute("RESET ROLE")


def test_ops_app_cannot_delete_orders_or_edit_books(db: psycopg.Connection[Any]) -> None:
    order = order_in(db, strategy(db).id, "filled")
    db.execute("SET ROLE ops_app")
    for statement in (
        "DELETE FROM trading.staged_orders",
        "UPDATE trading.executions SET price = 1",
        "UPDATE trading.positions SET quantity = 1",
        "INSERT INTO trading.positions (symbol, quantity, avg_cost) VALUES ('X', 1, 1)",
    ):
        with pytest.raises(pg.InsufficientPrivilege), db.transaction():
            db.execute(statement)  # type: ignore[arg-type]
    db.execute("RESET ROLE")
    assert orders.get_order(db, order.id).status == "filled"


def test_kill_switch_blocks_new_risk_but_not_its_removal(db: psycopg.Connection[Any]) -> None:
    s = strategy(db)
    approved = order_in(db, s.id, "approved")
    working = order_in(db, s.id, "submitted")
    staged = order_in(db, s.id, "staged")
    kill_switch.activate_kill_switch(db, "runaway losses", "risk-desk")
    assert kill_switch.kill_switch_state(db).active
    with pytest.raises(KillSwitchActive, match="halted by the kill switch"):
        stage(db, s.id)
    with pytest.raises(KillSwitchActive):
        orders.submit_order(db, approved.id, "B-KS")
    with pytest.raises(KillSwitchActive):
        orders.screen_order(db, staged.id)
    # Taking risk off and keeping the books true still work.
    orders.record_fill(db, working.id, Decimal(10), Decimal(10))
    assert orders.cancel_order(db, working.id, "risk-desk").status == "cancelled"
    assert orders.cancel_order(db, approved.id, "risk-desk").status == "cancelled"
    kill_switch.deactivate_kill_switch(db, "reviewed", "risk-desk")
    assert not kill_switch.kill_switch_state(db).active
    assert orders.screen_order(db, staged.id).status == "approved"


def test_inactive_strategy_cannot_stage(db: psycopg.Connection[Any]) -> None:
    s = strategy(db)
    strategies.set_strategy_active(db, s.id, False)
    from ops_db.core.errors import ValidationError

    with pytest.raises(ValidationError, match="not active"):
        stage(db, s.id)


def test_expire_due_orders(db: psycopg.Connection[Any]) -> None:
    from datetime import datetime, timedelta

    s = strategy(db)
    now = datetime.now(UTC)
    soon = order_in(db, s.id, "approved", expires_at=now + timedelta(milliseconds=200))
    later = order_in(db, s.id, "submitted", expires_at=now + timedelta(hours=5))
    done = order_in(db, s.id, "filled", expires_at=now + timedelta(milliseconds=100))
    # An expiry time ahead of the clock would expire orders early: refused, nothing expired.
    with pytest.raises(ValidationError, match="now"):
        orders.expire_due_orders(db, now + timedelta(hours=6))
    assert orders.get_order(db, later.id).status == "submitted"
    time.sleep(max(0.0, (soon.expires_at - datetime.now(UTC)).total_seconds()) + 0.05)
    expired = orders.expire_due_orders(db)
    assert [o.id for o in expired] == [soon.id]
    assert orders.get_order(db, later.id).status == "submitted"
    assert orders.get_order(db, done.id).status == "filled"
    assert orders.order_events(db, soon.id)[-1].actor == "system"
