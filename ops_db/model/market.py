"""Market data rows: what ingest takes (PriceTick, OptionQuote, MarketEvent), what it answers
(IngestResult) and what the reads return (Bar, LatestPrice, ChainQuote, indicator points).

The vocabularies are ``Literal`` types, so a type checker refuses a wrong value at the call site;
the database's CHECK constraints (migrations 0100, 0520) stay the authority.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, NamedTuple, get_args

BarInterval = Literal["1m", "5m", "1h", "1d"]
"""The rollups bars are read from (trading.stock_prices_1m ... _1d)."""
BAR_INTERVALS: tuple[BarInterval, ...] = get_args(BarInterval)

OptionType = Literal["CALL", "PUT"]
"""As CHECK options_data_option_type_known."""
OPTION_TYPES: tuple[OptionType, ...] = get_args(OptionType)

Progress = Callable[[int], None]
"""Called with the number of rows sent since the last call."""


# -- inputs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PriceTick:
    symbol: str
    timestamp: datetime
    close_price: Decimal
    volume: int = 0
    open_price: Decimal | None = None
    high_price: Decimal | None = None
    low_price: Decimal | None = None
    vwap: Decimal | None = None


@dataclass(frozen=True)
class OptionQuote:
    option_symbol: str
    underlying_symbol: str
    timestamp: datetime
    expiration_date: date
    strike_price: Decimal
    option_type: OptionType
    bid_price: Decimal | None = None
    ask_price: Decimal | None = None
    last_price: Decimal | None = None
    volume: int = 0
    open_interest: int = 0
    implied_volatility: Decimal | None = None
    delta: Decimal | None = None
    gamma: Decimal | None = None
    theta: Decimal | None = None
    vega: Decimal | None = None
    rho: Decimal | None = None
    intrinsic_value: Decimal | None = None
    time_value: Decimal | None = None


@dataclass(frozen=True)
class MarketEvent:
    """``event_type`` is open-ended lower_snake_case (CHECK market_events_event_type_format)."""

    symbol: str
    timestamp: datetime
    event_type: str
    price: Decimal | None = None
    volume: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class IngestResult:
    received: int
    inserted: int
    updated: int

    @property
    def unchanged(self) -> int:
        return self.received - self.inserted - self.updated


class IngestCounts(NamedTuple):
    """What an upsert from a staging table wrote (upsert_*_from_stage, insert_events_from_stage)."""

    inserted: int
    updated: int


# -- outputs -----------------------------------------------------------------------------


class Bar(NamedTuple):
    """One OHLCV bar. A NamedTuple, not a frozen dataclass: bars come by the thousand (see ops_db.core.rows)."""

    bucket: datetime
    symbol: str
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int
    vwap: Decimal | None
    trade_count: int


@dataclass(frozen=True)
class LatestPrice:
    symbol: str
    timestamp: datetime
    close_price: Decimal
    volume: int
    vwap: Decimal | None


@dataclass(frozen=True)
class ChainQuote:
    option_symbol: str
    expiration_date: date
    strike_price: Decimal
    option_type: OptionType
    bid_price: Decimal | None
    ask_price: Decimal | None
    last_price: Decimal | None
    volume: int
    open_interest: int
    implied_volatility: Decimal | None
    delta: Decimal | None
    gamma: Decimal | None
    theta: Decimal | None
    vega: Decimal | None
    rho: Decimal | None
    timestamp: datetime


@dataclass(frozen=True)
class PutCallRatio:
    underlying_symbol: str
    put_volume: int
    call_volume: int
    put_call_ratio: Decimal | None


@dataclass(frozen=True)
class RsiPoint:
    timestamp: datetime
    symbol: str
    close: Decimal
    rsi: Decimal | None


@dataclass(frozen=True)
class BollingerPoint:
    timestamp: datetime
    symbol: str
    close: Decimal
    middle_band: Decimal | None
    upper_band: Decimal | None
    lower_band: Decimal | None


@dataclass(frozen=True)
class MovingAveragePoint:
    timestamp: datetime
    symbol: str
    close: Decimal
    sma: Decimal | None
    ema: Decimal | None
