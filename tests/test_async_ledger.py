"""ops_db.aio.ledger against the real database: every async public function at least once; orders
and fills as thoroughly as the sync tests (workflow, refusals, idempotent staging, overfill, kill
switch, concurrent fills through an AsyncConnectionPool, the LISTEN iterator); and mypy refusing
a vocabulary the Literal types do not hold.

Plain pytest functions driving ``asyncio.run``: no async test plugin needed.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import re
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar, cast

import psycopg
import pytest
from psycopg.pq import TransactionStatus

from ops_db.aio.core import db
from ops_db.aio.ledger import alerts, kill_switch, orders, positions, strategies
from ops_db.core import contract
from ops_db.core.errors import (
    DuplicateOrder,
    InvalidTransition,
    KillSwitchActive,
    NotFound,
    OrderNotFound,
    Overfill,
    SelfApproval,
    ValidationError,
)
from ops_db.model import ledger as model
from tests.ledger_helpers import unique

ROOT = Path(__file__).resolve().parent.parent
MODULES = ("orders", "positions", "strategies", "kill_switch", "alerts")
AConn = psycopg.AsyncConnection[Any]
T = TypeVar("T")


def run(coro: Callable[[], Awaitable[T]]) -> T:
    async def main() -> T:
        return await coro()

    return asyncio.run(main())


# -- helpers: the async twins of tests/ledger_helpers.py ------------------------------------------


async def astrategy(conn: AConn, **kwargs: Any) -> model.Strategy:
    kwargs.setdefault("max_order_quantity", Decimal(1000))
    return await strategies.create_strategy(conn, unique("astrategy"), **kwargs)


async def astage(conn: AConn, strategy_id: int, **kwargs: Any) -> model.Order:
    kwargs.setdefault("client_order_id", unique("ac"))
    kwargs.setdefault("symbol", "AAPL")
    kwargs.setdefault("side", "buy")
    kwargs.setdefault("order_type", "limit")
    kwargs.setdefault("quantity", Decimal(100))
    if kwargs["order_type"] in ("limit", "stop_limit"):
        kwargs.setdefault("limit_price", Decimal(10))
    if kwargs["order_type"] in ("stop", "stop_limit"):
        kwargs.setdefault("stop_price", Decimal(9))
    kwargs.setdefault("created_by", "alice")
    return await orders.stage_order(conn, strategy_id=strategy_id, **kwargs)


async def asubmitted(conn: AConn, strategy_id: int, **kwargs: Any) -> model.Order:
    """An order staged, screened (approved by bob when it needs approval) and submitted."""
    order = await orders.screen_order(conn, (await astage(conn, strategy_id, **kwargs)).id)
    if order.status == "pending_approval":
        order = await orders.approve_order(conn, order.id, "bob")
    return await orders.submit_order(conn, order.id, unique("AB"))


async def atrade(conn: AConn, strategy_id: int, side: model.Side, quantity: Decimal, price: Decimal,
                 **kwargs: Any) -> model.Execution:
    order = await asubmitted(conn, strategy_id, side=side, quantity=quantity, order_type="market", **kwargs)
    return await orders.record_fill(conn, order.id, quantity, price)


async def acount(conn: AConn, table: str) -> int:
    queries = {
        "staged_orders": "SELECT count(*) FROM trading.staged_orders",
        "order_events": "SELECT count(*) FROM trading.order_events",
        "executions": "SELECT count(*) FROM trading.executions",
        "positions": "SELECT count(*) FROM trading.positions",
        "strategies": "SELECT count(*) FROM trading.strategies",
    }
    cur = await conn.execute(queries[table])  # type: ignore[call-overload]
    row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def counts(conn: AConn) -> tuple[int, ...]:
    return tuple([await acount(conn, t) for t in ("staged_orders", "order_events", "executions", "positions")])


async def usable(conn: AConn) -> bool:
    cur = await conn.execute("SELECT 1")
    return await cur.fetchone() == (1,)


# -- the API surface -----------------------------------------------------------------------------


def public(module_name: str) -> dict[str, Callable[..., Any]]:
    return contract.public_functions(importlib.import_module(f"ops_db.aio.ledger.{module_name}"))


def test_async_and_sync_modules_offer_the_same_contract() -> None:
    for name in MODULES:
        async_api = public(name)
        sync_api = contract.public_functions(importlib.import_module(f"ops_db.ledger.{name}"))
        assert sorted(async_api) == sorted(sync_api), name
        for fname, func in async_api.items():
            assert getattr(func, "__ops_db_contract__", False), f"{name}.{fname} has no @api"
            if fname != "order_ids_of":  # pure: parses a payload, no connection
                assert inspect.iscoroutinefunction(func), f"{name}.{fname} is not async"
                hints = inspect.signature(inspect.unwrap(func)).parameters["conn"].annotation
                assert "AsyncConnection" in str(hints), f"{name}.{fname}: conn is {hints}"


def test_every_async_public_function_is_called_here() -> None:
    source = Path(__file__).read_text()
    missing = [f"{m}.{f}" for m in MODULES for f in public(m) if not re.search(rf"\b{m}\.{f}\(", source)]
    assert not missing, f"async public functions no test here calls: {missing}"


def test_a_sync_connection_is_refused_by_the_async_api(fresh_db: str) -> None:
    with psycopg.connect(fresh_db) as conn, pytest.raises(ValidationError, match=r"conn must be a psycopg\.Async"):
        run(lambda: orders.get_order(cast(Any, conn), 1))


# -- orders and fills ------------------------------------------------------------------------------


def test_full_workflow_each_call_committed(fresh_db: str) -> None:
    async def body() -> None:
        async with await db.connect(fresh_db) as conn, await db.connect(fresh_db, autocommit=True) as other:
            s = await astrategy(conn, requires_approval=True)
            assert conn.info.transaction_status == TransactionStatus.IDLE  # committed, not left open
            order = await astage(conn, s.id, client_order_id="aw-1", symbol="MSFT", quantity=Decimal(100),
                                 limit_price=Decimal("401.25"), tags=["swing"], metadata={"note": "x"})
            assert isinstance(order, model.Order) and order.status == "staged" and order.is_open
            assert (await orders.get_order(other, order.id)).id == order.id  # visible to another session
            pending = await orders.screen_order(conn, order.id)
            assert pending.status == "pending_approval" and pending.approval_reasons
            with pytest.raises(SelfApproval):
                await orders.approve_order(conn, order.id, "alice")
            approved = await orders.approve_order(conn, order.id, "bob")
            assert (approved.status, approved.approved_by) == ("approved", "bob")
            submitted = await orders.submit_order(conn, order.id, "AB-1", actor="oms")
            assert submitted.status == "submitted" and submitted.broker_order_id == "AB-1"
            first = await orders.record_fill(conn, order.id, Decimal(40), Decimal(400), commission=Decimal(1),
                                             venue="XNAS", broker_trade_id="AT-1")
            assert isinstance(first, model.Execution) and first.side == "buy" and first.recorded_by == "broker"
            part = await orders.get_order(conn, order.id)
            assert (part.status, part.filled_quantity, part.remaining_quantity) == ("partially_filled", 40, 60)
            await orders.record_fill(conn, order.id, Decimal(60), Decimal(402), actor="gateway")
            done = await orders.get_order_by_client_id(conn, "aw-1")
            assert (done.status, done.filled_quantity, done.avg_fill_price) == ("filled", 100, Decimal("401.2"))
            assert not done.is_open and done == await orders.get_order_by_broker_id(conn, "AB-1")
            trail = await orders.order_events(conn, order.id)
            assert [(e.event_type, e.from_status, e.to_status) for e in trail] == [
                ("created", None, "staged"),
                ("transition", "staged", "pending_approval"),
                ("transition", "pending_approval", "approved"),
                ("transition", "approved", "submitted"),
                ("fill", "submitted", "partially_filled"),
                ("fill", "partially_filled", "filled"),
            ]
            fills = await orders.order_executions(conn, order.id)
            assert [(f.quantity, f.recorded_by) for f in fills] == [(40, "broker"), (60, "gateway")]
            position = await positions.position_by_symbol(other, "MSFT")
            assert position is not None and position.quantity == 100 and position.direction == "long"
            assert {c.status: c.orders for c in await orders.today_status_counts(conn)} == {"filled": 1}
            assert conn.info.transaction_status == TransactionStatus.IDLE

    run(body)


def test_refusals_write_nothing_and_leave_the_callers_transaction_usable(fresh_db: str) -> None:
    async def body() -> None:
        async with await db.connect(fresh_db) as conn:
            async with conn.transaction(force_rollback=True):  # the caller's transaction; each call a savepoint
                s = await astrategy(conn)
                submitted = await asubmitted(conn, s.id)
                staged = await astage(conn, s.id)
                before = await counts(conn)
                refusals: list[tuple[type[Exception], str, Callable[[], Awaitable[Any]]]] = [
                    (ValidationError, "quantity must be a positive number",
                     lambda: astage(conn, s.id, quantity=Decimal(0))),
                    (ValidationError, "side must be one of 'buy', 'sell'",
                     lambda: astage(conn, s.id, side=cast(Any, "BUY"))),
                    (ValidationError, "symbol must be", lambda: astage(conn, s.id, symbol="aapl")),
                    (ValidationError, "no strategy with that id", lambda: astage(conn, 987654321)),
                    (InvalidTransition, "cannot become submitted",
                     lambda: orders.submit_order(conn, staged.id, unique("AB"))),
                    (OrderNotFound, "no order with id 99999999", lambda: orders.approve_order(conn, 99999999, "bob")),
                    (OrderNotFound, "no order with id 99999999",
                     lambda: orders.record_fill(conn, 99999999, Decimal(1), Decimal(1))),
                    (Overfill, "to 101 of 100",
                     lambda: orders.record_fill(conn, submitted.id, Decimal(101), Decimal(10))),
                    (ValidationError, "page size", lambda: orders.list_orders(conn, limit=0)),
                    (NotFound, "no open position in ZZZZ", lambda: positions.mark_to_market(conn, "ZZZZ", Decimal(1))),
                ]
                for error, message, call in refusals:
                    with pytest.raises(error, match=re.escape(message)):
                        await call()
                    assert await usable(conn), message
                    assert await counts(conn) == before, message
                # a valid call after the refusals goes through, inside the same transaction
                fill = await orders.record_fill(conn, submitted.id, Decimal(100), Decimal(10))
                assert (await orders.get_order(conn, fill.order_id)).status == "filled"
            # on an idle connection a refusal leaves no transaction open either
            assert conn.info.transaction_status == TransactionStatus.IDLE
            with pytest.raises(ValidationError, match="max order quantity"):
                await astrategy(conn, max_order_quantity=Decimal(-1))
            assert conn.info.transaction_status == TransactionStatus.IDLE
            assert await acount(conn, "staged_orders") == 0  # the caller rolled back: nothing stayed

    run(body)


def test_staging_is_idempotent_and_a_changed_retry_is_a_duplicate(fresh_db: str) -> None:
    async def body() -> None:
        async with await db.connect(fresh_db) as conn:
            s = await astrategy(conn)
            first = await astage(conn, s.id, client_order_id="aretry-1")
            again = await astage(conn, s.id, client_order_id="aretry-1")
            assert again == first
            events = await acount(conn, "order_events")
            with pytest.raises(DuplicateOrder, match=f"already used by order {first.id}"):
                await astage(conn, s.id, client_order_id="aretry-1", quantity=Decimal(5))
            assert await acount(conn, "order_events") == events
            assert await acount(conn, "staged_orders") == 1

    run(body)


def test_staging_the_same_order_from_many_connections_at_once_is_one_order(fresh_db: str) -> None:
    async def body() -> None:
        async with await db.connect(fresh_db) as setup:
            s = await astrategy(setup)
        pool = await db.create_pool(fresh_db)
        try:
            async def one() -> model.Order:
                async with pool.connection() as conn:
                    return await astage(conn, s.id, client_order_id="arace-1")

            staged = await asyncio.gather(*(one() for _ in range(5)))
            assert len({o.id for o in staged}) == 1
            async with pool.connection() as conn:
                assert await acount(conn, "staged_orders") == 1
        finally:
            await pool.close()

    run(body)


def test_state_changes_expiry_and_pagination(fresh_db: str) -> None:
    async def body() -> None:
        async with await db.connect(fresh_db) as conn:
            s = await astrategy(conn)
            other = await astrategy(conn)
            cancelled = await orders.cancel_order(conn, (await astage(conn, s.id)).id, "alice", "changed my mind")
            assert (cancelled.status, cancelled.status_reason) == ("cancelled", "changed my mind")
            rejected = await orders.reject_order(conn, (await astage(conn, s.id)).id, "bob", "too big")
            assert (rejected.status, rejected.rejection_reason) == ("rejected", "too big")
            expired = await orders.expire_order(conn, (await astage(conn, s.id)).id, reason="end of day")
            assert expired.status == "expired"
            due = await astage(conn, s.id, expires_at=datetime.now(UTC) + timedelta(milliseconds=300))
            await asyncio.sleep(0.4)
            assert [o.id for o in await orders.expire_due_orders(conn)] == [due.id]
            assert (await orders.get_order(conn, due.id)).status == "expired"
            with pytest.raises(InvalidTransition):
                await orders.cancel_order(conn, due.id, "alice")
            made = [await astage(conn, s.id, symbol="MSFT" if i % 2 else "AAPL") for i in range(5)]
            await astage(conn, other.id)
            seen: list[int] = []
            after = None
            while True:
                page = await orders.list_orders(conn, strategy_id=s.id, statuses=["staged"], limit=2, after=after)
                seen.extend(o.id for o in page.orders)
                if page.next_cursor is None:
                    break
                after = page.next_cursor
            assert seen == sorted((o.id for o in made), reverse=True)
            msft = await orders.list_orders(conn, symbol="MSFT", since=datetime.now(UTC) - timedelta(hours=1),
                                            until=datetime.now(UTC) + timedelta(minutes=1))
            assert {o.symbol for o in msft.orders} == {"MSFT"} and len(msft.orders) == 2
            counted = {c.status: c.orders for c in await orders.today_status_counts(conn)}
            assert counted == {"staged": 6, "expired": 2, "cancelled": 1, "rejected": 1}

    run(body)


def test_overfill_refused_and_concurrent_fills_of_one_order(fresh_db: str) -> None:
    async def body() -> None:
        async with await db.connect(fresh_db) as conn:
            order = await asubmitted(conn, (await astrategy(conn)).id)  # 100
            await orders.record_fill(conn, order.id, Decimal(60), Decimal(10))
            before = await counts(conn)
            with pytest.raises(Overfill, match=f"would take order {order.id} to 110 of 100"):
                await orders.record_fill(conn, order.id, Decimal(50), Decimal(10))
            assert await counts(conn) == before
            race = await asubmitted(conn, (await astrategy(conn)).id, symbol="MSFT")
        pool = await db.create_pool(fresh_db)
        try:
            async def fill(quantity: Decimal) -> str:
                async with pool.connection() as c:
                    try:
                        await orders.record_fill(c, race.id, quantity, Decimal(10))
                        return "filled"
                    except Overfill:
                        return "overfill"

            outcomes = await asyncio.gather(fill(Decimal(70)), fill(Decimal(70)))
            assert sorted(outcomes) == ["filled", "overfill"]
            async with pool.connection() as c:
                final = await orders.get_order(c, race.id)
                assert (final.status, final.filled_quantity) == ("partially_filled", 70)
                position = await positions.position_by_symbol(c, "MSFT")
                assert position is not None and position.quantity == 70
        finally:
            await pool.close()

    run(body)


def test_concurrent_fills_on_one_symbol_keep_the_books_consistent(fresh_db: str) -> None:
    """Buys then sells of one symbol, each wave filled at once from several pooled connections."""
    buys = [(Decimal(q), Decimal(p)) for q, p in ((50, 10), (30, 11), (20, "12.5"), (40, 9), (60, "10.25"))]
    sells = [(Decimal(q), Decimal(p)) for q, p in ((25, 12), (15, 11), (10, 9))]

    async def body() -> None:
        async with await db.connect(fresh_db) as setup:
            s = await astrategy(setup)
            buy_orders = [await asubmitted(setup, s.id, symbol="CONC", quantity=q, order_type="market")
                          for q, _ in buys]
            sell_orders = [await asubmitted(setup, s.id, symbol="CONC", side="sell", quantity=q,
                                            order_type="market") for q, _ in sells]
        pool = await db.create_pool(fresh_db)
        try:
            async def fill(order: model.Order, price: Decimal) -> model.Execution:
                async with pool.connection() as c:
                    return await orders.record_fill(c, order.id, order.quantity, price)

            await asyncio.gather(*(fill(o, p) for o, (_, p) in zip(buy_orders, buys, strict=True)))
            async with pool.connection() as c:
                long = await positions.position_by_symbol(c, "CONC")
            bought = sum(q for q, _ in buys)
            assert long is not None and long.quantity == bought and long.realized_pnl == 0
            cost = sum(q * p for q, p in buys)
            assert abs(long.avg_cost * bought - cost) < Decimal("0.01")  # average cost, whatever the order
            sold = await asyncio.gather(*(fill(o, p) for o, (_, p) in zip(sell_orders, sells, strict=True)))
            async with pool.connection() as c:
                after = await positions.position_by_symbol(c, "CONC")
                assert after is not None and after.id == long.id
                assert after.quantity == bought - sum(q for q, _ in sells)
                assert after.avg_cost == long.avg_cost  # reducing never moves the average cost
                assert after.realized_pnl == sum(e.realized_pnl for e in sold)
                expected = sum((p - long.avg_cost) * q for q, p in sells)
                assert abs(after.realized_pnl - expected) < Decimal("0.01")
                for order in buy_orders + sell_orders:
                    assert (await orders.get_order(c, order.id)).status == "filled"
                assert await acount(c, "executions") == len(buys) + len(sells)
        finally:
            await pool.close()

    run(body)


def test_kill_switch_halts_new_orders_but_not_risk_reduction(fresh_db: str) -> None:
    async def body() -> None:
        async with await db.connect(fresh_db) as conn:
            assert (await kill_switch.kill_switch_state(conn)).active is False
            s = await astrategy(conn)
            at_broker = await asubmitted(conn, s.id)
            approved = await orders.screen_order(conn, (await astage(conn, s.id)).id)
            staged = await astage(conn, s.id)
            state = await kill_switch.activate_kill_switch(conn, "drawdown", "risk-desk")
            assert (state.active, state.reason, state.actor) == (True, "drawdown", "risk-desk")
            assert (await kill_switch.kill_switch_state(conn)).active is True
            before = await counts(conn)
            for refused in (
                lambda: astage(conn, s.id),
                lambda: orders.submit_order(conn, approved.id, unique("AB")),
                lambda: orders.screen_order(conn, staged.id),
            ):
                with pytest.raises(KillSwitchActive, match="halted by the kill switch"):
                    await refused()
            assert await counts(conn) == before
            # risk comes off: fills of orders at the broker, cancels and rejections go through
            await orders.record_fill(conn, at_broker.id, Decimal(100), Decimal(10))
            assert (await orders.cancel_order(conn, approved.id, "risk-desk", "halt")).status == "cancelled"
            assert (await orders.reject_order(conn, staged.id, "risk-desk", "halt")).status == "rejected"
            assert await kill_switch.kill_switch_blockers(conn) == []
            assert await kill_switch.terminate_session(conn, 0) is False  # no such backend
            resumed = await kill_switch.deactivate_kill_switch(conn, "recovered", "risk-desk")
            assert resumed.active is False and (await astage(conn, s.id)).status == "staged"

    run(body)


def test_a_blocker_is_named_and_can_be_terminated(fresh_db: str) -> None:
    async def body() -> None:
        async with await db.connect(fresh_db) as admin, await db.connect(fresh_db) as stuck:
            s = await astrategy(admin)
            await stuck.execute("SELECT 1")  # the client's own transaction, left open
            await astage(stuck, s.id)  # a savepoint in it: holds the kill switch state FOR SHARE until it ends
            blockers = await kill_switch.kill_switch_blockers(admin)
            assert [b.pid for b in blockers] == [stuck.info.backend_pid]
            assert isinstance(blockers[0], model.KillSwitchBlocker) and blockers[0].transaction_seconds is not None
            assert await kill_switch.terminate_session(admin, stuck.info.backend_pid) is True
            with pytest.raises(psycopg.OperationalError):
                await stuck.execute("SELECT 1")
            assert await kill_switch.kill_switch_blockers(admin) == []
            assert await acount(admin, "staged_orders") == 0  # its transaction rolled back

    run(body)


# -- live updates ------------------------------------------------------------------------------------


def test_order_updates_arrive_and_forged_payloads_are_dropped(fresh_db: str) -> None:
    async def body() -> None:
        async with await db.connect(fresh_db, autocommit=True) as listener, await db.connect(fresh_db) as writer:
            updates = await orders.order_updates(listener, timeout=30, stop_after=3)
            s = await astrategy(writer)
            decoy = await astage(writer, s.id)  # update 1
            decoy_event = (await orders.order_events(writer, decoy.id))[0]
            for payload in (
                "not json",
                '{"order_id": "1", "event_id": 1}',
                f'{{"order_id": {decoy.id}, "event_id": 99999999}}',  # no such event
                f'{{"order_id": 99999999, "event_id": {decoy_event.id}}}',  # an event of another order
            ):
                await writer.execute("SELECT pg_notify('order_updates', %s)", (payload,))
                await writer.commit()
            await writer.execute("SELECT pg_notify('other_channel', %s)",
                                 (f'{{"order_id": {decoy.id}, "event_id": {decoy_event.id}}}',))
            await writer.commit()
            screened = await orders.screen_order(writer, decoy.id)  # update 2
            await orders.cancel_order(writer, screened.id, "alice")  # update 3
            received = [u async for u in updates]
            assert [(u.order_id, u.event.to_status) for u in received] == [
                (decoy.id, "staged"), (decoy.id, "approved"), (decoy.id, "cancelled")]
            assert isinstance(received[0], model.OrderUpdate) and received[-1].order.status == "cancelled"
            assert orders.order_ids_of(f'{{"order_id": {decoy.id}, "event_id": 3}}') == (decoy.id, 3)
            assert orders.order_ids_of('{"order_id": true, "event_id": 3}') is None
            update = await orders.read_update(listener, decoy.id, decoy_event.id)
            assert update is not None and update.event == decoy_event
            assert await orders.read_update(listener, decoy.id, 99999999) is None

    run(body)


def test_order_updates_end_at_the_timeout_and_need_autocommit(fresh_db: str) -> None:
    async def body() -> None:
        async with await db.connect(fresh_db, autocommit=True) as listener:
            started = time.monotonic()
            updates = await orders.order_updates(listener, timeout=0.3)
            assert [u async for u in updates] == []
            assert 0.25 < time.monotonic() - started < 10
        async with await db.connect(fresh_db) as not_autocommit:
            with pytest.raises(ValidationError, match="autocommit"):
                await orders.order_updates(not_autocommit)
            with pytest.raises(ValidationError, match="stop_after must be"):
                await orders.order_updates(not_autocommit, stop_after=cast(Any, "3"))

    run(body)


def test_rolled_back_changes_notify_nobody(fresh_db: str) -> None:
    async def body() -> None:
        async with await db.connect(fresh_db, autocommit=True) as listener, await db.connect(fresh_db) as writer:
            updates = await orders.order_updates(listener, timeout=0.5)
            async with writer.transaction(force_rollback=True):
                await astage(writer, (await astrategy(writer)).id)
            assert [u async for u in updates] == []

    run(body)


# -- positions and P&L ---------------------------------------------------------------------------------


def test_positions_marks_snapshots_and_pnl(fresh_db: str) -> None:
    async def body() -> None:
        async with await db.connect(fresh_db) as conn:
            start = datetime.now(UTC) - timedelta(seconds=5)
            s = await astrategy(conn)
            assert await positions.order_to_trade_ratio(conn) is None  # nothing traded yet
            await atrade(conn, s.id, "buy", Decimal(100), Decimal(10))
            await atrade(conn, s.id, "buy", Decimal(10), Decimal(50), symbol="MSFT")
            held = await positions.open_positions(conn)
            assert {p.symbol for p in held} == {"AAPL", "MSFT"}
            marked = await positions.mark_to_market(conn, "AAPL", Decimal(12), at=datetime.now(UTC))
            assert (marked.market_value, marked.unrealized_pnl) == (1200, 200)
            snap = await positions.take_portfolio_snapshot(conn, Decimal(1000), details={"k": 1})
            assert isinstance(snap, model.PortfolioSnapshot) and snap.open_positions == 2
            assert snap.total_value == snap.cash_balance + snap.positions_value and snap.details == {"k": 1}
            assert await positions.latest_portfolio_snapshot(conn) == snap
            assert await positions.portfolio_history(conn, start) == [snap]
            pnl = await positions.today_pnl(conn)
            assert isinstance(pnl, model.TodayPnl) and pnl.fills == 2 and pnl.unrealized_pnl == 200
            assert await positions.order_to_trade_ratio(conn) == 1
            closing = await atrade(conn, s.id, "sell", Decimal(100), Decimal(13))
            assert closing.realized_pnl == 300
            assert await positions.position_by_symbol(conn, "AAPL") is None
            closed = await positions.close_position(conn, "MSFT", Decimal(45), "written off")
            assert (closed.status, closed.close_reason, closed.realized_pnl) == ("closed", "written off", -50)
            assert {p.symbol for p in await positions.closed_positions(conn, start)} == {"AAPL", "MSFT"}
            assert await positions.open_positions(conn) == []
            with pytest.raises(NotFound, match="no open position in MSFT"):
                await positions.close_position(conn, "MSFT", Decimal(45), "again")
            today = datetime.now().astimezone().date()
            stats = await positions.refresh_daily_stats(conn, today)
            assert (stats.orders_placed, stats.orders_filled, stats.trades_executed) == (3, 3, 3)
            assert await positions.daily_stats(conn, today) == stats
            assert await positions.daily_stats(conn, today - timedelta(days=400)) is None

    run(body)


# -- strategies, alerts, reconciliation ---------------------------------------------------------------


def test_strategies_alerts_and_reconciliation(fresh_db: str) -> None:
    async def body() -> None:
        async with await db.connect(fresh_db) as conn:
            s = await strategies.create_strategy(conn, "Async MR", strategy_type="mean_reversion", mode="LIVE",
                                                 max_order_quantity=Decimal(500), params={"lookback": 20})
            assert isinstance(s, model.Strategy) and s.mode == "LIVE" and s.params == {"lookback": 20}
            assert await strategies.get_strategy(conn, s.id) == s
            assert await strategies.strategy_by_name(conn, "Async MR") == s
            assert await strategies.strategy_by_name(conn, "nope") is None
            off = await strategies.set_strategy_active(conn, s.id, False)
            assert off.active is False
            assert off not in await strategies.list_strategies(conn, active_only=True)
            assert off in await strategies.list_strategies(conn)
            with pytest.raises(ValidationError, match="already exists"):
                await strategies.create_strategy(conn, "Async MR")
            with pytest.raises(NotFound, match="no strategy with id 99999999"):
                await strategies.get_strategy(conn, 99999999)
            with pytest.raises(ValidationError, match=f"strategy {s.id} is not active"):
                await astage(conn, s.id)

            info = await alerts.raise_alert(conn, "fill_latency", "INFO", "slow fills", source="oms")
            urgent = await alerts.raise_alert(conn, "drawdown", "EMERGENCY", "loss limit", symbol="AAPL",
                                              details={"loss": 6.1})
            assert [a.id for a in await alerts.unresolved_alerts(conn)] == [urgent.id, info.id]
            done = await alerts.resolve_alert(conn, urgent.id, "risk-desk", "limits reset")
            assert (done.resolved_by, done.resolution) == ("risk-desk", "limits reset")
            with pytest.raises(ValidationError, match="already resolved by risk-desk"):
                await alerts.resolve_alert(conn, urgent.id, "ops", "again")
            with pytest.raises(NotFound, match="no alert with id 99999999"):
                await alerts.resolve_alert(conn, 99999999, "ops", "x")
            with pytest.raises(ValidationError, match="severity must be one of"):
                await alerts.raise_alert(conn, "x", cast(Any, "PANIC"), "m")

            issue = await alerts.log_reconciliation_issue(conn, "AAPL", "quantity_mismatch", our_quantity=Decimal(100),
                                                          broker_quantity=Decimal(90))
            assert isinstance(issue, model.ReconciliationIssue)
            assert [i.id for i in await alerts.unresolved_reconciliation_issues(conn)] == [issue.id]
            fixed = await alerts.resolve_reconciliation_issue(conn, issue.id, "ops", "late fill booked")
            assert fixed.resolution == "late fill booked"
            assert await alerts.unresolved_reconciliation_issues(conn) == []
            with pytest.raises(ValidationError, match="already resolved by ops"):
                await alerts.resolve_reconciliation_issue(conn, issue.id, "ops", "x")

    run(body)


# -- the vocabularies, as the type checker sees them ------------------------------------------------------

_MYPY_BAD = '''
from decimal import Decimal
from typing import Any

import psycopg

from ops_db.aio.ledger import orders as aorders
from ops_db.ledger import orders


def sync_call(conn: psycopg.Connection[Any]) -> None:
    orders.stage_order(conn, client_order_id="c-1", strategy_id=1, symbol="AAPL", side="BUY",
                       order_type="limit", quantity=Decimal(1), limit_price=Decimal(10), created_by="alice")


async def async_call(conn: psycopg.AsyncConnection[Any]) -> None:
    await aorders.stage_order(conn, client_order_id="c-1", strategy_id=1, symbol="AAPL", side="buy",
                              order_type="LIMIT", quantity=Decimal(1), limit_price=Decimal(10), created_by="alice")
'''

_MYPY_GOOD = '''
from decimal import Decimal
from typing import Any

import psycopg

from ops_db.aio.ledger import orders as aorders
from ops_db.ledger import orders
from ops_db.model.ledger import Order, Side


def sync_call(conn: psycopg.Connection[Any], side: Side) -> Order:
    return orders.stage_order(conn, client_order_id="c-1", strategy_id=1, symbol="AAPL", side=side,
                              order_type="limit", quantity=Decimal(1), limit_price=Decimal(10), created_by="alice")


async def async_call(conn: psycopg.AsyncConnection[Any]) -> Order:
    return await aorders.stage_order(conn, client_order_id="c-1", strategy_id=1, symbol="AAPL", side="sell",
                                     order_type="market", quantity=Decimal(1), created_by="alice",
                                     time_in_force="gtc")
'''


def test_mypy_refuses_a_vocabulary_the_literal_types_do_not_hold(tmp_path: Path) -> None:
    bad, good = tmp_path / "bad_call.py", tmp_path / "good_call.py"
    bad.write_text(_MYPY_BAD)
    good.write_text(_MYPY_GOOD)
    mypy = Path(sys.executable).with_name("mypy")
    result = subprocess.run(
        [str(mypy), "--strict", "--no-error-summary", "--cache-dir", str(tmp_path / "cache"), str(bad), str(good)],
        capture_output=True, text=True, cwd=ROOT, timeout=600, check=False,
    )
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert result.returncode == 1, result.stdout + result.stderr
    assert not [e for e in errors if "good_call.py" in e], errors  # the right call type-checks
    side = [e for e in errors if "bad_call.py" in e and '"side"' in e]
    order_type = [e for e in errors if "bad_call.py" in e and '"order_type"' in e]
    assert side and "Literal['BUY']" in side[0] and "[arg-type]" in side[0], errors
    assert "Literal['buy', 'sell']" in side[0], errors
    assert order_type and "Literal['LIMIT']" in order_type[0] and "[arg-type]" in order_type[0], errors
    assert len(errors) == 2, errors
