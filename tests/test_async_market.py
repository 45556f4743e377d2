"""The async API of market data, signals, system events and monitoring (ops_db.aio.*), against the
real database: every public function at least once, ingest as thoroughly as the sync tests, and
the async results equal to the sync ones (generated from the same source) on the same data.

Plain pytest functions driving ``asyncio.run``: no plugin needed.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import psycopg
import pytest
from psycopg import AsyncConnection
from psycopg.pq import TransactionStatus

from ops_db import events, market, monitoring, signals
from ops_db.aio import events as aevents
from ops_db.aio import market as amarket
from ops_db.aio import monitoring as amonitoring
from ops_db.aio import signals as asignals
from ops_db.aio.core import db as adb
from ops_db.core import contract
from ops_db.core.errors import ValidationError
from ops_db.market import MarketEvent, OptionQuote, PriceTick
from ops_db.signals import NewSignal
from tests.conftest import Server
from tests.market_fixtures import bring_rollups_up_to_date, day_start, make_ticks

T = TypeVar("T")
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


async def connect(conninfo: str, *, autocommit: bool = False) -> AsyncConnection[Any]:
    conn = await adb.connect(conninfo, autocommit=autocommit)
    await conn.execute("SET lock_timeout = '20s'")  # a stuck test fails instead of hanging
    await conn.commit()
    return conn


async def count(conn: AsyncConnection[Any], where: str = "true") -> int:
    cur = await conn.execute(f"SELECT count(*) FROM trading.stock_prices WHERE {where}")  # type: ignore[arg-type]
    row = await cur.fetchone()
    assert row is not None
    return int(row[0])


def sync_count(conninfo: str, where: str = "true") -> int:
    with psycopg.connect(conninfo) as conn:
        row = conn.execute(f"SELECT count(*) FROM trading.stock_prices WHERE {where}").fetchone()  # type: ignore[arg-type]
    assert row is not None
    return int(row[0])


def ticks(n: int, symbol: str = "ASY", *, bad_at: int | None = None, price: int = 100) -> Iterator[PriceTick]:
    for i in range(n):
        close = Decimal("NaN") if i == bad_at else Decimal(price) + Decimal(i % 50) / 10
        yield PriceTick(symbol, T0 + timedelta(seconds=i), close, i % 7)


def quote(**kw: Any) -> OptionQuote:
    base: dict[str, Any] = dict(
        option_symbol="AAPL  250117C00150000", underlying_symbol="AAPL", timestamp=T0,
        expiration_date=date(2025, 1, 17), strike_price=Decimal("150"), option_type="CALL",
        bid_price=Decimal("1.10"), ask_price=Decimal("1.20"), volume=5, implied_volatility=Decimal("0.25"),
        delta=Decimal("0.5"),
    )
    base.update(kw)
    return OptionQuote(**base)


# -- the modules -------------------------------------------------------------------------------


def test_every_async_function_has_the_contract_and_a_sync_twin() -> None:
    for asynchronous, synchronous in ((amarket, market), (asignals, signals), (aevents, events),
                                      (amonitoring, monitoring)):
        async_api = contract.public_functions(asynchronous)
        assert async_api, asynchronous.__name__
        assert set(async_api) == set(contract.public_functions(synchronous))
        for name, func in async_api.items():
            assert getattr(func, "__ops_db_contract__", False), f"{asynchronous.__name__}.{name} has no @api"
            assert asyncio.iscoroutinefunction(func), f"{asynchronous.__name__}.{name} is not async"
    # One row type for both: the sync module re-exports the model's classes.
    assert amarket.PriceTick is market.PriceTick and amarket.Bar is market.Bar
    assert asignals.Signal is signals.Signal and aevents.SystemEvent is events.SystemEvent
    assert amonitoring.HealthSample is monitoring.HealthSample


def test_arguments_are_checked_before_anything_is_sent(fresh_db: str) -> None:
    async def main() -> None:
        conn = await connect(fresh_db)
        try:
            with pytest.raises(ValidationError, match="interval must be one of"):
                await amarket.bars(conn, "X", "7m", T0, T0)  # type: ignore[arg-type]
            with pytest.raises(ValidationError, match="severity must be one of"):
                await aevents.record_system_event(conn, "LOUD", "c", "e", "m")  # type: ignore[arg-type]
            with pytest.raises(ValidationError, match="symbols must be a list"):
                await amarket.latest_prices(conn, "AAPL")
            assert conn.info.transaction_status == TransactionStatus.IDLE
        finally:
            await conn.close()
        with psycopg.connect(fresh_db) as sync_conn, pytest.raises(
            ValidationError, match=r"conn must be a psycopg\.AsyncConnection"
        ):
            await amarket.latest_prices(sync_conn)  # type: ignore[arg-type]

    run(main())


# -- ingest ------------------------------------------------------------------------------------


def test_copy_of_many_rows_commits_on_an_idle_connection_and_reingest_is_idempotent(fresh_db: str) -> None:
    async def main() -> None:
        conn = await connect(fresh_db)  # not autocommit: the contract's own transaction commits
        try:
            seen: list[int] = []
            first = await amarket.ingest_prices(conn, list(ticks(30_000)), progress=seen.append)
            assert (first.received, first.inserted, first.updated) == (30_000, 30_000, 0)
            assert sum(seen) == 30_000 and len(seen) == 6
            assert conn.info.transaction_status == TransactionStatus.IDLE
            assert sync_count(fresh_db) == 30_000  # committed: another session sees it

            seen.clear()
            again = await amarket.ingest_prices(conn, ticks(30_000), progress=seen.append)  # a generator
            assert (again.inserted, again.updated, again.unchanged) == (0, 0, 30_000)
            assert sum(seen) == 30_000  # progress counts each row once, the undone direct COPY included
            fixed = await amarket.ingest_prices(conn, [PriceTick("ASY", T0, Decimal("1.5"), 3)])
            assert (fixed.inserted, fixed.updated) == (0, 1)
            mixed = await amarket.ingest_prices(conn, list(ticks(30_500))[29_900:])
            assert (mixed.received, mixed.inserted, mixed.updated) == (600, 500, 0)
            assert await count(conn) == 30_500
        finally:
            await conn.close()

    run(main())


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (PriceTick("ASY", T0, Decimal("NaN"), 1), "not a number"),
        (PriceTick("ASY", T0, Decimal("-1"), 1), "must be positive"),
        (PriceTick("ASY", T0, Decimal("1"), -5), "volume cannot be negative"),
        (PriceTick("asy!", T0, Decimal("1"), 1), "not a valid symbol"),
        (PriceTick("ASY", T0, 1.5, 1), "must be a Decimal, got float"),  # type: ignore[arg-type]
        (PriceTick("ASY", T0.replace(tzinfo=None), Decimal("1"), 1), "no time zone"),
        (PriceTick("ASY", T0 + timedelta(days=3), Decimal("1"), 1), "outside 2000-01-01"),
        (PriceTick("ASY", T0 + timedelta(seconds=1), Decimal("1"), 1), "same key as row 2"),
    ],
)
def test_a_bad_row_is_refused_by_number_nothing_written_and_the_callers_transaction_usable(
    fresh_db: str, bad: PriceTick, reason: str
) -> None:
    async def main() -> None:
        conn = await connect(fresh_db)
        try:
            async with conn.transaction(force_rollback=True):
                await amarket.ingest_prices(conn, [PriceTick("KEEP", T0, Decimal(5), 1)])  # the caller's earlier work
                batch = [*ticks(3_000), bad]
                batch.insert(3_000, PriceTick("ASY", T0 + timedelta(hours=2), Decimal(1), 1))
                with pytest.raises(ValidationError, match=rf"row 3002 refused, nothing written: .*{reason}"):
                    await amarket.ingest_prices(conn, batch)
                assert await count(conn, "symbol = 'ASY'") == 0
                assert await count(conn, "symbol = 'KEEP'") == 1  # still there, and the transaction usable
                # refused by the database after the COPY: nothing of it stays either
                await conn.execute("ALTER TABLE trading.stock_prices ADD CONSTRAINT no_999 CHECK (close_price <> 999)")
                with pytest.raises(ValidationError, match="no_999"):
                    await amarket.ingest_prices(conn, [*ticks(10), PriceTick("ASY", T0 + timedelta(hours=3),
                                                                             Decimal(999), 1)])
                assert await count(conn, "symbol = 'ASY'") == 0
                assert await count(conn, "symbol = 'KEEP'") == 1
        finally:
            await conn.close()
        assert sync_count(fresh_db) == 0  # the caller rolled back: the contract never committed for it

    run(main())


def test_reingest_inside_the_callers_transaction_falls_back_to_the_upsert(fresh_db: str) -> None:
    async def main() -> None:
        conn = await connect(fresh_db)
        try:
            async with conn.transaction():
                assert (await amarket.ingest_prices(conn, list(ticks(2_000)))).inserted == 2_000
                # the direct COPY meets stored keys: its savepoint is undone, the caller's work is not
                mixed = await amarket.ingest_prices(conn, list(ticks(2_500, price=101)))
                assert (mixed.inserted, mixed.updated) == (500, 2_000)
                assert conn.info.transaction_status == TransactionStatus.INTRANS
            assert sync_count(fresh_db, "symbol = 'ASY' AND close_price >= 101") == 2_500
        finally:
            await conn.close()

    run(main())


def test_stream_commits_batch_by_batch_and_stops_at_a_bad_batch(fresh_db: str) -> None:
    async def main() -> None:
        conn = await connect(fresh_db)
        try:
            seen: list[int] = []
            first = await amarket.ingest_price_stream(conn, ticks(2_500), batch_size=1_000, progress=seen.append)
            assert (first.received, first.inserted, first.updated) == (2_500, 2_500, 0) and sum(seen) == 2_500
            again = await amarket.ingest_price_stream(conn, ticks(2_500), batch_size=700)
            assert (again.received, again.unchanged) == (2_500, 2_500)

            with pytest.raises(ValidationError, match=r"batch 2 \(rows 1001-2000\): row 500 refused.*not a number"):
                await amarket.ingest_price_stream(conn, ticks(3_000, "STRM", bad_at=1_499), batch_size=1_000)
            assert conn.info.transaction_status == TransactionStatus.IDLE
            assert sync_count(fresh_db, "symbol = 'STRM'") == 1_000  # batch 1 committed, 2 not, 3 never read

            # inside the caller's transaction each batch is a savepoint: the caller decides
            async with conn.transaction(force_rollback=True):
                result = await amarket.ingest_price_stream(conn, ticks(1_500, "ROLL"), batch_size=400)
                assert result.inserted == 1_500 and await count(conn, "symbol = 'ROLL'") == 1_500
            assert sync_count(fresh_db, "symbol = 'ROLL'") == 0
            with pytest.raises(ValidationError, match="batch_size"):
                await amarket.ingest_price_stream(conn, ticks(1), batch_size=0)
        finally:
            await conn.close()

    run(main())


def test_options_and_events_ingest(fresh_db: str) -> None:
    async def main() -> None:
        conn = await connect(fresh_db, autocommit=True)
        try:
            seen: list[int] = []
            result = await amarket.ingest_options(
                conn, [quote(), quote(timestamp=T0 + timedelta(minutes=1))], progress=seen.append)
            assert (result.inserted, sum(seen)) == (2, 2)
            assert (await amarket.ingest_options(conn, [quote()])).unchanged == 1
            assert (await amarket.ingest_options(conn, [quote(bid_price=Decimal("1.15"))])).updated == 1
            with pytest.raises(ValidationError, match=r"row 2 refused.*bid 2 is above ask"):
                await amarket.ingest_options(conn, [quote(timestamp=T0 + timedelta(hours=1)),
                                                    quote(bid_price=Decimal("2"), ask_price=Decimal("1"))])
            with pytest.raises(ValidationError, match=r"row 1 refused.*does not match"):
                await amarket.ingest_options(conn, [quote(strike_price=Decimal("155"))])
            cur = await conn.execute("SELECT count(*) FROM trading.options_data")
            assert await cur.fetchone() == (2,)

            event = MarketEvent("AAPL", T0, "earnings", Decimal("150"), 1000, {"eps": "1.52"})
            assert (await amarket.ingest_events(conn, [event])).inserted == 1
            assert (await amarket.ingest_events(conn, [event, MarketEvent("AAPL", T0, "halt")])).inserted == 1
            with pytest.raises(ValidationError, match=r"row 1 refused.*lower_snake_case"):
                await amarket.ingest_events(conn, [MarketEvent("AAPL", T0, "Bad Type")])
            cur = await conn.execute(
                "SELECT count(*) FROM trading.market_events WHERE metadata @> '{\"eps\": \"1.52\"}'")
            assert await cur.fetchone() == (1,)
        finally:
            await conn.close()

    run(main())


def test_concurrent_overlapping_ingest_from_a_pool_neither_deadlocks_nor_duplicates(fresh_db: str) -> None:
    tasks = 6
    rng = random.Random(7)
    pool_of_ticks = [PriceTick(s, T0 + timedelta(seconds=3 * i), Decimal(100 + i % 17), i % 9)
                     for s in ("PA", "PB", "PC") for i in range(400)]
    batches = []
    for _ in range(tasks):
        batch = rng.sample(pool_of_ticks, len(pool_of_ticks) // 2)
        rng.shuffle(batch)
        batches.append(batch)
    stored = [PriceTick("UPD", T0 + timedelta(seconds=i), Decimal(50), 1) for i in range(300)]
    corrections = [[PriceTick(t.symbol, t.timestamp, Decimal(60 + n), 2) for t in rng.sample(stored, 200)]
                   for n in range(tasks)]
    events_pool = [MarketEvent("EVA", T0 + timedelta(seconds=i), kind) for i in range(200) for kind in ("halt", "news")]
    event_batches = [rng.sample(events_pool, len(events_pool) // 2) for _ in range(tasks)]

    async def main() -> None:
        pool = await adb.create_pool(fresh_db)
        try:
            async def write(call: Callable[[AsyncConnection[Any]], Awaitable[Any]]) -> Any:
                async with pool.connection() as conn:
                    await conn.execute("SET lock_timeout = '20s'")
                    await conn.commit()
                    return await call(conn)

            async with pool.connection() as conn:
                await amarket.ingest_prices(conn, stored)
            for _ in range(3):
                await asyncio.wait_for(asyncio.gather(*(
                    write(lambda c, b=b: amarket.ingest_prices(c, b)) for b in batches)), timeout=120)
                await asyncio.wait_for(asyncio.gather(*(
                    write(lambda c, b=b: amarket.ingest_prices(c, b)) for b in corrections)), timeout=120)
                await asyncio.wait_for(asyncio.gather(*(
                    write(lambda c, b=b: amarket.ingest_events(c, b)) for b in event_batches)), timeout=120)
        finally:
            await pool.close()

    run(main())
    wanted = {(t.symbol, t.timestamp) for b in batches for t in b}
    with psycopg.connect(fresh_db) as conn:
        rows = conn.execute('SELECT symbol, "timestamp", count(*) FROM trading.stock_prices'
                            " WHERE symbol IN ('PA', 'PB', 'PC') GROUP BY 1, 2").fetchall()
        assert {(r[0], r[1]) for r in rows} == wanted and all(r[2] == 1 for r in rows)
        assert conn.execute("SELECT count(*), count(DISTINCT \"timestamp\") FROM trading.stock_prices"
                            " WHERE symbol = 'UPD'").fetchone() == (300, 300)
        got = conn.execute("SELECT symbol, \"timestamp\", event_type FROM trading.market_events").fetchall()
        assert set(got) == {(e.symbol, e.timestamp, e.event_type) for b in event_batches for e in b}
        assert len(got) == len(set(got))


# -- reads: the same answers as the sync API ---------------------------------------------------


def test_reads_equal_the_sync_results_on_the_same_data(fresh_db: str, server: Server) -> None:
    start = day_start(2) + timedelta(hours=14)
    data = make_ticks(21, ["IND", "JJJ"], start, seconds=8 * 3600, count=2000)
    t0 = day_start(1) + timedelta(hours=15)
    expiry = date.fromordinal(t0.date().toordinal() + 3)
    quotes = [
        OptionQuote(f"OPT   {expiry:%y%m%d}{kind[0]}{100000:08d}", "OPT", t0 + timedelta(minutes=m), expiry,
                    Decimal(100), kind, Decimal("1.00"), Decimal("1.10"), Decimal("1.05"), vol + m, 100,
                    Decimal("0.30"))
        for kind, vol in (("CALL", 10), ("PUT", 25)) for m in (0, 30)
    ]

    async def load() -> None:
        conn = await connect(fresh_db)
        try:
            await amarket.ingest_prices(conn, data)
            await amarket.ingest_options(conn, quotes)
        finally:
            await conn.close()

    run(load())
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        bring_rollups_up_to_date(conn, server.edition)
        window = (start - timedelta(days=1), start + timedelta(days=1))  # the 1d bucket starts at midnight
        chain_args = ("OPT", t0.date(), t0.date() + timedelta(days=7), t0 - timedelta(hours=1))
        pc_window = (t0 - timedelta(hours=1), t0 + timedelta(hours=1))
        want: dict[str, Any] = {
            "bars": {iv: market.bars(conn, "IND", iv, *window) for iv in ("1m", "5m", "1h", "1d")},
            "latest": market.latest_prices(conn),
            "latest_one": market.latest_prices(conn, ["JJJ"]),
            "chain": market.options_chain(conn, *chain_args),
            "ratios": market.put_call_ratios(conn, *pc_window),
            "rsi": market.rsi(conn, "IND", period=14),
            "bands": market.bollinger_bands(conn, "IND", period=20, num_std=Decimal(2), since=start),
            "ma": market.moving_average(conn, "IND", period=10),
            "vwap": market.vwap(conn, "IND", *window),
        }

    async def read() -> dict[str, Any]:
        conn = await connect(fresh_db)
        try:
            got: dict[str, Any] = {
                "bars": {iv: await amarket.bars(conn, "IND", iv, *window) for iv in ("1m", "5m", "1h", "1d")},
                "latest": await amarket.latest_prices(conn),
                "latest_one": await amarket.latest_prices(conn, ["JJJ"]),
                "chain": await amarket.options_chain(conn, *chain_args),
                "ratios": await amarket.put_call_ratios(conn, *pc_window),
                "rsi": await amarket.rsi(conn, "IND", period=14),
                "bands": await amarket.bollinger_bands(conn, "IND", period=20, num_std=Decimal(2), since=start),
                "ma": await amarket.moving_average(conn, "IND", period=10),
                "vwap": await amarket.vwap(conn, "IND", *window),
            }
            assert conn.info.transaction_status == TransactionStatus.IDLE
            return got
        finally:
            await conn.close()

    got = run(read())
    assert got == want
    assert len(got["bars"]["5m"]) == 96 and all(isinstance(b, amarket.Bar) for b in got["bars"]["5m"])
    assert sum(b.trade_count for b in got["bars"]["1d"]) == 2000
    assert [p.symbol for p in got["latest"]] == ["IND", "JJJ"] and [p.symbol for p in got["latest_one"]] == ["JJJ"]
    assert [c.option_type for c in got["chain"]] == ["CALL", "PUT"] and got["ratios"][0].put_volume == 80
    assert got["rsi"] and got["bands"] and got["ma"] and got["vwap"] is not None


# -- signals, system events, monitoring --------------------------------------------------------


def test_signals_events_and_monitoring(fresh_db: str) -> None:
    now = datetime.now(UTC)

    async def main() -> None:
        conn = await connect(fresh_db)
        try:
            stored = await asignals.record_signals(conn, [
                NewSignal("AAPL", "BUY", Decimal("0.85"), Decimal("200"), Decimal("180"), "breakout", "m1", "mom",
                          {"rsi": 71}, now - timedelta(minutes=5)),
                NewSignal("MSFT", "HOLD", Decimal("0.90"), timestamp=now - timedelta(minutes=4)),
            ])
            assert [s.signal_type for s in stored] == ["BUY", "HOLD"] and stored[0].features == {"rsi": 71}
            with pytest.raises(ValidationError, match=r"signal 2 refused, nothing written: .*stop loss"):
                await asignals.record_signals(conn, [NewSignal("AAPL", "HOLD", Decimal("0.5")),
                                                     NewSignal("AAPL", "BUY", Decimal("0.5"), Decimal(100),
                                                               Decimal(110))])
            with pytest.raises(ValidationError, match="signal_type must be one of 'BUY', 'SELL', 'HOLD'"):
                await asignals.record_signals(conn, [NewSignal("AAPL", "MAYBE", Decimal("0.5"))])  # type: ignore[arg-type]
            recent = await asignals.recent_signals(conn, since=now - timedelta(days=1), min_confidence=Decimal("0.8"))
            assert [s.id for s in recent] == [stored[1].id, stored[0].id]

            info = await aevents.record_system_event(conn, "INFO", "broker", "connected", "up", details={"ms": 3})
            crit = await aevents.record_system_event(conn, "CRITICAL", "risk", "kill_switch", "halted")
            assert conn.info.transaction_status == TransactionStatus.IDLE  # each call committed its own
            assert [e.id for e in await aevents.recent_system_events(
                conn, since=now - timedelta(minutes=1), min_severity="WARNING")] == [crit.id]
            assert info.details == {"ms": 3}
            with pytest.raises(ValidationError, match="component"):
                await aevents.record_system_event(conn, "INFO", "a b", "e", "m")

            await amonitoring.record_system_health(conn, "oms", "healthy", health_score=Decimal(99),
                                                   at=now - timedelta(minutes=5))
            latest = await amonitoring.record_system_health(conn, "oms", "degraded", metrics={"lag_ms": 900})
            assert latest.metrics == {"lag_ms": 900}
            assert [(h.component, h.status) for h in await amonitoring.latest_system_health(conn)] == [
                ("oms", "degraded")]
            with pytest.raises(ValidationError, match="status must be one of"):
                await amonitoring.record_system_health(conn, "oms", "fine")  # type: ignore[arg-type]
            dq = await amonitoring.record_data_quality(conn, "feed", "price_gap", False, symbol="AAPL",
                                                       score=Decimal(40))
            assert not dq.passed and dq.score == Decimal(40)
            decision = await amonitoring.record_agent_decision(conn, "agent", "hold", symbol="AAPL",
                                                               signal_id=stored[0].id, confidence=Decimal("0.7"))
            assert decision.signal_id == stored[0].id
            with pytest.raises(ValidationError, match="confidence must be between 0 and 1"):
                await amonitoring.record_agent_decision(conn, "agent", "hold", confidence=Decimal("1.5"))
            metric = await amonitoring.record_performance_metric(conn, "sharpe_ratio", Decimal("1.7"),
                                                                 labels={"window": "30d"})
            assert metric.value == Decimal("1.7")
            assert conn.info.transaction_status == TransactionStatus.IDLE
        finally:
            await conn.close()

    run(main())
    with psycopg.connect(fresh_db) as conn:  # every accepted call committed; the refused ones left nothing
        assert signals.recent_signals(conn, since=now - timedelta(days=1)) != []
        assert len(signals.recent_signals(conn, since=now - timedelta(days=1))) == 2
        assert len(events.recent_system_events(conn, since=now - timedelta(minutes=1))) == 2
        assert [h.status for h in monitoring.latest_system_health(conn)] == ["degraded"]
