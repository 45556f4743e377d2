"""Trading signals: record them, read the recent ones.

Written once, async; ``ops_db/signals.py`` is generated from it (tools/async_to_sync.py). The row
types and the signal vocabulary live in ``ops_db.model.signals`` and are re-exported here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from ops_db.aio.core.db import fetch_all, fetch_one
from ops_db.core.contract import RowError, api, check_decimal, rows_of
from ops_db.core.errors import OpsDbError, ValidationError
from ops_db.model.signals import SIGNAL_TYPES, NewSignal, Signal, SignalType

__all__: list[str] = [  # annotated: the generator (unasyncd) rewrites a plain `__all__ =` assignment
    "SIGNAL_TYPES", "NewSignal", "Signal", "SignalType", "ValidationError", "recent_signals", "record_signals",
]


def _check(s: object) -> None:
    if not isinstance(s, NewSignal):
        raise ValueError(f"expected NewSignal, got {type(s).__name__}")
    if not isinstance(s.symbol, str):
        raise ValueError(f"symbol must be a str, got {type(s.symbol).__name__}")
    if s.signal_type not in SIGNAL_TYPES:
        raise ValueError(f"signal_type must be one of {', '.join(SIGNAL_TYPES)}, got {s.signal_type!r}")
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


def _params(s: NewSignal) -> dict[str, Any]:
    return {
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


@api
async def record_signals(conn: psycopg.AsyncConnection[Any], signals: Iterable[NewSignal]) -> list[Signal]:
    """Store signals as one unit (a savepoint inside the caller's transaction); all or none.

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
        for s in batch:
            out.append(await fetch_one(conn, Signal, "insert_signal", _params(s), missing="no signal returned"))
    except OpsDbError as err:
        raise type(err)(f"signal {len(out) + 1} refused, nothing written: {err}") from err
    return out


@api
async def recent_signals(
    conn: psycopg.AsyncConnection[Any],
    *,
    since: datetime,
    symbol: str | None = None,
    min_confidence: Decimal | None = None,
    limit: int = 100,
) -> list[Signal]:
    """Signals since ``since`` (of one symbol, at or above a confidence), newest first."""
    if limit < 1:
        raise ValidationError(f"limit must be at least 1, got {limit}")
    if min_confidence is not None and not min_confidence.is_finite():
        raise ValidationError(f"min_confidence must be a number from 0 to 1, got {min_confidence}")
    params = {"since": since, "symbol": symbol, "min_confidence": min_confidence, "limit": limit}
    return await fetch_all(conn, Signal, "recent_signals", params)
