"""Trading signals: record them, read the recent ones."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from ops_db.core.contract import RowError, api, check_decimal, rows_of
from ops_db.core.error_map import map_errors, translate
from ops_db.core.errors import ValidationError
from ops_db.core.queries import q

SIGNAL_TYPES = ("BUY", "SELL", "HOLD")


@dataclass(frozen=True)
class NewSignal:
    symbol: str
    signal_type: str  # BUY | SELL | HOLD
    confidence: Decimal  # 0..1
    target_price: Decimal | None = None
    stop_loss: Decimal | None = None
    reasoning: str | None = None
    model_version: str | None = None
    strategy: str | None = None
    features: dict[str, Any] | None = None
    timestamp: datetime | None = None  # None: now()
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Signal:
    id: int
    symbol: str
    signal_type: str
    confidence: Decimal
    target_price: Decimal | None
    stop_loss: Decimal | None
    reasoning: str | None
    model_version: str | None
    strategy: str | None
    features: dict[str, Any] | None
    timestamp: datetime
    expires_at: datetime | None


def _check(s: object) -> None:
    if not isinstance(s, NewSignal):
        raise ValueError(f"expected NewSignal, got {type(s).__name__}")
    for name in ("symbol", "signal_type"):
        if not isinstance(getattr(s, name), str):
            raise ValueError(f"{name} must be a str, got {type(getattr(s, name)).__name__}")
    for name in ("reasoning", "model_version", "strategy"):
        if getattr(s, name) is not None and not isinstance(getattr(s, name), str):
            raise ValueError(f"{name} must be a str, got {type(getattr(s, name)).__name__}")
    for name, precision, optional in (("confidence", 5, False), ("target_price", 12, True), ("stop_loss", 12, True)):
        try:
            check_decimal(getattr(s, name), name, optional=optional, precision=precision, scale=4)
        except RowError as exc:
            raise ValueError(str(exc)) from None
    for name in ("timestamp", "expires_at"):
        value = getattr(s, name)
        if value is not None and (not isinstance(value, datetime) or value.utcoffset() is None):
            raise ValueError(f"{name} must be a datetime with a time zone, got {value!r}")
    if s.features is not None and not isinstance(s.features, dict):
        raise ValueError(f"features must be a dict, got {type(s.features).__name__}")


@api
def record_signals(conn: psycopg.Connection[Any], signals: Iterable[NewSignal]) -> list[Signal]:
    """Store signals in one transaction (a savepoint inside the caller's); all or none.

    A refused signal raises ValidationError naming it (1-based) and the field.
    """
    batch = rows_of(signals, "signals")
    for n, s in enumerate(batch, start=1):
        try:
            _check(s)
        except ValueError as exc:
            raise ValidationError(f"signal {n} refused, nothing written: {exc}") from None
    out: list[Signal] = []
    try:
        with conn.transaction(), conn.cursor(row_factory=class_row(Signal)) as cur:
            for s in batch:
                out.append(_insert(cur, s))
    except psycopg.Error as exc:
        err = translate(exc)
        raise type(err)(f"signal {len(out) + 1} refused, nothing written: {err}") from exc
    return out


def _insert(cur: psycopg.Cursor[Signal], s: NewSignal) -> Signal:
    params = {
        "symbol": s.symbol,
        "signal_type": s.signal_type,
        "confidence": s.confidence,
        "target_price": s.target_price,
        "stop_loss": s.stop_loss,
        "reasoning": s.reasoning,
        "model_version": s.model_version,
        "strategy": s.strategy,
        "features": Jsonb(s.features) if s.features is not None else None,
        "timestamp": s.timestamp,
        "expires_at": s.expires_at,
    }
    row = cur.execute(q("insert_signal"), params).fetchone()
    assert row is not None
    return row


@api
def recent_signals(
    conn: psycopg.Connection[Any],
    *,
    since: datetime,
    symbol: str | None = None,
    min_confidence: Decimal | None = None,
    limit: int = 100,
) -> list[Signal]:
    if limit < 1:
        raise ValidationError(f"limit must be at least 1, got {limit}")
    if min_confidence is not None and not min_confidence.is_finite():
        raise ValidationError(f"min_confidence must be a number from 0 to 1, got {min_confidence}")
    params = {"since": since, "symbol": symbol, "min_confidence": min_confidence, "limit": limit}
    with map_errors(), conn.transaction(), conn.cursor(row_factory=class_row(Signal)) as cur:
        return cur.execute(q("recent_signals"), params).fetchall()
