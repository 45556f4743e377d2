"""Separation of duties (only ops_risk changes strategies; four eyes on approvals), forged
notifications, and idempotent retries compared over every term by the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from psycopg import errors

from ops_db.core.errors import DuplicateOrder, PermissionDenied, SelfApproval
from ops_db.ledger import orders, strategies
from tests.ledger_helpers import count, order_in, stage, strategy, unique

STRATEGY_WRITES = [
    "INSERT INTO trading.strategies (name) VALUES ('sneaky')",
    "UPDATE trading.strategies SET requires_approval = false",
    "UPDATE trading.strategies SET max_order_quantity = 1e9",
    "UPDATE trading.strategies SET max_order_value = NULL",
    "UPDATE trading.strategies SET active = true",
    "DELETE FROM trading.strategies",
    "TRUNCATE trading.strategies CASCADE",
]


@pytest.mark.parametrize("statement", STRATEGY_WRITES)
@pytest.mark.parametrize("role", ["ops_app", "ops_readonly"])
def test_only_the_risk_role_changes_strategies(db: psycopg.Connection[Any], role: str, statement: str) -> None:
    strategy(db, requires_approval=True)
    with pytest.raises(errors.InsufficientPrivilege), db.transaction():
        db.execute(f"SET LOCAL ROLE {role}")  # type: ignore[arg-type]  # fixed role names
        db.execute(statement)  # type: ignore[arg-type]


def test_the_risk_role_creates_and_changes_limits_and_the_app_reads_them(db: psycopg.Connection[Any]) -> None:
    db.execute("SET LOCAL ROLE ops_risk")
    s = strategies.create_strategy(db, unique("risk"), max_order_quantity=Decimal(10), requires_approval=True)
    db.execute("UPDATE trading.strategies SET max_order_quantity = 20, requires_approval = false WHERE id = %s",
               (s.id,))
    strategies.set_strategy_active(db, s.id, False)
    with pytest.raises(errors.InsufficientPrivilege), db.transaction():
        db.execute("INSERT INTO trading.staged_orders (client_order_id, strategy_id, symbol, side, order_type,"
                   " quantity, created_by) VALUES ('x1', %s, 'A', 'buy', 'market', 1, 'r')", (s.id,))
    db.execute("SET LOCAL ROLE ops_app")
    assert strategies.get_strategy(db, s.id).max_order_quantity == 20
    with pytest.raises(PermissionDenied):
        strategies.set_strategy_active(db, s.id, True)
    with pytest.raises(PermissionDenied):
        strategies.create_strategy(db, unique("app"))
    db.execute("RESET ROLE")


def test_an_order_is_not_approved_by_its_creator(db: psycopg.Connection[Any]) -> None:
    s = strategy(db)
    order = order_in(db, s.id, "pending_approval", created_by="alice")
    for approver in ("alice", "ALICE"):
        with pytest.raises(SelfApproval, match="someone else"):
            orders.approve_order(db, order.id, approver)
    with pytest.raises(psycopg.DatabaseError, match="four eyes"), db.transaction():
        db.execute("SET LOCAL ROLE ops_app")
        db.execute("UPDATE trading.staged_orders SET status = 'approved', approved_by = 'alice' WHERE id = %s",
                   (order.id,))
    assert orders.get_order(db, order.id).status == "pending_approval"
    approved = orders.approve_order(db, order.id, "bob")
    event = orders.order_events(db, order.id)[-1]
    assert (approved.approved_by, event.details["approved_by"], event.details["created_by"]) == (
        "bob", "bob", "alice")
    # An order that needs no approval is approved by the screening rules, whoever screens it.
    plain = stage(db, s.id, created_by="bot-1")
    assert orders.screen_order(db, plain.id, "bot-1").status == "approved"


def test_a_forged_notification_is_only_a_hint(fresh_db: str) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as listener, psycopg.connect(fresh_db, autocommit=True) as w:
        order = order_in(w, strategy(w).id, "staged")  # before subscribing: only forged notifications follow
        updates = orders.order_updates(listener, timeout=30, stop_after=1)
        first_event = orders.order_events(w, order.id)[0]
        w.execute("SET ROLE ops_readonly")
        for payload in (
            f'{{"order_id": {order.id}, "event_id": {first_event.id + 999}, "to": "filled"}}',
            f'{{"order_id": {order.id + 1}, "event_id": {first_event.id}, "to": "filled"}}',
            '{"order_id": "1; DROP TABLE x", "event_id": 1}',
            "not json at all",
            '[1, 2]',
            f'{{"order_id": {order.id}, "event_id": {first_event.id}, "to": "filled", "filled_quantity": 1e9}}',
        ):
            w.execute("SELECT pg_notify('order_updates', %s)", (payload,))
        received = list(updates)
        w.execute("RESET ROLE")
    # the only delivered update is the real event, re-read: nothing of the payload is believed
    assert len(received) == 1
    assert received[0].event == first_event and received[0].order.status == "staged"
    assert received[0].order.filled_quantity == 0


# Within the year an order may stay open (staged_orders_expires_at_valid), on whole seconds.
EXPIRES = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)


def _terms() -> dict[str, Any]:
    return {
        "symbol": "AAPL", "side": "buy", "order_type": "stop_limit", "quantity": Decimal(10),
        "limit_price": Decimal(10), "stop_price": Decimal(9), "stop_loss": Decimal(8), "take_profit": Decimal(12),
        "time_in_force": "gtc", "created_by": "alice", "risk_score": Decimal(10), "risk_factors": {"a": 1},
        "portfolio_impact": {"b": 2}, "concentration_check": True, "compliance_flags": {"c": {"passed": True}},
        "metadata": {"d": 4}, "market_data": {"last_price": 10}, "tags": ["x", "y"], "signal_id": 7,
        "expires_at": EXPIRES,
    }


CHANGED = {
    "side": "sell", "quantity": Decimal(11), "limit_price": Decimal("10.5"), "stop_price": Decimal("9.5"),
    "stop_loss": Decimal("7"), "take_profit": None, "time_in_force": "day", "created_by": "bob",
    "risk_score": Decimal(11), "risk_factors": {"a": 2}, "portfolio_impact": {}, "concentration_check": None,
    "compliance_flags": {"c": {"passed": False}}, "metadata": {"d": 5}, "market_data": {"last_price": 11},
    "tags": ["y", "x"], "signal_id": 8, "expires_at": EXPIRES + timedelta(seconds=1),
    "symbol": "MSFT",
}


def test_a_retry_with_identical_terms_returns_the_order(db: psycopg.Connection[Any]) -> None:
    s = strategy(db)
    first = stage(db, s.id, client_order_id="idem-1", **_terms())
    events = count(db, "order_events")
    again = stage(db, s.id, client_order_id="idem-1", **{**_terms(), "quantity": Decimal("10.000")})
    assert again == first and count(db, "order_events") == events


@pytest.mark.parametrize("field", [*sorted(CHANGED), "strategy_id"])
def test_a_retry_with_any_different_term_is_a_duplicate_naming_it(db: psycopg.Connection[Any], field: str) -> None:
    s = strategy(db)
    other = strategy(db)
    client_order_id = unique("idem")  # never contains the field's name
    first = stage(db, s.id, client_order_id=client_order_id, **_terms())
    terms = _terms()
    strategy_id = s.id
    if field == "strategy_id":
        strategy_id = other.id
    else:
        terms[field] = CHANGED[field]
    rows = count(db, "staged_orders"), count(db, "order_events")
    with pytest.raises(DuplicateOrder) as refused:
        stage(db, strategy_id, client_order_id=client_order_id, **terms)
    message = str(refused.value)
    assert f"order {first.id}" in message and field in message
    assert message.count(",") == 0  # only that field differs
    assert (count(db, "staged_orders"), count(db, "order_events")) == rows
    assert db.execute("SELECT 1").fetchone() == (1,)  # the caller's transaction is still usable


def test_a_retry_names_every_differing_field(db: psycopg.Connection[Any]) -> None:
    s = strategy(db)
    stage(db, s.id, client_order_id="idem-many", **_terms())
    with pytest.raises(DuplicateOrder, match=r"quantity, limit_price.*tags"):
        stage(db, s.id, client_order_id="idem-many",
              **{**_terms(), "quantity": Decimal(1), "limit_price": Decimal(1), "tags": []})
