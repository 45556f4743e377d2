"""Bad input to the market, signals and events functions: a ValidationError naming the field
(and the row), nothing written, the caller's transaction still usable."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from ops_db import events, market, signals
from ops_db.core.errors import ValidationError
from ops_db.market import MarketEvent, OptionQuote, PriceTick

NOW = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
EXPIRY = date.today() + timedelta(days=30)
TABLES = ("trading.stock_prices", "trading.options_data", "trading.market_events", "trading.signals",
          "trading.system_events", "ops_internal.rollup_invalidation")


def tick(**kw: Any) -> PriceTick:
    return PriceTick(**{"symbol": "BADIN", "timestamp": NOW, "close_price": Decimal(10), **kw})


def quote(**kw: Any) -> OptionQuote:
    base = {"option_symbol": f"BADIN{EXPIRY:%y%m%d}C00100000", "underlying_symbol": "BADIN", "timestamp": NOW,
            "expiration_date": EXPIRY, "strike_price": Decimal(100), "option_type": "CALL"}
    return OptionQuote(**{**base, **kw})


def signal(**kw: Any) -> signals.NewSignal:
    return signals.NewSignal(**{"symbol": "BADIN", "signal_type": "BUY", "confidence": Decimal("0.5"), **kw})


def good_ticks() -> list[PriceTick]:
    return [tick(timestamp=NOW - timedelta(seconds=i)) for i in range(3)]


Call = Callable[[psycopg.Connection[Any]], object]
CASES: list[tuple[str, Call, str]] = [
    ("latest_prices str", lambda c: market.latest_prices(c, "AAPL"), "symbols must be a (sequence|list)"),
    ("latest_prices bytes", lambda c: market.latest_prices(c, b"AAPL"), "symbols"),
    ("latest_prices ints", lambda c: market.latest_prices(c, [1, 2]), r"symbols\[[01]\]"),
    ("latest_prices dict", lambda c: market.latest_prices(c, {"AAPL": 1}), "symbols"),
    ("ingest_prices str", lambda c: market.ingest_prices(c, "AAPL"), "ticks must be a (sequence|list)"),
    ("ingest_prices one tick", lambda c: market.ingest_prices(c, tick()), "ticks must be a (sequence|list)"),
    ("ingest_prices dict", lambda c: market.ingest_prices(c, {"a": tick()}), "ticks"),
    ("ingest_options str", lambda c: market.ingest_options(c, "quotes"), "quotes"),
    ("ingest_events str", lambda c: market.ingest_events(c, "events"), "events"),
    ("ingest_price_stream str", lambda c: market.ingest_price_stream(c, "AAPL"), "ticks"),
    ("ingest_price_stream batch", lambda c: market.ingest_price_stream(c, good_ticks(), batch_size=0), "batch_size"),
    ("record_signals str", lambda c: signals.record_signals(c, "BUY"), "signals"),
    ("record_signals one", lambda c: signals.record_signals(c, signal()), "signals"),
    ("volume 2**63", lambda c: market.ingest_prices(c, [*good_ticks(), tick(volume=2**63)]), "row 4.*volume"),
    ("volume 2**64", lambda c: market.ingest_prices(c, [tick(volume=2**64)]), "row 1.*volume"),
    ("price 1e8", lambda c: market.ingest_prices(c, [tick(close_price=Decimal("100000000"))]), "close_price"),
    ("price 5 decimals", lambda c: market.ingest_prices(c, [tick(close_price=Decimal("1.00001"))]), "decimals"),
    ("price 30 decimals", lambda c: market.ingest_prices(c, [tick(close_price=Decimal("1." + "1" * 30))]), "close"),
    ("vwap huge", lambda c: market.ingest_prices(c, [tick(vwap=Decimal("1e20"))]), "vwap"),
    ("price float", lambda c: market.ingest_prices(c, [tick(close_price=10.5)]), "close_price must be a Decimal"),
    ("naive time", lambda c: market.ingest_prices(c, [tick(timestamp=datetime(2024, 1, 1))]), "time zone"),
    ("year 9999", lambda c: market.ingest_prices(c, [tick(timestamp=datetime(9999, 1, 1, tzinfo=UTC))]), "outside"),
    ("year 1999", lambda c: market.ingest_prices(c, [tick(timestamp=datetime(1999, 1, 1, tzinfo=UTC))]), "outside"),
    ("quote volume", lambda c: market.ingest_options(c, [quote(volume=2**63)]), "row 1.*volume"),
    ("quote open interest", lambda c: market.ingest_options(c, [quote(open_interest=2**70)]), "open_interest"),
    ("quote delta scale", lambda c: market.ingest_options(c, [quote(delta=Decimal("0.1234567"))]), "delta"),
    ("quote gamma huge", lambda c: market.ingest_options(c, [quote(gamma=Decimal("1e7"))]), "gamma"),
    ("quote iv huge", lambda c: market.ingest_options(c, [quote(implied_volatility=Decimal("12345"))]), "implied"),
    ("quote bid decimals", lambda c: market.ingest_options(c, [quote(bid_price=Decimal("1.23456"))]), "bid_price"),
    ("event volume", lambda c: market.ingest_events(c, [MarketEvent("BADIN", NOW, "halt", volume=2**63)]), "volume"),
    ("event price", lambda c: market.ingest_events(c, [MarketEvent("BADIN", NOW, "halt", Decimal("1e9"))]), "price"),
    ("signal confidence scale", lambda c: signals.record_signals(c, [signal(confidence=Decimal("0.12345"))]),
     "signal 1.*confidence"),
    ("signal confidence > 1", lambda c: signals.record_signals(c, [signal(confidence=Decimal(2))]), "confidence"),
    ("signal target huge", lambda c: signals.record_signals(c, [signal(), signal(target_price=Decimal("1e9"))]),
     "signal 2.*target_price"),
    ("signal naive time", lambda c: signals.record_signals(c, [signal(timestamp=datetime(2024, 1, 1))]),
     "timestamp"),
    ("signal features list", lambda c: signals.record_signals(c, [signal(features=[1])]), "features"),
    ("signal symbol int", lambda c: signals.record_signals(c, [signal(symbol=5)]), "symbol"),
    ("signal bad symbol", lambda c: signals.record_signals(c, [signal(symbol="bad sym")]), "signal 1.*symbol"),
    ("event severity", lambda c: events.record_system_event(c, "LOUD", "c", "e", "m"), "severity"),
    ("event details list", lambda c: events.record_system_event(c, "INFO", "c", "e", "m", details=[1]), "details"),
    ("event naive time", lambda c: events.record_system_event(c, "INFO", "c", "e", "m",
                                                              timestamp=datetime(2024, 1, 1)), "timestamp"),
    ("event component int", lambda c: events.record_system_event(c, "INFO", 5, "e", "m"), "component"),
    ("recent min_severity", lambda c: events.recent_system_events(c, since=NOW, min_severity="LOUDEST"),
     "min_severity"),
]


def _counts(conn: psycopg.Connection[Any]) -> dict[str, int]:
    out = {}
    for table in TABLES:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
        assert row is not None
        out[table] = int(row[0])
    return out


@pytest.mark.parametrize(("name", "call", "message"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_by_name_and_nothing_is_written(
    db: psycopg.Connection[Any], name: str, call: Call, message: str
) -> None:
    before = _counts(db)
    with pytest.raises(ValidationError, match=message):
        call(db)
    assert _counts(db) == before  # also proves the transaction is still usable


def test_a_generator_of_ticks_is_consumed_once_and_written(db: psycopg.Connection[Any]) -> None:
    ticks = good_ticks()
    result = market.ingest_prices(db, (t for t in ticks))
    assert result.inserted == 3
    assert [p.close_price for p in market.latest_prices(db, ["BADIN"])] == [Decimal(10)]
    assert [p.symbol for p in market.latest_prices(db, ("BADIN",))] == ["BADIN"]


def test_exact_values_are_accepted(db: psycopg.Connection[Any]) -> None:
    """Trailing zeros beyond the column's scale change nothing, so they are not refused."""
    result = market.ingest_prices(db, [tick(close_price=Decimal("10.123400000"), volume=2**63 - 1)])
    assert result.inserted == 1
    assert signals.record_signals(db, [signal(confidence=Decimal("0.50000"))])[0].confidence == Decimal("0.5")
