"""Concurrent fills are never refused for a race, and the books equal a one-by-one replay.

Every run starts 16 fills at once (a barrier) from 16 connections on one new symbol, mixed sides
and sizes, so positions open, grow, shrink, close and flip. The fill trigger serializes fills per
symbol and stamps ``sequenced_at`` once it holds the symbol's lock: replaying the fills in that
order with the average-cost rules must give exactly the positions and P&L the database kept.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import psycopg
import pytest

from ops_db.core.errors import OpsDbError
from ops_db.ledger import orders, positions
from tests.ledger_helpers import order_in, strategy

RUNS = 20
FILLS = 16
TIMEOUT = 30  # seconds a run may take before the test fails (a hang, not a speed check)


@dataclass
class Book:
    quantity: Decimal = Decimal(0)
    avg_cost: Decimal = Decimal(0)
    realized: Decimal = Decimal(0)


Position = tuple[Decimal, Decimal, Decimal, str]


def replay(fills: list[tuple[str, Decimal, Decimal]]) -> tuple[list[Position], list[Decimal]]:
    """Positions (quantity, avg_cost, realized, status) in opening order, and each fill's realized P&L."""
    books: list[Book] = []
    closed: list[bool] = []
    per_fill: list[Decimal] = []
    for side, qty, price in fills:
        signed = qty if side == "buy" else -qty
        if not books or closed[-1]:
            books.append(Book(signed, price))
            closed.append(False)
            per_fill.append(Decimal(0))
            continue
        b = books[-1]
        if (signed > 0) == (b.quantity > 0):
            b.avg_cost = ((abs(b.quantity) * b.avg_cost + qty * price) / (abs(b.quantity) + qty)).quantize(
                Decimal("1e-10"), ROUND_HALF_UP)
            b.quantity += signed
            per_fill.append(Decimal(0))
            continue
        closing = min(qty, abs(b.quantity))
        pnl = closing * (price - b.avg_cost) * (1 if b.quantity > 0 else -1)
        per_fill.append(pnl)
        b.realized += pnl
        remaining = b.quantity + signed
        if remaining != 0 and (remaining > 0) == (b.quantity > 0):
            b.quantity = remaining
            continue
        b.quantity = Decimal(0)
        closed[-1] = True
        if remaining != 0:
            books.append(Book(remaining, price))
            closed.append(False)
    kept = [(b.quantity, b.avg_cost, b.realized, "closed" if c else "open") for b, c in zip(books, closed, strict=True)]
    return kept, per_fill


@pytest.fixture
def conns(fresh_db: str) -> Iterator[list[psycopg.Connection[Any]]]:
    opened = [psycopg.connect(fresh_db, autocommit=True) for _ in range(FILLS)]
    try:
        yield opened
    finally:
        for c in opened:
            c.close()


def _fill_at_once(conns: list[psycopg.Connection[Any]], jobs: list[tuple[int, Decimal, Decimal]]) -> list[str]:
    barrier = threading.Barrier(len(jobs))
    refused: list[str] = []

    def fill(conn: psycopg.Connection[Any], order_id: int, qty: Decimal, price: Decimal) -> None:
        barrier.wait()
        try:
            orders.record_fill(conn, order_id, qty, price)
        except OpsDbError as exc:
            refused.append(str(exc))

    threads = [threading.Thread(target=fill, args=(conns[i % len(conns)], *job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
        assert not t.is_alive(), "a fill hung"
    return refused


def _check_books(conn: psycopg.Connection[Any], symbol: str) -> None:
    fills = conn.execute(
        "SELECT side, quantity, price, realized_pnl FROM trading.executions WHERE symbol = %s"
        " ORDER BY sequenced_at, id", (symbol,)).fetchall()
    expected, per_fill = replay([(s, q, p) for s, q, p, _ in fills])
    assert [f[3] for f in fills] == per_fill
    kept = conn.execute(
        "SELECT quantity, avg_cost, realized_pnl, status FROM trading.positions WHERE symbol = %s ORDER BY id",
        (symbol,)).fetchall()
    assert kept == expected
    assert len({row[0] for row in conn.execute(
        "SELECT sequenced_at FROM trading.executions WHERE symbol = %s", (symbol,)).fetchall()}) == len(fills)


def _submitted(conn: psycopg.Connection[Any], strategy_id: int, symbol: str, side: str, qty: Decimal) -> int:
    return order_in(conn, strategy_id, "submitted", symbol=symbol, side=side, quantity=qty).id


def test_sixteen_concurrent_fills_on_one_new_symbol_are_all_accepted(conns: list[psycopg.Connection[Any]]) -> None:
    setup = conns[0]
    s = strategy(setup, max_order_quantity=None)
    rng = random.Random(10)
    refused_total = 0
    for run in range(RUNS):
        symbol = f"RACE{run}"
        jobs = []
        for _ in range(FILLS):
            side = rng.choice(("buy", "sell"))
            qty = Decimal(rng.randint(1, 60))
            jobs.append((_submitted(setup, s.id, symbol, side, qty), qty, Decimal(rng.randint(90, 110))))
        refused = _fill_at_once(conns, jobs)
        refused_total += len(refused)
        assert refused == [], f"run {run}: {refused}"
        assert setup.execute("SELECT count(*) FROM trading.executions WHERE symbol = %s", (symbol,)).fetchone() == (
            FILLS,)
        _check_books(setup, symbol)
        # every order is filled exactly once
        assert setup.execute(
            "SELECT count(*) FROM trading.staged_orders WHERE symbol = %s AND status = 'filled'", (symbol,)
        ).fetchone() == (FILLS,)
    assert refused_total == 0


def test_concurrent_fills_and_closes_on_many_symbols(conns: list[psycopg.Connection[Any]]) -> None:
    setup = conns[0]
    s = strategy(setup, max_order_quantity=None)
    rng = random.Random(11)
    for run in range(RUNS):
        symbols = [f"M{run}X{k}" for k in range(4)]
        jobs = []
        for i in range(FILLS):
            symbol = symbols[i % 4]
            side = rng.choice(("buy", "sell"))
            qty = Decimal(rng.randint(1, 40))
            jobs.append((_submitted(setup, s.id, symbol, side, qty), qty, Decimal(rng.randint(40, 60))))
        assert _fill_at_once(conns, jobs) == []
        for symbol in symbols:
            _check_books(setup, symbol)


def test_close_position_races_fills_without_refusing_them(conns: list[psycopg.Connection[Any]]) -> None:
    """close_position takes the same symbol lock: fills racing a close are applied before or after it."""
    setup = conns[0]
    s = strategy(setup, max_order_quantity=None)
    for run in range(RUNS):
        symbol = f"CL{run}"
        first = _submitted(setup, s.id, symbol, "buy", Decimal(10))
        orders.record_fill(setup, first, Decimal(10), Decimal(100))
        jobs = [(_submitted(setup, s.id, symbol, "buy" if k % 2 else "sell", Decimal(5)), Decimal(5), Decimal(101))
                for k in range(6)]
        barrier = threading.Barrier(len(jobs) + 1)
        outcome: list[str] = []

        def close(barrier: threading.Barrier, symbol: str, outcome: list[str]) -> None:
            barrier.wait()
            try:
                positions.close_position(conns[-1], symbol, Decimal(100), "write-off")
                outcome.append("closed")
            except OpsDbError as exc:
                outcome.append(type(exc).__name__)

        t = threading.Thread(target=close, args=(barrier, symbol, outcome))
        t.start()
        refused = _fill_at_once_with(barrier, conns, jobs)
        t.join(TIMEOUT)
        assert refused == []
        assert outcome in (["closed"], ["NotFound"])  # NotFound: the fills had taken it flat first
        open_rows = setup.execute(
            "SELECT count(*) FROM trading.positions WHERE symbol = %s AND status = 'open'", (symbol,)).fetchone()
        assert open_rows is not None and open_rows[0] <= 1


def _fill_at_once_with(
    barrier: threading.Barrier, conns: list[psycopg.Connection[Any]], jobs: list[tuple[int, Decimal, Decimal]]
) -> list[str]:
    refused: list[str] = []

    def fill(conn: psycopg.Connection[Any], order_id: int, qty: Decimal, price: Decimal) -> None:
        barrier.wait()
        try:
            orders.record_fill(conn, order_id, qty, price)
        except OpsDbError as exc:
            refused.append(str(exc))

    threads = [threading.Thread(target=fill, args=(conns[i], *job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
        assert not t.is_alive(), "a fill hung"
    return refused
