"""Trading signals: record them, read the recent ones."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from ops_db.errors import ValidationError, register_constraint, wrap_errors
from ops_db.queries import q

SIGNAL_TYPES = ("BUY", "SELL", "HOLD")

register_constraint("signals_signal_type_known", ValidationError, "signal type must be BUY, SELL or HOLD")
register_constraint("signals_confidence_range", ValidationError, "confidence must be between 0 and 1")
register_constraint("signals_symbol_format", ValidationError, "symbol is not a valid ticker symbol")
register_constraint("signals_prices_positive", ValidationError, "target price and stop loss must be positive")
register_constraint(
    "signals_stop_on_losing_side", ValidationError, "a BUY's stop loss must be below its target, a SELL's above"
)
register_constraint("signals_expiry_after_signal", ValidationError, "a signal must expire after it is issued")


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


def record_signals(conn: psycopg.Connection[Any], signals: Sequence[NewSignal]) -> list[Signal]:
    """Store signals in one transaction (a savepoint inside the caller's); all or none."""
    out: list[Signal] = []
    with wrap_errors(), conn.transaction(), conn.cursor(row_factory=class_row(Signal)) as cur:
        for s in signals:
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
            out.append(row)
    return out


def recent_signals(
    conn: psycopg.Connection[Any],
    *,
    since: datetime,
    symbol: str | None = None,
    min_confidence: Decimal | None = None,
    limit: int = 100,
) -> list[Signal]:
    params = {"since": since, "symbol": symbol, "min_confidence": min_confidence, "limit": limit}
    with wrap_errors(), conn.cursor(row_factory=class_row(Signal)) as cur:
        return cur.execute(q("recent_signals"), params).fetchall()
