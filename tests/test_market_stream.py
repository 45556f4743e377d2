"""ingest_price_stream: generators of any length, in batches, each all-or-nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from ops_db import market
from ops_db.core.errors import ValidationError
from ops_db.market import PriceTick

T0 = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


def ticks(n: int, bad_at: int | None = None) -> Iterator[PriceTick]:
    for i in range(n):
        price = Decimal("NaN") if i == bad_at else Decimal(100) + Decimal(i % 50) / 10
        yield PriceTick("STRM", T0 + timedelta(seconds=i), price, i % 7)


def count(db: psycopg.Connection[Any]) -> int:
    row = db.execute("SELECT count(*) FROM trading.stock_prices WHERE symbol = 'STRM'").fetchone()
    assert row is not None
    return int(row[0])


def test_stream_writes_every_batch_and_reingest_changes_nothing(db: psycopg.Connection[Any]) -> None:
    seen: list[int] = []
    first = market.ingest_price_stream(db, ticks(2_500), batch_size=1_000, progress=seen.append)
    assert (first.received, first.inserted, first.updated) == (2_500, 2_500, 0)
    assert sum(seen) == 2_500 and count(db) == 2_500
    again = market.ingest_price_stream(db, ticks(2_500), batch_size=700)
    assert (again.received, again.inserted, again.updated, again.unchanged) == (2_500, 0, 0, 2_500)
    # half new, half stored: the batch falls back to the upsert and says which rows were new
    mixed = market.ingest_prices(db, list(ticks(3_000))[2_000:])
    assert (mixed.inserted, mixed.updated) == (500, 0)
    assert count(db) == 3_000


def test_a_bad_row_stops_the_stream_at_its_batch(db: psycopg.Connection[Any]) -> None:
    with pytest.raises(ValidationError, match=r"batch 2 \(rows 1001-2000\): row 500 refused.*NaN"):
        market.ingest_price_stream(db, ticks(3_000, bad_at=1_499), batch_size=1_000)
    assert count(db) == 1_000  # batch 1 was written, batch 2 not, batch 3 never read
    with pytest.raises(ValidationError, match="batch_size"):
        market.ingest_price_stream(db, ticks(1), batch_size=0)
