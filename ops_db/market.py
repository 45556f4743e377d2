"""Market data: bulk ingest through binary COPY, bars, latest prices, options chain, indicators.

Ingest validates every row before anything is sent: a bad row (NaN, negative or zero price,
unknown symbol format, wrong type, duplicate key in the batch) raises ValidationError naming
the row (1-based) and the reason, and nothing of the batch is written. The database's CHECK
constraints stay the authority; the checks here exist to say *which* row is wrong.

Re-ingesting is idempotent: prices and option quotes are upserted on their key (identical rows
change nothing, differing values are stored as corrections); market events are skipped.
"""

from __future__ import annotations

import contextvars
import itertools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal, NamedTuple

import psycopg
from psycopg import sql
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from ops_db.core.contract import RowError, api, check_decimal, rows_of
from ops_db.core.error_map import map_errors, translate
from ops_db.core.errors import ValidationError
from ops_db.core.queries import q
from ops_db.core.rows import named_tuple_row

SYMBOL_RE = re.compile(r"^[A-Z][A-Z0-9.-]{0,9}$")  # as CHECK stock_prices_symbol_format
OPTION_SYMBOL_RE = re.compile(r"^[A-Z][A-Z0-9.]{0,5} *[0-9]{6}[CP][0-9]{8}$")  # OCC symbology
EVENT_TYPE_RE = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
COPY_BATCH = 5000  # rows between progress callbacks
INT8_MAX = 2**63 - 1
TIME_FLOOR = datetime(2000, 1, 1, tzinfo=UTC)  # the window of ops_internal.market_time_window()
FUTURE_TOLERANCE = timedelta(days=1)

BAR_TABLES: dict[str, str] = {
    "1m": "stock_prices_1m",
    "5m": "stock_prices_5m",
    "1h": "stock_prices_1h",
    "1d": "stock_prices_1d",
}
BarInterval = Literal["1m", "5m", "1h", "1d"]
Progress = Callable[[int], None]


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
    option_type: str  # CALL | PUT
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
    option_type: str
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


# -- validation --------------------------------------------------------------------------




def _count(value: object, name: str, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise RowError(f"{name} must be an integer, got {type(value).__name__}")
    if value < 0:
        raise RowError(f"{name} cannot be negative, got {value}")
    if value > INT8_MAX:
        raise RowError(f"{name} {value} is too large (at most {INT8_MAX})")


def _time(value: object, name: str = "timestamp") -> None:
    if not isinstance(value, datetime):
        raise RowError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise RowError(f"{name} has no time zone")
    # As CHECK *_timestamp_bounded (migration 0520), which stays the authority.
    if value < TIME_FLOOR or value > _ceiling.get():
        raise RowError(f"{name} {value.isoformat()} is outside 2000-01-01 UTC .. one day from now")


def _symbol(value: object, name: str = "symbol") -> None:
    if not isinstance(value, str) or not SYMBOL_RE.match(value):
        raise RowError(f"{name} {value!r} is not a valid symbol (1-10 of A-Z 0-9 . -, starting with a letter)")


# The newest time a row may carry: set once per batch by _validate, not read from the clock per row.
_ceiling: contextvars.ContextVar[datetime] = contextvars.ContextVar("ops_db_market_ceiling")


def _validate(rows: Sequence[object], kind: type, check: Callable[[Any], None], key: Callable[[Any], object]) -> None:
    _ceiling.set(datetime.now(UTC) + FUTURE_TOLERANCE)
    seen: dict[object, int] = {}
    for number, row in enumerate(rows, start=1):
        try:
            if not isinstance(row, kind):
                raise RowError(f"expected {kind.__name__}, got {type(row).__name__}")
            check(row)
            k = key(row)
            if k in seen:
                raise RowError(f"same key as row {seen[k]} in this batch")
            seen[k] = number
        except RowError as exc:
            raise ValidationError(f"row {number} refused, nothing written: {exc}") from None


def _check_tick(t: PriceTick) -> None:
    _symbol(t.symbol)
    _time(t.timestamp)
    check_decimal(t.close_price, "close_price", positive=True)
    _count(t.volume, "volume")
    if t.open_price is None and t.high_price is None and t.low_price is None and t.vwap is None:
        return  # a plain tick (the bulk of any feed): nothing more to compare
    for name in ("open_price", "high_price", "low_price", "vwap"):
        check_decimal(getattr(t, name), name, positive=True, optional=True)
    close = t.close_price
    if t.high_price is not None and t.high_price < max(close, t.open_price or close, t.low_price or close):
        raise RowError(f"high_price {t.high_price} is below another price of the tick")
    if t.low_price is not None and t.low_price > min(close, t.open_price or close):
        raise RowError(f"low_price {t.low_price} is above another price of the tick")


def _check_quote(o: OptionQuote) -> None:
    if not isinstance(o.option_symbol, str) or not OPTION_SYMBOL_RE.match(o.option_symbol):
        raise RowError(f"option_symbol {o.option_symbol!r} is not an OCC option symbol")
    _symbol(o.underlying_symbol, "underlying_symbol")
    _time(o.timestamp)
    if not isinstance(o.expiration_date, date) or isinstance(o.expiration_date, datetime):
        raise RowError(f"expiration_date must be a date, got {type(o.expiration_date).__name__}")
    if o.option_type not in ("CALL", "PUT"):
        raise RowError(f"option_type {o.option_type!r} is not CALL or PUT")
    check_decimal(o.strike_price, "strike_price", positive=True)
    tail = o.option_symbol[-15:]
    if (
        tail[6] != o.option_type[0]
        or Decimal(tail[7:]) / 1000 != o.strike_price
        or tail[:6] != o.expiration_date.strftime("%y%m%d")
    ):
        raise RowError(f"option_symbol {o.option_symbol!r} does not match expiration, type and strike")
    for name in ("bid_price", "ask_price", "last_price", "intrinsic_value"):
        check_decimal(getattr(o, name), name, nonnegative=True, optional=True)
    check_decimal(o.time_value, "time_value", optional=True)
    check_decimal(o.implied_volatility, "implied_volatility", nonnegative=True, optional=True, precision=10, scale=6)
    check_decimal(o.delta, "delta", optional=True, precision=10, scale=6)
    for name in ("gamma", "vega"):
        check_decimal(getattr(o, name), name, nonnegative=True, optional=True, precision=12, scale=6)
    for name in ("theta", "rho"):
        check_decimal(getattr(o, name), name, optional=True, precision=12, scale=6)
    if o.bid_price is not None and o.ask_price is not None and o.bid_price > o.ask_price:
        raise RowError(f"bid {o.bid_price} is above ask {o.ask_price}")
    if o.delta is not None and not -1 <= o.delta <= 1:
        raise RowError(f"delta {o.delta} is outside -1..1")
    _count(o.volume, "volume")
    _count(o.open_interest, "open_interest")


def _check_event(e: MarketEvent) -> None:
    _symbol(e.symbol)
    _time(e.timestamp)
    if not isinstance(e.event_type, str) or not EVENT_TYPE_RE.match(e.event_type):
        raise RowError(f"event_type {e.event_type!r} is not lower_snake_case")
    check_decimal(e.price, "price", positive=True, optional=True)
    _count(e.volume, "volume", optional=True)
    if not isinstance(e.metadata, dict):
        raise RowError(f"metadata must be a dict, got {type(e.metadata).__name__}")


# -- ingest ------------------------------------------------------------------------------


def _copy(
    conn: psycopg.Connection[Any],
    create: str,
    copy_sql: str,
    write: str,
    types: list[str],
    rows: Iterable[tuple[object, ...]],
    total: int,
    progress: Progress | None,
) -> IngestResult:
    with map_errors(), conn.transaction(), conn.cursor() as cur:
        cur.execute(q(create))
        with cur.copy(q(copy_sql)) as copy:
            copy.set_types(types)
            for n, row in enumerate(rows, start=1):
                copy.write_row(row)
                if progress is not None and n % COPY_BATCH == 0:
                    progress(COPY_BATCH)
        if progress is not None and total % COPY_BATCH:
            progress(total % COPY_BATCH)
        counts = cur.execute(q(write)).fetchone()
    assert counts is not None
    return IngestResult(received=total, inserted=int(counts[0]), updated=int(counts[1]))


def _tick_key(t: PriceTick) -> tuple[str, datetime]:
    return (t.symbol, t.timestamp)


def _copy_new_prices(
    conn: psycopg.Connection[Any], ticks: Sequence[PriceTick], progress: Progress | None
) -> IngestResult:
    """One binary COPY straight into the hypertable: as fast as ``psql \\copy``, but only for new ticks.

    A tick already stored raises UniqueViolation, and the savepoint undoes the whole COPY.
    """
    types = ["text", "timestamptz", "numeric", "numeric", "numeric", "numeric", "int8", "numeric"]
    # In key order, as every writer of the table: two overlapping batches then wait on each
    # other's keys in the same order and never deadlock.
    ordered = sorted(ticks, key=_tick_key)
    with conn.transaction(), conn.cursor() as cur, cur.copy(q("copy_prices_direct")) as copy:
        copy.set_types(types)
        for n, t in enumerate(ordered, start=1):
            copy.write_row((t.symbol, t.timestamp, t.open_price, t.high_price, t.low_price, t.close_price,
                            t.volume, t.vwap))
            if progress is not None and n % COPY_BATCH == 0:
                progress(COPY_BATCH)
    if progress is not None and len(ticks) % COPY_BATCH:
        progress(len(ticks) % COPY_BATCH)
    return IngestResult(received=len(ticks), inserted=len(ticks), updated=0)


@api(rows_checked_by_callee="ticks")
def ingest_prices(
    conn: psycopg.Connection[Any], ticks: Iterable[PriceTick], *, progress: Progress | None = None
) -> IngestResult:
    """Write price ticks in one transaction (a savepoint inside the caller's).

    A generator is consumed once into a list (use ingest_price_stream for streams of any size).

    New ticks (the usual case) go in with one COPY into the hypertable. When any tick of the
    batch is stored already, that COPY is undone and the batch is upserted through a staging
    table instead (re-ingest, corrections), at about half the speed.
    """
    ticks = rows_of(ticks, "ticks")
    _validate(ticks, PriceTick, _check_tick, _tick_key)
    reported = 0

    def count(n: int) -> None:
        nonlocal reported
        reported += n
        if progress is not None:
            progress(n)

    try:
        return _copy_new_prices(conn, ticks, count)
    except psycopg.errors.UniqueViolation:
        pass  # some ticks exist: upsert below; progress resumes past what was already reported
    except psycopg.Error as exc:
        raise translate(exc) from exc

    def resume(n: int) -> None:
        nonlocal reported
        if progress is None:
            return
        already = min(reported, n)
        reported -= already
        if n > already:
            progress(n - already)

    rows = (
        (n, t.symbol, t.timestamp, t.open_price, t.high_price, t.low_price, t.close_price, t.volume, t.vwap)
        for n, t in enumerate(ticks, start=1)
    )
    types = ["int4", "text", "timestamptz", "numeric", "numeric", "numeric", "numeric", "int8", "numeric"]
    return _copy(
        conn, "create_price_stage", "copy_price_stage", "upsert_prices_from_stage", types, rows, len(ticks), resume
    )


@api(atomic=False, rows_checked_by_callee="ticks")
def ingest_price_stream(
    conn: psycopg.Connection[Any], ticks: Iterable[PriceTick], *, batch_size: int = 50_000,
    progress: Progress | None = None,
) -> IngestResult:
    """Write an iterable of any length (a generator) in batches of ``batch_size``, in constant memory.

    Each batch is all-or-nothing (a savepoint inside the caller's transaction, or a transaction
    of its own on an autocommit connection); a refused batch stops the stream, and the error
    says which row of which batch. A key repeated in a later batch is upserted like a re-ingest.
    """
    if isinstance(ticks, str | bytes | bytearray | Mapping) or not isinstance(ticks, Iterable):
        raise ValidationError(f"ticks must be an iterable of PriceTick, got {type(ticks).__name__}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValidationError(f"batch_size must be at least 1, got {batch_size}")
    received = inserted = updated = 0
    iterator = iter(ticks)
    batch_no = 0
    while batch := list(itertools.islice(iterator, batch_size)):
        batch_no += 1
        try:
            result = ingest_prices(conn, batch, progress=progress)
        except ValidationError as exc:
            raise ValidationError(f"batch {batch_no} (rows {received + 1}-{received + len(batch)}): {exc}") from None
        received += result.received
        inserted += result.inserted
        updated += result.updated
    return IngestResult(received=received, inserted=inserted, updated=updated)


@api
def ingest_options(
    conn: psycopg.Connection[Any], quotes: Iterable[OptionQuote], *, progress: Progress | None = None
) -> IngestResult:
    """Write option quotes in one transaction (a savepoint inside the caller's)."""
    quotes = rows_of(quotes, "quotes")
    _validate(quotes, OptionQuote, _check_quote, lambda o: (o.option_symbol, o.timestamp))
    rows = (
        (
            n, o.option_symbol, o.underlying_symbol, o.timestamp, o.expiration_date, o.strike_price, o.option_type,
            o.bid_price, o.ask_price, o.last_price, o.volume, o.open_interest, o.implied_volatility, o.delta,
            o.gamma, o.theta, o.vega, o.rho, o.intrinsic_value, o.time_value,
        )
        for n, o in enumerate(quotes, start=1)
    )
    types = ["int4", "text", "text", "timestamptz", "date", "numeric", "text"] + ["numeric"] * 3 + ["int8"] * 2
    types += ["numeric"] * 8
    return _copy(
        conn, "create_option_stage", "copy_option_stage", "upsert_options_from_stage", types, rows, len(quotes),
        progress,
    )


@api
def ingest_events(
    conn: psycopg.Connection[Any], events: Iterable[MarketEvent], *, progress: Progress | None = None
) -> IngestResult:
    """Write market events in one transaction; events already stored are skipped."""
    events = rows_of(events, "events")
    _validate(events, MarketEvent, _check_event, lambda e: (e.symbol, e.timestamp, e.event_type))
    rows = (
        (n, e.symbol, e.timestamp, e.event_type, e.price, e.volume, Jsonb(e.metadata))
        for n, e in enumerate(events, start=1)
    )
    types = ["int4", "text", "timestamptz", "text", "numeric", "int8", "jsonb"]
    return _copy(
        conn, "create_event_stage", "copy_event_stage", "insert_events_from_stage", types, rows, len(events), progress
    )


# -- reading -----------------------------------------------------------------------------


@api
def bars(
    conn: psycopg.Connection[Any], symbol: str, interval: BarInterval, start: datetime, end: datetime
) -> list[Bar]:
    """OHLCV bars from the rollup of that interval, buckets in [start, end)."""
    if interval not in BAR_TABLES:
        raise ValidationError(f"bar interval must be one of {', '.join(BAR_TABLES)}, got {interval!r}")
    query = sql.SQL(q("bars")).format(table=sql.Identifier("trading", BAR_TABLES[interval]))
    with map_errors(), conn.transaction(), conn.cursor(row_factory=named_tuple_row(Bar)) as cur:
        return cur.execute(query, {"symbol": symbol, "start": start, "end": end}).fetchall()


@api
def latest_prices(conn: psycopg.Connection[Any], symbols: Sequence[str] | None = None) -> list[LatestPrice]:
    """The newest price of every symbol, or of ``symbols`` (a list: a bare string is refused)."""
    wanted = None
    if symbols is not None:
        wanted = list(rows_of(symbols, "symbols"))
        for n, s in enumerate(wanted, start=1):
            if not isinstance(s, str):
                raise ValidationError(f"symbols[{n}] must be a str, got {type(s).__name__}")
    with map_errors(), conn.transaction(), conn.cursor(row_factory=class_row(LatestPrice)) as cur:
        return cur.execute(q("latest_prices"), {"symbols": wanted or None}).fetchall()


@api
def options_chain(
    conn: psycopg.Connection[Any],
    underlying: str,
    expires_from: date,
    expires_to: date,
    quoted_since: datetime,
) -> list[ChainQuote]:
    """Latest quote since ``quoted_since`` of each contract expiring in [expires_from, expires_to]."""
    params = {"underlying": underlying, "expires_from": expires_from, "expires_to": expires_to,
              "quoted_since": quoted_since}
    with map_errors(), conn.transaction(), conn.cursor(row_factory=class_row(ChainQuote)) as cur:
        return cur.execute(q("options_chain"), params).fetchall()


@api
def put_call_ratios(conn: psycopg.Connection[Any], start: datetime, end: datetime) -> list[PutCallRatio]:
    with map_errors(), conn.transaction(), conn.cursor(row_factory=class_row(PutCallRatio)) as cur:
        return cur.execute(q("put_call_ratio"), {"start": start, "end": end}).fetchall()


def _analytics_args(period: int, interval: timedelta, num_std: Decimal | None = None) -> None:
    """The window and bar size of an indicator: a positive number of bars, a positive bar size."""
    if period < 1 or period > 10_000:
        raise ValidationError(f"period must be 1 to 10000 bars, got {period}")
    if interval <= timedelta(0):
        raise ValidationError(f"interval must be a positive bar size, got {interval}")
    if num_std is not None and not (num_std.is_finite() and 0 < num_std <= 100):
        raise ValidationError(f"num_std must be a positive number of standard deviations up to 100, got {num_std}")


@api
def rsi(
    conn: psycopg.Connection[Any], symbol: str, *, period: int = 14, interval: timedelta = timedelta(minutes=5),
    since: datetime | None = None,
) -> list[RsiPoint]:
    _analytics_args(period, interval)
    params = {"symbol": symbol, "period": period, "interval": interval, "start": since}
    with map_errors(), conn.transaction(), conn.cursor(row_factory=class_row(RsiPoint)) as cur:
        return cur.execute(q("rsi"), params).fetchall()


@api
def bollinger_bands(
    conn: psycopg.Connection[Any], symbol: str, *, period: int = 20, num_std: Decimal = Decimal(2),
    interval: timedelta = timedelta(minutes=5), since: datetime | None = None,
) -> list[BollingerPoint]:
    _analytics_args(period, interval, num_std)
    params = {"symbol": symbol, "period": period, "num_std": num_std, "interval": interval, "start": since}
    with map_errors(), conn.transaction(), conn.cursor(row_factory=class_row(BollingerPoint)) as cur:
        return cur.execute(q("bollinger_bands"), params).fetchall()


@api
def moving_average(
    conn: psycopg.Connection[Any], symbol: str, *, period: int = 20, interval: timedelta = timedelta(minutes=5),
    since: datetime | None = None,
) -> list[MovingAveragePoint]:
    _analytics_args(period, interval)
    params = {"symbol": symbol, "period": period, "interval": interval, "start": since}
    with map_errors(), conn.transaction(), conn.cursor(row_factory=class_row(MovingAveragePoint)) as cur:
        return cur.execute(q("moving_average"), params).fetchall()


@api
def vwap(conn: psycopg.Connection[Any], symbol: str, start: datetime, end: datetime) -> Decimal | None:
    with map_errors(), conn.transaction():
        row = conn.execute(q("vwap"), {"symbol": symbol, "start": start, "end": end}).fetchone()
    return None if row is None else row[0]
