"""Trading signal rows and the signal vocabulary (CHECK signals_signal_type_known)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, get_args

SignalType = Literal["BUY", "SELL", "HOLD"]
SIGNAL_TYPES: tuple[SignalType, ...] = get_args(SignalType)


@dataclass(frozen=True)
class NewSignal:
    symbol: str
    signal_type: SignalType
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
    signal_type: SignalType
    confidence: Decimal
    target_price: Decimal | None
    stop_loss: Decimal | None
    reasoning: str | None
    model_version: str | None
    strategy: str | None
    features: dict[str, Any] | None
    timestamp: datetime
    expires_at: datetime | None
