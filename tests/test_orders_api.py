"""ops_db.ledger.orders: staging, idempotency, bad inputs, lookups, pagination, live updates, concurrency."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from ops_db.core.errors import DuplicateOrder, InvalidTransition, OpsDbError, OrderNotFound, Overfill, ValidationError
from ops_db.ledger import orders
from ops_db.model import ledger as model
from tests.ledger_helpers import count, order_in, stage, strategy


def test_stage_returns_a_typed_order(db: psycopg.Connection[Any]) -> None:
    s = strategy(db)
    order = stage(db, s.id, symbol="MSFT", quantity=Decimal("12.5"), limit_price=Decimal("401.25"),
                  tags=["swing", "earnings"], metadata={"note": "x"})
    assert isinstance(order, model.Order)
    assert (order.status, order.symbol, order.quantity, order.limit_price) == (
        "staged", "MSFT", Decimal("12.5"), Decimal("401.25"))
    assert order.tags == ["swing", "earnings"] and order.metadata == {"note": "x"}
    assert order.filled_quantity == 0 and order.avg_fill_price is None
    with pytest.raises(AttributeError):
        order.status = "filled"  # type: ignore[misc]


def test_same_client_order_id_twice_is_one_order(db: psycopg.Connection[Any]) -> None:
    s = strategy(db)
    first = stage(db, s.id, client_order_id="retry-1")
    again = stage(db, s.id, client_order_id="retry-1")
    assert again.id == first.id
    assert db.execute("SELECT count(*) FROM trading.staged_orders WHERE client_order_id = 'retry-1'").fetchone() == (1,)
    events = count(db, "order_events")
    with pytest.raises(DuplicateOrder, match=f"already used by order {first.id}"):
        stage(db, s.id, client_order_id="retry-1", quantity=Decimal(5))
    assert count(db, "order_events") == events


def test_same_client_order_id_from_two_connections(fresh_db: str) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as a, psycopg.connect(fresh_db, autocommit=True) as b:
        s = strategy(a)
        a.execute("BEGIN")
        first = stage(a, s.id, client_order_id="race-1")
        result: list[Any] = []
        t = threading.Thread(target=lambda: result.append(stage(b, s.id, client_order_id="race-1")))
        t.start()
        _wait_until_blocked(a, b)
        a.execute("COMMIT")
        t.join()
        assert result[0].id == first.id
        assert a.execute("SELECT count(*) FROM trading.staged_orders").fetchone() == (1,)


def _wait_until_blocked(observer: psycopg.Connection[Any], blocked: psycopg.Connection[Any]) -> None:
    """Until ``blocked`` waits for a lock (no time limit: the test is about order, not speed)."""
    pid = blocked.info.backend_pid
    while True:
        row = observer.execute(
            "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)
        ).fetchone()
        if row and row[0] == "Lock":
            return
        observer.execute("SELECT pg_sleep(0.01)")


def test_two_connections_approving_at_once_exactly_one_succeeds(fresh_db: str) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as setup:
        order = order_in(setup, strategy(setup).id, "pending_approval")
    outcomes: list[str] = []
    with psycopg.connect(fresh_db, autocommit=True) as a, psycopg.connect(fresh_db, autocommit=True) as b:
        a.execute("BEGIN")
        orders.approve_order(a, order.id, "carol")

        def second() -> None:
            try:
                orders.approve_order(b, order.id, "bob")
                outcomes.append("bob approved")
            except InvalidTransition as exc:
                outcomes.append(str(exc))

        t = threading.Thread(target=second)
        t.start()
        _wait_until_blocked(a, b)
        a.execute("COMMIT")
        t.join()
        assert outcomes == [f"order {order.id} is already approved"]
        final = orders.get_order(a, order.id)
        assert (final.status, final.approved_by) == ("approved", "carol")
        approvals = a.execute(
            "SELECT count(*) FROM trading.order_events WHERE order_id = %s AND to_status = 'approved'", (order.id,)
        ).fetchone()
        assert approvals == (1,)


BAD_INPUTS = [
    ({"quantity": Decimal(0)}, "quantity must be a positive number"),
    ({"quantity": Decimal(-5)}, "quantity must be a positive number"),
    ({"quantity": Decimal("NaN")}, "quantity must be a positive number"),
    ({"quantity": Decimal("Infinity")}, "quantity must be a positive number"),
    ({"quantity": Decimal("1e30")}, "quantity must be a positive number"),
    ({"quantity": Decimal("0.000000001")}, "at most 8 decimals"),
    ({"limit_price": Decimal("NaN")}, "prices must each be a positive number"),
    ({"limit_price": Decimal("1e12")}, "prices must each be a positive number"),
    ({"limit_price": Decimal(-1)}, "prices must each be a positive number"),
    # The vocabularies are Literal types: @api refuses them before anything is sent.
    ({"side": "hold"}, "side must be one of 'buy', 'sell'"),
    ({"side": "BUY"}, "side must be one of 'buy', 'sell'"),
    ({"order_type": "iceberg", "limit_price": None}, "order_type must be one of 'market', 'limit'"),
    ({"order_type": "limit", "limit_price": None}, "limit and stop-limit orders need a limit price"),
    ({"order_type": "market", "limit_price": Decimal(10)}, "market and stop orders must not have one"),
    ({"order_type": "stop", "limit_price": None}, "stop and stop-limit orders need a stop price"),
    ({"symbol": "AAPL'; DROP TABLE trading.staged_orders; --"}, "symbol must be"),
    ({"symbol": "aapl"}, "symbol must be"),
    ({"symbol": ""}, "symbol must be"),
    ({"client_order_id": "x'); DELETE FROM trading.staged_orders; --"}, "client order id must be"),
    ({"created_by": "bob; DROP ROLE ops_app"}, "the user staging an order must be"),
    ({"risk_score": Decimal(101)}, "risk score must be between 0 and 100"),
    ({"risk_score": Decimal("NaN")}, "risk score must be between 0 and 100"),
    ({"time_in_force": "forever"}, "time_in_force must be one of 'day', 'gtc'"),
    ({"expires_at": datetime(2000, 1, 1, tzinfo=UTC)}, "must expire after it is staged"),
    ({"strategy_id": 987654321}, "no strategy with that id"),
]


@pytest.mark.parametrize(("change", "message"), BAD_INPUTS)
def test_bad_inputs_refused_with_a_clear_error_nothing_written(
    db: psycopg.Connection[Any], change: dict[str, Any], message: str
) -> None:
    s = strategy(db)
    before = (count(db, "staged_orders"), count(db, "order_events"))
    kwargs: dict[str, Any] = {"strategy_id": s.id, "client_order_id": "bad-1", "symbol": "AAPL", "side": "buy",
                              "order_type": "limit", "quantity": Decimal(1), "limit_price": Decimal(10),
                              "created_by": "alice"}
    kwargs.update(change)
    with pytest.raises(ValidationError) as info:
        orders.stage_order(db, **kwargs)
    assert message in str(info.value)
    assert (count(db, "staged_orders"), count(db, "order_events")) == before
    assert db.execute("SELECT to_regclass('trading.staged_orders') IS NOT NULL").fetchone() == (True,)


def test_huge_number_beyond_numeric_is_refused(db: psycopg.Connection[Any]) -> None:
    s = strategy(db)
    with pytest.raises(ValidationError):
        stage(db, s.id, quantity=Decimal("1e200000"))
    assert count(db, "staged_orders") == 0


@pytest.mark.parametrize(("fill", "message"), [
    ({"quantity": Decimal(0)}, "fill quantity must be a positive number"),
    ({"quantity": Decimal("NaN")}, "fill quantity must be a positive number"),
    ({"price": Decimal(-1)}, "fill price must be a positive number"),
    ({"price": Decimal("Infinity")}, "fill price must be a positive number"),
    ({"commission": Decimal(-1)}, "commission and fees must be"),
    ({"venue": "NYSE; --"}, "venue must be"),
    ({"broker_trade_id": "t'1"}, "broker trade id must be"),
])
def test_bad_fills_refused_nothing_written(db: psycopg.Connection[Any], fill: dict[str, Any], message: str) -> None:
    order = order_in(db, strategy(db).id, "submitted")
    before = (count(db, "executions"), count(db, "positions"), count(db, "order_events"))
    args: dict[str, Any] = {"quantity": Decimal(10), "price": Decimal(10)}
    args.update(fill)
    quantity, price = args.pop("quantity"), args.pop("price")
    with pytest.raises(ValidationError, match=message):
        orders.record_fill(db, order.id, quantity, price, **args)
    assert (count(db, "executions"), count(db, "positions"), count(db, "order_events")) == before
    assert orders.get_order(db, order.id).filled_quantity == 0


def test_overfill_refused_and_nothing_written(db: psycopg.Connection[Any]) -> None:
    order = order_in(db, strategy(db).id, "submitted")
    orders.record_fill(db, order.id, Decimal(60), Decimal(10))
    before = (count(db, "executions"), count(db, "positions"), count(db, "order_events"))
    with pytest.raises(Overfill, match=f"would take order {order.id} to 110 of 100"):
        orders.record_fill(db, order.id, Decimal(50), Decimal(10))
    assert (count(db, "executions"), count(db, "positions"), count(db, "order_events")) == before
    after = orders.get_order(db, order.id)
    assert (after.status, after.filled_quantity) == ("partially_filled", 60)
    from ops_db.ledger.positions import position_by_symbol

    position = position_by_symbol(db, "AAPL")
    assert position is not None and position.quantity == 60


def test_duplicate_broker_trade_id_refused(db: psycopg.Connection[Any]) -> None:
    order = order_in(db, strategy(db).id, "submitted")
    orders.record_fill(db, order.id, Decimal(10), Decimal(10), broker_trade_id="T-1")
    with pytest.raises(ValidationError, match="already recorded"):
        orders.record_fill(db, order.id, Decimal(10), Decimal(10), broker_trade_id="T-1")
    assert orders.get_order(db, order.id).filled_quantity == 10


def test_fill_for_unknown_or_unsubmitted_order(db: psycopg.Connection[Any]) -> None:
    with pytest.raises(OrderNotFound, match="no order with id 99999999"):
        orders.record_fill(db, 99999999, Decimal(1), Decimal(1))
    approved = order_in(db, strategy(db).id, "approved")
    with pytest.raises(InvalidTransition, match="fills are recorded only for submitted orders"):
        orders.record_fill(db, approved.id, Decimal(1), Decimal(1))


def test_lookups(db: psycopg.Connection[Any]) -> None:
    order = order_in(db, strategy(db).id, "submitted", client_order_id="look-1")
    assert orders.get_order(db, order.id) == order
    assert orders.get_order_by_client_id(db, "look-1") == order
    assert order.broker_order_id is not None
    assert orders.get_order_by_broker_id(db, order.broker_order_id) == order
    for call in (
        lambda: orders.get_order(db, 99999999),
        lambda: orders.get_order_by_client_id(db, "nope"),
        lambda: orders.get_order_by_broker_id(db, "nope"),
        lambda: orders.approve_order(db, 99999999, "bob"),
    ):
        with pytest.raises(OrderNotFound, match="no order with"):
            call()


def test_list_orders_keyset_pagination_and_filters(db: psycopg.Connection[Any]) -> None:
    s = strategy(db)
    other = strategy(db)
    made = [stage(db, s.id, symbol="AAPL" if i % 2 else "MSFT") for i in range(7)]
    stage(db, other.id)
    seen: list[int] = []
    page = orders.list_orders(db, strategy_id=s.id, limit=3)
    while True:
        seen.extend(o.id for o in page.orders)
        if page.next_cursor is None:
            break
        page = orders.list_orders(db, strategy_id=s.id, limit=3, after=page.next_cursor)
    assert seen == sorted((o.id for o in made), reverse=True)  # same created_at: id breaks the tie
    msft = orders.list_orders(db, strategy_id=s.id, symbol="MSFT").orders
    assert {o.symbol for o in msft} == {"MSFT"} and len(msft) == 4
    orders.cancel_order(db, made[0].id, "alice")
    cancelled = orders.list_orders(db, statuses=["cancelled"], strategy_id=s.id).orders
    assert [o.id for o in cancelled] == [made[0].id]
    now = datetime.now(UTC)
    assert orders.list_orders(db, strategy_id=s.id, since=now + timedelta(days=1)).orders == ()
    with pytest.raises(ValidationError):
        orders.list_orders(db, limit=0)


def test_list_orders_uses_an_index(db: psycopg.Connection[Any]) -> None:
    from ops_db.core.queries import q

    db.execute("SET LOCAL enable_seqscan = off")
    params = {"statuses": None, "symbol": None, "strategy_id": None, "since": None, "until": None,
              "after_created_at": None, "after_id": None, "limit": 10}
    plan = db.execute("EXPLAIN (FORMAT JSON) " + q("list_orders"), params).fetchone()  # type: ignore[operator]
    assert plan is not None
    assert "staged_orders_created_at_idx" in str(plan[0])


def test_order_updates_delivered_by_notify(fresh_db: str) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as listener, psycopg.connect(fresh_db) as writer:
        updates = orders.order_updates(listener, timeout=30, stop_after=4)
        s = strategy(writer)
        order = stage(writer, s.id)
        orders.screen_order(writer, order.id)
        orders.submit_order(writer, order.id, "B-N1")
        orders.record_fill(writer, order.id, Decimal(100), Decimal(10))  # each call committed on its own
        received = list(updates)
    assert [(u.order_id, u.event.event_type, u.event.from_status, u.event.to_status) for u in received] == [
        (order.id, "created", None, "staged"),
        (order.id, "transition", "staged", "approved"),
        (order.id, "transition", "approved", "submitted"),
        (order.id, "fill", "submitted", "filled"),
    ]
    assert received[-1].order.filled_quantity == 100 and received[0].order.client_order_id == order.client_order_id


def test_rolled_back_changes_notify_nobody(fresh_db: str) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as listener, psycopg.connect(fresh_db) as writer:
        updates = orders.order_updates(listener, timeout=0.5)
        with writer.transaction(force_rollback=True):  # the caller's transaction: each call a savepoint in it
            stage(writer, strategy(writer).id)
        assert list(updates) == []


def test_order_updates_need_autocommit(db: psycopg.Connection[Any]) -> None:
    with pytest.raises(OpsDbError, match="autocommit"):
        orders.order_updates(db)


def test_concurrent_fills_past_the_quantity_one_is_refused(fresh_db: str) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as setup:
        order = order_in(setup, strategy(setup).id, "submitted")  # 100
    outcome: list[str] = []
    with psycopg.connect(fresh_db, autocommit=True) as a, psycopg.connect(fresh_db, autocommit=True) as b:
        a.execute("BEGIN")
        orders.record_fill(a, order.id, Decimal(70), Decimal(10))

        def second() -> None:
            try:
                orders.record_fill(b, order.id, Decimal(40), Decimal(10))
                outcome.append("filled")
            except Overfill as exc:
                outcome.append(str(exc))

        t = threading.Thread(target=second)
        t.start()
        _wait_until_blocked(a, b)
        a.execute("COMMIT")
        t.join()
        assert outcome == [f"a fill of 40 would take order {order.id} to 110 of 100: overfill refused"]
        assert orders.get_order(a, order.id).filled_quantity == 70
        assert a.execute("SELECT sum(quantity) FROM trading.positions WHERE status = 'open'").fetchone() == (70,)
