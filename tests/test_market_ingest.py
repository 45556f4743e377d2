"""Ingest through COPY: validation names the row, nothing of a bad batch is written, re-ingest is idempotent."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from ops_db import market
from ops_db.core.errors import ValidationError
from ops_db.market import MarketEvent, OptionQuote, PriceTick

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)


def count(conn: psycopg.Connection[Any], table: str) -> int:
    row = conn.execute(f"SELECT count(*) FROM trading.{table}").fetchone()
    assert row is not None
    return int(row[0])


def ticks(n: int) -> list[PriceTick]:
    return [PriceTick("AAPL", T0 + timedelta(seconds=i), Decimal("150.25") + i, 100 + i) for i in range(n)]


def test_reingest_is_idempotent_and_corrections_update(db: psycopg.Connection[Any]) -> None:
    seen: list[int] = []
    first = market.ingest_prices(db, ticks(12_000), progress=seen.append)
    assert (first.inserted, first.updated) == (12_000, 0)
    assert sum(seen) == 12_000
    again = market.ingest_prices(db, ticks(12_000))
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 12_000)
    fixed = market.ingest_prices(db, [PriceTick("AAPL", T0, Decimal("150.30"), 100)])
    assert (fixed.inserted, fixed.updated) == (0, 1)
    assert count(db, "stock_prices") == 12_000


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (PriceTick("AAPL", T0, Decimal("NaN"), 1), "not a number"),
        (PriceTick("AAPL", T0, Decimal("-1"), 1), "must be positive"),
        (PriceTick("AAPL", T0, Decimal("1"), -5), "volume cannot be negative"),
        (PriceTick("aapl!", T0, Decimal("1"), 1), "not a valid symbol"),
        (PriceTick("AAPL", T0, 1.5, 1), "must be a Decimal, got float"),  # type: ignore[arg-type]
        (PriceTick("AAPL", T0.replace(tzinfo=None), Decimal("1"), 1), "no time zone"),
        (PriceTick("AAPL", T0, Decimal("10"), 1, high_price=Decimal("9")), "high_price"),
    ],
)
def test_bad_row_refused_with_its_number_and_nothing_written(
    db: psycopg.Connection[Any], bad: PriceTick, reason: str
) -> None:
    batch = [*ticks(3), bad]
    batch[3] = PriceTick(bad.symbol, T0 + timedelta(minutes=5), bad.close_price, bad.volume, bad.open_price,
                         bad.high_price, bad.low_price, bad.vwap) if bad.timestamp.tzinfo else bad
    with pytest.raises(ValidationError, match=rf"row 4 refused, nothing written: .*{reason}"):
        market.ingest_prices(db, batch)
    assert count(db, "stock_prices") == 0


def test_duplicate_key_in_one_batch_is_refused(db: psycopg.Connection[Any]) -> None:
    with pytest.raises(ValidationError, match=r"row 3 refused.*same key as row 1"):
        market.ingest_prices(db, [*ticks(2), ticks(1)[0]])


def test_database_constraints_reject_nonsense(db: psycopg.Connection[Any]) -> None:
    """Plain INSERTs, not only ops_db, meet the constraints."""
    statements = [
        "INSERT INTO trading.stock_prices (symbol, \"timestamp\", close_price) VALUES ('X', now(), 'NaN')",
        "INSERT INTO trading.stock_prices (symbol, \"timestamp\", close_price, volume) VALUES ('X', now(), 1, -1)",
        "INSERT INTO trading.options_data (option_symbol, underlying_symbol, \"timestamp\", expiration_date,"
        " strike_price, option_type, bid_price, ask_price) VALUES ('X     250117C00010000', 'X', now(),"
        " '2025-01-17', 10, 'CALL', 2, 1)",
        "INSERT INTO trading.options_data (option_symbol, underlying_symbol, \"timestamp\", expiration_date,"
        " strike_price, option_type) VALUES ('X     250117C00010000', 'X', now(), '2025-01-17', 10, 'STRADDLE')",
        "INSERT INTO trading.signals (symbol, signal_type, confidence) VALUES ('X', 'BUY', 1.5)",
        "INSERT INTO trading.signals (symbol, signal_type, confidence) VALUES ('X', 'MAYBE', 0.5)",
    ]
    for statement in statements:
        with pytest.raises(psycopg.errors.CheckViolation), db.transaction():
            db.execute(statement)  # type: ignore[arg-type]


def quote(**kw: Any) -> OptionQuote:
    base: dict[str, Any] = dict(
        option_symbol="AAPL  250117C00150000", underlying_symbol="AAPL", timestamp=T0,
        expiration_date=date(2025, 1, 17), strike_price=Decimal("150"), option_type="CALL",
        bid_price=Decimal("1.10"), ask_price=Decimal("1.20"), volume=5, implied_volatility=Decimal("0.25"),
        delta=Decimal("0.5"),
    )
    base.update(kw)
    return OptionQuote(**base)


def test_options_and_events_ingest(db: psycopg.Connection[Any]) -> None:
    result = market.ingest_options(db, [quote(), quote(timestamp=T0 + timedelta(minutes=1))])
    assert result.inserted == 2
    assert market.ingest_options(db, [quote()]).unchanged == 1
    with pytest.raises(ValidationError, match=r"row 2 refused.*bid 2 is above ask"):
        market.ingest_options(db, [quote(timestamp=T0 + timedelta(hours=1)),
                                   quote(bid_price=Decimal("2"), ask_price=Decimal("1"))])
    with pytest.raises(ValidationError, match=r"row 1 refused.*option_type must be one of 'CALL', 'PUT'"):
        market.ingest_options(db, [quote(option_type="SWAP")])
    with pytest.raises(ValidationError, match=r"row 1 refused.*does not match"):
        market.ingest_options(db, [quote(strike_price=Decimal("155"))])
    assert count(db, "options_data") == 2

    event = MarketEvent("AAPL", T0, "earnings", Decimal("150"), 1000, {"eps": "1.52"})
    assert market.ingest_events(db, [event]).inserted == 1
    assert market.ingest_events(db, [event]).inserted == 0  # skipped, not rewritten
    row = db.execute("SELECT count(*) FROM trading.market_events WHERE metadata @> '{\"eps\": \"1.52\"}'").fetchone()
    assert row == (1,)


def test_ingest_as_the_application_role(db: psycopg.Connection[Any]) -> None:
    db.execute("SET ROLE ops_app")
    assert market.ingest_prices(db, ticks(3)).inserted == 3
    db.execute("RESET ROLE")
