"""Analytics SQL checked against values computed independently in Python on the same data."""

from __future__ import annotations

import statistics
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import psycopg

from ops_db import market
from ops_db.market import OptionQuote
from tests.conftest import Server
from tests.market_fixtures import bring_rollups_up_to_date, day_start, make_ticks, reference_bars

TOL = 1e-5


def closes_5m(ticks: list[Any]) -> list[float]:
    bars = reference_bars(ticks, timedelta(minutes=5))
    return [float(bars[k]["close"]) for k in sorted(bars)]


def py_rsi(closes: list[float], period: int) -> list[float | None]:
    out: list[float | None] = [None]
    gains: list[float] = []
    losses: list[float] = []
    avg_g = avg_l = 0.0
    for i in range(1, len(closes)):
        ch = closes[i] - closes[i - 1]
        g, lo = max(ch, 0.0), max(-ch, 0.0)
        n = i
        if n <= period:
            gains.append(g)
            losses.append(lo)
            if n == period:
                avg_g, avg_l = sum(gains) / period, sum(losses) / period
        else:
            avg_g = (avg_g * (period - 1) + g) / period
            avg_l = (avg_l * (period - 1) + lo) / period
        if n < period:
            out.append(None)
        elif avg_l == 0:
            out.append(100.0 if avg_g else 50.0)
        else:
            out.append(100 - 100 / (1 + avg_g / avg_l))
    return out


def test_indicators_match_python(db: psycopg.Connection[Any], server: Server) -> None:
    start = day_start(2) + timedelta(hours=14)
    ticks = make_ticks(21, ["IND"], start, seconds=8 * 3600, count=2000)
    market.ingest_prices(db, ticks)
    bring_rollups_up_to_date(db, server.edition)
    closes = closes_5m(ticks)
    assert len(closes) == 96

    rsi = [p.rsi for p in market.rsi(db, "IND", period=14)]
    for got, want in zip(rsi, py_rsi(closes, 14), strict=True):
        assert (got is None) == (want is None)
        if got is not None and want is not None:
            assert abs(float(got) - want) < TOL

    bands = market.bollinger_bands(db, "IND", period=20, num_std=Decimal("2.0"))
    for i, point in enumerate(bands):
        if i < 19:
            assert point.middle_band is None
            continue
        window = closes[i - 19 : i + 1]
        mid, sd = statistics.fmean(window), statistics.pstdev(window)
        assert point.middle_band is not None and point.upper_band is not None and point.lower_band is not None
        assert abs(float(point.middle_band) - mid) < TOL
        assert abs(float(point.upper_band) - (mid + 2 * sd)) < TOL
        assert abs(float(point.lower_band) - (mid - 2 * sd)) < TOL

    ma = market.moving_average(db, "IND", period=10)
    alpha = 2 / 11
    ema = None
    for i, point in enumerate(ma):
        if i < 9:
            assert point.sma is None and point.ema is None
            continue
        sma = statistics.fmean(closes[i - 9 : i + 1])
        ema = sma if ema is None else alpha * closes[i] + (1 - alpha) * ema
        assert point.sma is not None and point.ema is not None
        assert abs(float(point.sma) - sma) < TOL
        assert abs(float(point.ema) - ema) < TOL

    window_end = start + timedelta(hours=3)
    inside = [t for t in ticks if start <= t.timestamp < window_end]
    turnover = sum(((t.vwap or t.close_price) * t.volume for t in inside), Decimal(0))
    want_vwap = turnover / sum(t.volume for t in inside)
    got_vwap = market.vwap(db, "IND", start, window_end)
    assert got_vwap is not None and abs(got_vwap - want_vwap) < Decimal("0.000001")

    latest = market.latest_prices(db, ["IND"])
    newest = max(ticks, key=lambda t: t.timestamp)
    assert [(p.timestamp, p.close_price) for p in latest] == [(newest.timestamp, newest.close_price)]


def test_options_chain_and_put_call_ratio(db: psycopg.Connection[Any], server: Server) -> None:
    t0 = day_start(1) + timedelta(hours=15)
    quotes = []
    volumes = {("CALL", 0): 10, ("PUT", 0): 25, ("CALL", 1): 4, ("PUT", 1): 0}
    for (kind, k), vol in volumes.items():
        for minutes in (0, 30):
            strike = Decimal(100 + 5 * k)
            expiry = date.fromordinal(t0.date().toordinal() + 3)
            symbol = f"OPT   {expiry:%y%m%d}{kind[0]}{int(strike * 1000):08d}"
            quotes.append(OptionQuote(symbol, "OPT", t0 + timedelta(minutes=minutes), expiry, strike, kind,
                                      Decimal("1.00"), Decimal("1.10"), Decimal("1.05"), vol + minutes, 100,
                                      Decimal("0.30")))
    market.ingest_options(db, quotes)
    chain = market.options_chain(db, "OPT", t0.date(), t0.date() + timedelta(days=7), t0 - timedelta(hours=1))
    last = t0 + timedelta(minutes=30)
    assert [(c.option_type, c.strike_price, c.timestamp) for c in chain] == [
        ("CALL", Decimal(100), last),
        ("CALL", Decimal(105), last),
        ("PUT", Decimal(100), last),
        ("PUT", Decimal(105), last),
    ]
    puts = sum(q.volume for q in quotes if q.option_type == "PUT")
    calls = sum(q.volume for q in quotes if q.option_type == "CALL")
    window = (t0 - timedelta(hours=1), t0 + timedelta(hours=1))
    ratios = {r.underlying_symbol: r for r in market.put_call_ratios(db, *window)}
    assert (ratios["OPT"].put_volume, ratios["OPT"].call_volume) == (puts, calls)
    assert ratios["OPT"].put_call_ratio == (Decimal(puts) / Decimal(calls)).quantize(Decimal("0.000001"))
    bring_rollups_up_to_date(db, server.edition)
    hourly = db.execute("SELECT put_volume, call_volume, put_call_ratio, avg_implied_volatility, quote_count"
                        " FROM trading.options_volume_1h WHERE underlying_symbol = 'OPT'").fetchall()
    assert hourly == [(puts, calls, (Decimal(puts) / Decimal(calls)).quantize(Decimal("0.000001")),
                       Decimal("0.300000"), 8)]
