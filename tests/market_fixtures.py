"""Market test data and independent Python reference computations (no SQL involved)."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import psycopg

from ops_db.market import PriceTick
from ops_db.ops import rollups

WIDTHS = {"1m": timedelta(minutes=1), "5m": timedelta(minutes=5), "1h": timedelta(hours=1), "1d": timedelta(days=1)}
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # time_bucket's origin for these widths


def day_start(days_ago: int) -> datetime:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=days_ago)


def make_ticks(seed: int, symbols: list[str], start: datetime, seconds: int, count: int) -> list[PriceTick]:
    """Random ticks (unique per symbol and second); some carry open/high/low/vwap."""
    rng = random.Random(seed)
    ticks = []
    for symbol in symbols:
        offsets = sorted(rng.sample(range(seconds), count))
        price = 100.0 + rng.random() * 50
        for off in offsets:
            price = max(1.0, price * (1 + rng.gauss(0, 0.002)))
            close = Decimal(f"{price:.4f}")
            kw: dict[str, Any] = {}
            if rng.random() < 0.2:
                kw = {"open_price": close - Decimal("0.05"), "high_price": close + Decimal("0.10"),
                      "low_price": close - Decimal("0.10"), "vwap": close - Decimal("0.01")}
            ticks.append(PriceTick(symbol, start + timedelta(seconds=off), close, rng.randint(0, 500), **kw))
    return ticks


def bucket(t: datetime, width: timedelta) -> datetime:
    return EPOCH + ((t - EPOCH) // width) * width


def reference_bars(ticks: list[PriceTick], width: timedelta) -> dict[tuple[str, datetime], dict[str, Any]]:
    """OHLCV bars computed straight from the ticks."""
    groups: dict[tuple[str, datetime], list[PriceTick]] = defaultdict(list)
    for t in ticks:
        groups[(t.symbol, bucket(t.timestamp, width))].append(t)
    out = {}
    for key, rows in groups.items():
        rows.sort(key=lambda r: r.timestamp)
        volume = sum(r.volume for r in rows)
        turnover = sum(((r.vwap or r.close_price) * r.volume for r in rows), Decimal(0))
        out[key] = {
            "open": rows[0].open_price or rows[0].close_price,
            "high": max(r.high_price or r.close_price for r in rows),
            "low": min(r.low_price or r.close_price for r in rows),
            "close": rows[-1].close_price,
            "volume": volume,
            "vwap": (turnover / volume).quantize(Decimal("0.000001"), ROUND_HALF_UP) if volume else None,
            "trade_count": len(rows),
        }
    return out


def db_bars(conn: psycopg.Connection[Any], interval: str) -> dict[tuple[str, datetime], dict[str, Any]]:
    rows = conn.execute(
        f"SELECT symbol, bucket, open, high, low, close, volume, vwap, trade_count FROM trading.stock_prices_{interval}"
    ).fetchall()
    return {
        (r[0], r[1]): {"open": r[2], "high": r[3], "low": r[4], "close": r[5], "volume": r[6], "vwap": r[7],
                       "trade_count": r[8]}
        for r in rows
    }


def bring_rollups_up_to_date(conn: psycopg.Connection[Any], edition: str) -> None:
    """apache: what ops-db maintain does; timescale: nothing (real-time aggregation answers)."""
    if edition == "apache":
        rollups.refresh_rollups(conn)


def mean(values: list[Decimal]) -> Decimal:
    return sum(values, Decimal(0)) / len(values)
