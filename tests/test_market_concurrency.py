"""Concurrent overlapping ingest: rows written in key order never deadlock and never duplicate."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from ops_db import market
from ops_db.market import MarketEvent, PriceTick
from ops_db.ops import rollups
from tests.conftest import Server
from tests.market_fixtures import WIDTHS, db_bars, reference_bars

THREADS = 8
RUNS = 20


def _race(conninfo: str, batches: list[list[Any]], write: Any) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(len(batches))

    def work(batch: list[Any]) -> None:
        try:
            with psycopg.connect(conninfo) as conn:
                conn.execute("SET lock_timeout = '20s'")  # a stuck run fails instead of hanging
                start.wait(timeout=30)
                write(conn, batch)
                conn.commit()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(b,)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    return errors


def test_overlapping_shuffled_price_batches_neither_deadlock_nor_duplicate(fresh_db: str, server: Server) -> None:
    rng = random.Random(10)
    base = (datetime.now(UTC) - timedelta(days=2)).replace(hour=9, minute=0, second=0, microsecond=0)
    failures: list[BaseException] = []
    symbols_of_run = []
    expected: dict[tuple[str, datetime], PriceTick] = {}
    for run in range(RUNS):
        symbols = [f"R{run:02d}{c}" for c in "ABC"]
        symbols_of_run += symbols
        # One pool of ticks; every thread takes an overlapping random half, shuffled. Overlapping
        # ticks are identical across threads, so the final table does not depend on who wins.
        pool = [PriceTick(s, base + timedelta(seconds=3 * i), Decimal(100 + i % 17), i % 9)
                for s in symbols for i in range(300)]
        batches = []
        for _ in range(THREADS):
            batch = rng.sample(pool, len(pool) // 2)
            rng.shuffle(batch)
            batches.append(batch)
            for t in batch:
                expected[(t.symbol, t.timestamp)] = t
        failures += _race(fresh_db, batches, lambda conn, batch: market.ingest_prices(conn, batch))
    assert failures == []
    with psycopg.connect(fresh_db) as conn:
        rows = conn.execute('SELECT symbol, "timestamp", count(*) FROM trading.stock_prices'
                            ' WHERE symbol = ANY(%s) GROUP BY 1, 2', (symbols_of_run,)).fetchall()
        assert len(rows) == len(expected) and all(r[2] == 1 for r in rows)
        assert {(r[0], r[1]) for r in rows} == set(expected)
        if server.edition == "apache":
            rollups.refresh_rollups(conn)
            conn.commit()
        for interval, width in WIDTHS.items():
            got = {k: v for k, v in db_bars(conn, interval).items() if k[0] in symbols_of_run}
            assert got == reference_bars(list(expected.values()), width), interval


def test_overlapping_shuffled_event_batches_neither_deadlock_nor_duplicate(fresh_db: str) -> None:
    rng = random.Random(11)
    base = datetime.now(UTC) - timedelta(days=1)
    failures: list[BaseException] = []
    keys: set[tuple[str, datetime, str]] = set()
    for run in range(RUNS):
        pool = [MarketEvent(f"EV{run:02d}", base + timedelta(seconds=i), kind)
                for i in range(150) for kind in ("halt", "news")]
        batches = []
        for _ in range(THREADS):
            batch = rng.sample(pool, len(pool) // 2)
            batches.append(batch)
            keys |= {(e.symbol, e.timestamp, e.event_type) for e in batch}
        failures += _race(fresh_db, batches, lambda conn, batch: market.ingest_events(conn, batch))
    assert failures == []
    with psycopg.connect(fresh_db) as conn:
        got = conn.execute("SELECT symbol, \"timestamp\", event_type FROM trading.market_events"
                           " WHERE symbol LIKE 'EV%'").fetchall()
    assert len(got) == len(keys) and set(got) == keys


@pytest.mark.parametrize("runs", [RUNS])
def test_overlapping_upserts_with_corrections_neither_deadlock_nor_duplicate(fresh_db: str, runs: int) -> None:
    """Every batch also rewrites stored ticks (the upsert path), in shuffled order."""
    rng = random.Random(12)
    base = datetime.now(UTC) - timedelta(days=1, hours=3)
    failures: list[BaseException] = []
    for run in range(runs):
        symbol = f"UP{run:02d}"
        stored = [PriceTick(symbol, base + timedelta(seconds=i), Decimal(50), 1) for i in range(200)]
        with psycopg.connect(fresh_db, autocommit=True) as conn:
            market.ingest_prices(conn, stored)
        batches = []
        for n in range(THREADS):
            batch = [PriceTick(t.symbol, t.timestamp, Decimal(60 + n), 2) for t in rng.sample(stored, 120)]
            rng.shuffle(batch)
            batches.append(batch)
        failures += _race(fresh_db, batches, lambda conn, batch: market.ingest_prices(conn, batch))
        with psycopg.connect(fresh_db) as conn:
            assert conn.execute("SELECT count(*), count(DISTINCT \"timestamp\") FROM trading.stock_prices"
                                " WHERE symbol = %s", (symbol,)).fetchone() == (200, 200)
    assert failures == []
