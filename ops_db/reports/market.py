"""`ops-db report market SYMBOL`: candlesticks from the bar aggregates with volume, Bollinger bands,
a moving average and RSI, all read through the typed functions (market.bars, bollinger_bands,
moving_average, rsi) over the same window and interval."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from ops_db import market
from ops_db.core import db
from ops_db.reports import svg
from ops_db.reports.html import Page, cards, snapshot, table

INTERVALS: dict[market.BarInterval, timedelta] = {
    "1m": timedelta(minutes=1),
    "5m": timedelta(minutes=5),
    "1h": timedelta(hours=1),
    "1d": timedelta(days=1),
}
# How much history a page shows by default: the newest DEFAULT_BARS bars, looked for within
# LOOKBACK before the newest tick (long enough to reach past a weekend and the hours a market is
# closed: 200 bars of clock time end in the night when a session has just opened).
DEFAULT_BARS = 200
LOOKBACK: dict[market.BarInterval, timedelta] = {
    "1m": timedelta(days=4),
    "5m": timedelta(days=7),
    "1h": timedelta(days=60),
    "1d": timedelta(days=400),
}


@dataclass(frozen=True)
class MarketView:
    symbol: str
    interval: market.BarInterval
    start: datetime
    end: datetime
    generated_at: datetime
    bars: list[market.Bar]
    bands: list[market.BollingerPoint]
    averages: list[market.MovingAveragePoint]
    rsi: list[market.RsiPoint]
    period: int


def collect(
    conn: psycopg.Connection[Any],
    symbol: str,
    *,
    interval: market.BarInterval = "5m",
    since: datetime | None = None,
    until: datetime | None = None,
    period: int = 20,
) -> MarketView:
    """The bars of ``symbol`` in [since, until) and the indicators over the same interval. Without
    ``since`` the window ends at the newest bar and holds the newest DEFAULT_BARS bars."""
    step = INTERVALS[interval]
    with snapshot(conn):
        generated_at = db.fetch_value(conn, "report_now")
        end = until or generated_at + step
        if since is None:
            newest = db.fetch_value(conn, "report_newest_tick", {"symbol": symbol})
            end = until or (newest + step if newest is not None else end)
            lookback = max(end - LOOKBACK[interval], market.TIME_FLOOR)  # bars() takes no time before 2000
            recent = market.bars(conn, symbol, interval, lookback, end)[-DEFAULT_BARS:]
            since = recent[0].bucket if recent else lookback
        return MarketView(
            symbol=symbol,
            interval=interval,
            start=since,
            end=end,
            generated_at=generated_at,
            bars=market.bars(conn, symbol, interval, since, end),
            bands=[p for p in market.bollinger_bands(conn, symbol, period=period, interval=step, since=since)
                   if p.timestamp < end],
            averages=[p for p in market.moving_average(conn, symbol, period=period, interval=step, since=since)
                      if p.timestamp < end],
            rsi=[p for p in market.rsi(conn, symbol, interval=step, since=since) if p.timestamp < end],
            period=period,
        )


def _line(name: str, points: list[tuple[datetime, Any]], *, dashed: bool = False) -> svg.Series:
    return svg.Series(name, [(at.timestamp(), float(v)) for at, v in points if v is not None], dashed=dashed)


def render(view: MarketView) -> str:
    page = Page(f"{view.symbol}: market", f"{view.interval} bars from {view.start.astimezone(UTC):%Y-%m-%d %H:%M} "
                f"to {view.end.astimezone(UTC):%Y-%m-%d %H:%M} UTC; generated "
                f"{view.generated_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC")
    last = view.bars[-1] if view.bars else None
    first = view.bars[0] if view.bars else None
    change = (last.close - first.open) / first.open * 100 if last and first and first.open else None
    page.section("summary", "Summary", cards([
        ("bars", len(view.bars)),
        ("last close", last.close if last else None),
        ("change %", round(change, 2) if change is not None else None),
        ("high", max((b.high for b in view.bars), default=None)),
        ("low", min((b.low for b in view.bars), default=None)),
        ("volume", sum(b.volume for b in view.bars)),
    ]))
    candles = [svg.Candle(b.bucket.timestamp(), float(b.open), float(b.high), float(b.low), float(b.close),
                          float(b.volume)) for b in view.bars]
    overlays = [
        _line(f"SMA {view.period}", [(p.timestamp, p.sma) for p in view.averages]),
        _line(f"EMA {view.period}", [(p.timestamp, p.ema) for p in view.averages]),
        _line("Bollinger upper", [(p.timestamp, p.upper_band) for p in view.bands], dashed=True),
        _line("Bollinger lower", [(p.timestamp, p.lower_band) for p in view.bands], dashed=True),
    ]
    title = f"{view.symbol} {view.interval} candlesticks and volume"
    page.section("candles", "Price", svg.candlestick_chart(candles, overlays, title=title))
    rsi_points = [(p.timestamp, p.rsi) for p in view.rsi]
    span = [at for at, _ in rsi_points]
    guides = [svg.Series(f"{level}", [(span[0].timestamp(), level), (span[-1].timestamp(), level)], dashed=True)
              for level in (30.0, 70.0)] if span else []
    page.section("rsi", "RSI", svg.line_chart([_line("RSI", rsi_points), *guides], title="RSI (14)"))
    page.section("bars", "Latest bars", table(
        ["bucket", "open", "high", "low", "close", "volume", "VWAP", "trades"],
        [[b.bucket, b.open, b.high, b.low, b.close, b.volume, b.vwap, b.trade_count] for b in view.bars[-20:][::-1]],
        empty=f"no bars for {view.symbol} in this window", name="bars"))
    return page.render()
