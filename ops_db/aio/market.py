"""Market data: bulk ingest through binary COPY, bars, latest prices, options chain, indicators.

Written once, async, on psycopg's AsyncConnection; ``ops_db/market.py`` (sync) is generated from
it by tools/async_to_sync.py. The row types live in ``ops_db.model.market`` and are re-exported
here, so ``ops_db.market.PriceTick`` and ``ops_db.aio.market.PriceTick`` are the same class.

Every function runs under the one contract (``@api``): inside the caller's transaction a call is
a savepoint, on an idle connection a transaction of its own that commits when the call succeeds.
``ingest_price_stream`` is the exception by design: each batch is such a unit of its own.

Ingest validates every row before it is written: a bad row (NaN, negative or zero price,
unknown symbol format, wrong type, duplicate key in the batch) raises ValidationError naming
the row (1-based) and the reason, and nothing of the batch is written (price ticks are checked a
chunk at a time as they stream into the COPY, which a refused chunk undoes; progress counts rows
sent, so a refused batch may have reported some). The database's CHECK
constraints stay the authority; the checks here exist to say *which* row is wrong.

Re-ingesting is idempotent: prices and option quotes are upserted on their key (identical rows
change nothing, differing values are stored as corrections); market events are skipped.
"""

from __future__ import annotations

import contextvars
import itertools
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg.types.json import Jsonb

from ops_db.aio.core.db import atomic, copy_rows, execute, fetch_all, fetch_one, fetch_value
from ops_db.core.contract import RowError, api, check_decimal, rows_of
from ops_db.core.errors import OpsDbError, ValidationError
from ops_db.model.market import (
    BAR_INTERVALS,
    OPTION_TYPES,
    Bar,
    BarInterval,
    BollingerPoint,
    ChainQuote,
    IngestCounts,
    IngestResult,
    LatestPrice,
    MarketEvent,
    MovingAveragePoint,
    OptionQuote,
    OptionType,
    PriceTick,
    Progress,
    PutCallRatio,
    RsiPoint,
)

__all__: list[str] = [  # annotated: the generator (unasyncd) rewrites a plain `__all__ =` assignment
    "BAR_INTERVALS", "OPTION_TYPES", "Bar", "BarInterval", "BollingerPoint", "ChainQuote", "IngestResult",
    "LatestPrice", "MarketEvent", "MovingAveragePoint", "OptionQuote", "OptionType", "PriceTick", "Progress",
    "PutCallRatio", "RsiPoint", "ValidationError", "bars", "bollinger_bands", "ingest_events", "ingest_options",
    "ingest_price_stream", "ingest_prices", "latest_prices", "moving_average", "options_chain", "put_call_ratios",
    "rsi", "vwap",
]

SYMBOL_RE = re.compile(r"^[A-Z][A-Z0-9.-]{0,9}$")  # as CHECK stock_prices_symbol_format
OPTION_SYMBOL_RE = re.compile(r"^[A-Z][A-Z0-9.]{0,5} *[0-9]{6}[CP][0-9]{8}$")  # OCC symbology
EVENT_TYPE_RE = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
COPY_BATCH = 5000  # rows between progress callbacks
INT8_MAX = 2**63 - 1
TIME_FLOOR = datetime(2000, 1, 1, tzinfo=UTC)  # the window of ops_internal.market_time_window()
FUTURE_TOLERANCE = timedelta(days=1)


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


_SYMBOL = operator.attrgetter("symbol")
_TIMESTAMP = operator.attrgetter("timestamp")
_TZINFO = operator.attrgetter("tzinfo")
_CLOSE = operator.attrgetter("close_price")
_VOLUME = operator.attrgetter("volume")
_OPTIONAL = tuple(map(operator.attrgetter, ("open_price", "high_price", "low_price", "vwap")))


class _Refused(Exception):
    """A chunk failed the batch checks during the COPY: the COPY is undone, _validate names the row."""


def _in_key_order(ticks: Sequence[object]) -> tuple[list[PriceTick], bool] | None:
    """The batch sorted by key (symbol, then time: two stable sorts, cheaper than one on a tuple
    key) and whether every tick is plain (no open/high/low/vwap: the 4-column COPY); None when
    the rows cannot even be sorted (then _validate goes row by row and says which row and why)."""
    try:
        ordered = sorted(ticks, key=_TIMESTAMP)
        ordered.sort(key=_SYMBOL)
        nones = itertools.repeat(None)
        plain = not any(any(map(operator.is_not, map(field, ticks), nones)) for field in _OPTIONAL)
    except (TypeError, ValueError, AttributeError):
        return None
    return ordered, plain  # type: ignore[return-value]  # PriceTick: checked by _chunk_passes


def _chunk_passes(chunk: Sequence[object], ceiling: datetime) -> bool:
    """Whether every tick of ``chunk`` (in key order, led by the last tick of the chunk before it)
    passes every check of _check_tick, and no key comes twice.

    The same checks as _check_tick, made on the chunk as a whole: a feed repeats its symbols, and
    its prices far more often than not, so each distinct symbol and price is checked once, the
    time window by min and max, types by the set of types, and a repeated key shows as two equal
    neighbours in key order. Only ticks that carry open/high/low/vwap are checked one by one.
    """
    try:
        if set(map(type, chunk)) != {PriceTick}:
            return False
        batch: Sequence[PriceTick] = chunk  # type: ignore[assignment]
        if not all(type(symbol) is str and SYMBOL_RE.match(symbol) for symbol in set(map(_SYMBOL, batch))):
            return False
        stamps = list(map(_TIMESTAMP, batch))
        if set(map(type, stamps)) != {datetime}:
            return False
        zones = set(map(_TZINFO, stamps))
        # Fixed offsets, or one zone for the whole chunk: otherwise Python compares times of one
        # ZoneInfo by wall clock (a DST fold) and of two zones by UTC, an order that is not
        # transitive (the sort, min and max would not mean what they say): row by row.
        fixed = all(isinstance(zone, timezone) for zone in zones)
        if not (fixed or (len(zones) == 1 and isinstance(next(iter(zones)), ZoneInfo))):
            return False
        if min(stamps) < TIME_FLOOR or max(stamps) > ceiling:
            return False
        closes = list(map(_CLOSE, batch))
        if not set(map(type, closes)) <= {Decimal, int}:
            return False
        for close in set(closes):  # equal values pass or fail alike (the checks compare values)
            check_decimal(close, "close_price", positive=True)
        volumes = list(map(_VOLUME, batch))
        if set(map(type, volumes)) != {int} or min(volumes) < 0 or max(volumes) > INT8_MAX:
            return False
        for tick in batch:  # those with open/high/low/vwap: every check, one by one
            if tick.open_price is not None or tick.high_price is not None or tick.low_price is not None \
                    or tick.vwap is not None:
                _check_tick(tick)
        symbols, following = list(map(_SYMBOL, batch)), itertools.islice
        return not any(map(operator.and_, map(operator.eq, symbols, following(symbols, 1, None)),
                           map(operator.eq, stamps, following(stamps, 1, None))))
    except (RowError, TypeError, ValueError, ArithmeticError):
        return False


def _checked_rows(
    ordered: list[PriceTick], row: Callable[[PriceTick], tuple[object, ...]], passed: list[bool]
) -> Iterator[tuple[object, ...]]:
    """The COPY rows of ``ordered``, a chunk at a time, each chunk checked before any of its rows is
    sent: the checks of one chunk run while the server stores the one before. _Refused when a
    chunk fails (raised inside the COPY, which is then undone); ``passed`` becomes [True] once
    every chunk passed (a COPY that fails on the server may have stopped before the last one)."""
    ceiling = datetime.now(UTC) + FUTURE_TOLERANCE
    _ceiling.set(ceiling)  # for _check_tick
    for start in range(0, len(ordered), COPY_BATCH):
        led = ordered[max(start - 1, 0):start + COPY_BATCH]  # the tick before: a key repeated across chunks
        if not _chunk_passes(led, ceiling):
            raise _Refused
        yield from map(row, ordered[start:start + COPY_BATCH])
    passed[:] = [True]


def _check_quote(o: OptionQuote) -> None:
    if not isinstance(o.option_symbol, str) or not OPTION_SYMBOL_RE.match(o.option_symbol):
        raise RowError(f"option_symbol {o.option_symbol!r} is not an OCC option symbol")
    _symbol(o.underlying_symbol, "underlying_symbol")
    _time(o.timestamp)
    if not isinstance(o.expiration_date, date) or isinstance(o.expiration_date, datetime):
        raise RowError(f"expiration_date must be a date, got {type(o.expiration_date).__name__}")
    if o.option_type not in OPTION_TYPES:
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

_DIRECT_TYPES = ("text", "timestamptz", "numeric", "numeric", "numeric", "numeric", "int8", "numeric")
# The row of the direct COPY, made in C (a generator building the tuple cost ~5% of the ingest).
_DIRECT_ROW = operator.attrgetter("symbol", "timestamp", "open_price", "high_price", "low_price", "close_price",
                                  "volume", "vwap")
# Plain ticks (the bulk of a feed) leave open/high/low/vwap NULL: four columns instead of eight.
_PLAIN_TYPES = ("text", "timestamptz", "numeric", "int8")
_PLAIN_ROW = operator.attrgetter("symbol", "timestamp", "close_price", "volume")
_PRICE_STAGE_TYPES = ("int4", "text", "timestamptz", "numeric", "numeric", "numeric", "numeric", "int8", "numeric")
_OPTION_STAGE_TYPES = (
    ("int4", "text", "text", "timestamptz", "date", "numeric", "text") + ("numeric",) * 3 + ("int8",) * 2
    + ("numeric",) * 8
)
_EVENT_STAGE_TYPES = ("int4", "text", "timestamptz", "text", "numeric", "int8", "jsonb")


async def _write_staged(
    conn: psycopg.AsyncConnection[Any],
    stage: str,
    copy_query: str,
    write: str,
    types: Sequence[str],
    rows: Iterable[tuple[object, ...]],
    total: int,
    progress: Progress | None,
) -> IngestResult:
    """COPY ``rows`` into a transaction-local staging table, then write them into the table with
    the ``write`` query (an upsert in key order); the caller's ``atomic`` makes it one unit."""
    await execute(conn, stage)
    await copy_rows(conn, copy_query, types, rows, progress=progress, every=COPY_BATCH)
    counts = await fetch_one(conn, IngestCounts, write, missing=f"{write} returned no counts")
    return IngestResult(received=total, inserted=int(counts.inserted), updated=int(counts.updated))


def _tick_key(t: PriceTick) -> tuple[str, datetime]:
    return (t.symbol, t.timestamp)


async def _copy_new_prices(
    conn: psycopg.AsyncConnection[Any], ordered: Sequence[PriceTick], plain: bool, progress: Progress | None,
    passed: list[bool],
) -> IngestResult:
    """One binary COPY straight into the hypertable: as fast as ``psql \\copy``, but only for new ticks.

    ``ordered`` is in key order, as every writer of the table writes: two overlapping batches
    then wait on each other's keys in the same order and never deadlock. A tick already stored
    raises a unique violation, and atomic's savepoint undoes the whole COPY.
    """
    query, types, row = ("copy_prices_plain", _PLAIN_TYPES, _PLAIN_ROW) if plain else (
        "copy_prices_direct", _DIRECT_TYPES, _DIRECT_ROW)
    async with atomic(conn):
        await copy_rows(conn, query, types, _checked_rows(list(ordered), row, passed), progress=progress,
                        every=COPY_BATCH)
    return IngestResult(received=len(ordered), inserted=len(ordered), updated=0)


async def _copy_unchecked(
    conn: psycopg.AsyncConnection[Any], ordered: Sequence[PriceTick], progress: Progress | None
) -> IngestResult:
    """The 8-column direct COPY of ticks _validate passed (in key order)."""
    async with atomic(conn):
        await copy_rows(conn, "copy_prices_direct", _DIRECT_TYPES, map(_DIRECT_ROW, ordered), progress=progress,
                        every=COPY_BATCH)
    return IngestResult(received=len(ordered), inserted=len(ordered), updated=0)


async def _ingest_ticks(
    conn: psycopg.AsyncConnection[Any], ticks: Sequence[PriceTick], progress: Progress | None
) -> IngestResult:
    """One batch, checked and written (run inside ``atomic``): sorted by key, then checked a chunk
    at a time as its rows go into the COPY; when a check fails the COPY is undone and the batch
    is checked row by row, to say which row and why."""
    sorted_batch = _in_key_order(ticks)
    validated = sorted_batch is None
    if sorted_batch is None:
        _validate(ticks, PriceTick, _check_tick, _tick_key)  # raises, naming the row
        sorted_batch = sorted(ticks, key=_tick_key), False
    ordered, plain = sorted_batch
    shown = 0  # rows progress was told of: a later attempt reports only past them

    def attempt() -> Progress:
        sent = 0

        def report(n: int) -> None:
            nonlocal sent, shown
            sent += n
            if sent > shown:
                if progress is not None:
                    progress(sent - shown)
                shown = sent

        return report

    passed = [validated]  # every row checked and passed (by _validate, or every chunk by _checked_rows)
    try:
        try:
            return await _copy_new_prices(conn, ordered, plain, attempt(), passed)
        except _Refused:
            _validate(ticks, PriceTick, _check_tick, _tick_key)  # raises, naming the row
            # Left to the rows by the batch checks (a PriceTick subclass, a tzinfo such as pytz's),
            # which pass them: the direct COPY of what was checked.
            passed[:] = [True]
            return await _copy_unchecked(conn, ordered, attempt())
    except OpsDbError as exc:
        if not isinstance(exc.__cause__, psycopg.errors.UniqueViolation):
            raise
        # Some ticks exist: upsert below. The server may have refused the COPY before the chunk
        # checks reached the end of the batch: what they did not pass is checked row by row.
        if not passed[0]:
            _validate(ticks, PriceTick, _check_tick, _tick_key)

    rows = (
        (n, t.symbol, t.timestamp, t.open_price, t.high_price, t.low_price, t.close_price, t.volume, t.vwap)
        for n, t in enumerate(ticks, start=1)
    )
    return await _write_staged(conn, "create_price_stage", "copy_price_stage", "upsert_prices_from_stage",
                               _PRICE_STAGE_TYPES, rows, len(ticks), attempt())


@api(rows_checked_by_callee="ticks")
async def ingest_prices(
    conn: psycopg.AsyncConnection[Any], ticks: Iterable[PriceTick], *, progress: Progress | None = None
) -> IngestResult:
    """Write price ticks as one unit (a savepoint inside the caller's transaction, else a
    transaction of its own that commits).

    A generator is consumed once into a list (use ingest_price_stream for streams of any size).

    New ticks (the usual case) go in with one COPY into the hypertable. When any tick of the
    batch is stored already, that COPY is undone and the batch is upserted through a staging
    table instead (re-ingest, corrections), at about half the speed.
    """
    return await _ingest_ticks(conn, rows_of(ticks, "ticks"), progress)


@api(atomic=False, rows_checked_by_callee="ticks")
async def ingest_price_stream(
    conn: psycopg.AsyncConnection[Any], ticks: Iterable[PriceTick], *, batch_size: int = 50_000,
    progress: Progress | None = None,
) -> IngestResult:
    """Write an iterable of any length (a generator) in batches of ``batch_size``, in constant memory.

    Each batch is all-or-nothing and stored when it is written (``atomic`` per batch: a savepoint
    inside the caller's transaction, else a transaction of its own that commits); a refused batch
    stops the stream, and the error says which row of which batch. A key repeated in a later
    batch is upserted like a re-ingest.
    """
    if isinstance(ticks, str | bytes | bytearray | Mapping) or not isinstance(ticks, Iterable):
        raise ValidationError(f"ticks must be an iterable of PriceTick, got {type(ticks).__name__}")
    if batch_size < 1:
        raise ValidationError(f"batch_size must be at least 1, got {batch_size}")
    received = inserted = updated = 0
    iterator = iter(ticks)
    batch_no = 0
    while batch := list(itertools.islice(iterator, batch_size)):
        batch_no += 1
        try:
            async with atomic(conn):
                result = await _ingest_ticks(conn, batch, progress)
        except ValidationError as exc:
            raise ValidationError(f"batch {batch_no} (rows {received + 1}-{received + len(batch)}): {exc}") from None
        received += result.received
        inserted += result.inserted
        updated += result.updated
    return IngestResult(received=received, inserted=inserted, updated=updated)


@api
async def ingest_options(
    conn: psycopg.AsyncConnection[Any], quotes: Iterable[OptionQuote], *, progress: Progress | None = None
) -> IngestResult:
    """Write option quotes as one unit (a savepoint inside the caller's transaction)."""
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
    return await _write_staged(conn, "create_option_stage", "copy_option_stage", "upsert_options_from_stage",
                               _OPTION_STAGE_TYPES, rows, len(quotes), progress)


@api
async def ingest_events(
    conn: psycopg.AsyncConnection[Any], events: Iterable[MarketEvent], *, progress: Progress | None = None
) -> IngestResult:
    """Write market events as one unit; events already stored are skipped."""
    events = rows_of(events, "events")
    _validate(events, MarketEvent, _check_event, lambda e: (e.symbol, e.timestamp, e.event_type))
    rows = (
        (n, e.symbol, e.timestamp, e.event_type, e.price, e.volume, Jsonb(e.metadata))
        for n, e in enumerate(events, start=1)
    )
    return await _write_staged(conn, "create_event_stage", "copy_event_stage", "insert_events_from_stage",
                               _EVENT_STAGE_TYPES, rows, len(events), progress)


# -- reading -----------------------------------------------------------------------------


@api
async def bars(
    conn: psycopg.AsyncConnection[Any], symbol: str, interval: BarInterval, start: datetime, end: datetime
) -> list[Bar]:
    """OHLCV bars from the rollup of that interval, buckets in [start, end)."""
    return await fetch_all(conn, Bar, f"bars_{interval}", {"symbol": symbol, "start": start, "end": end})


@api
async def latest_prices(
    conn: psycopg.AsyncConnection[Any], symbols: Sequence[str] | None = None
) -> list[LatestPrice]:
    """The newest price of every symbol, or of ``symbols`` (a list: a bare string is refused)."""
    if not symbols:
        return await fetch_all(conn, LatestPrice, "latest_prices", {"symbols": None})
    params = {"symbols": list(symbols)}
    recent = await fetch_all(conn, LatestPrice, "latest_recent_prices_of", params)
    if len(recent) == len(set(symbols)):
        return recent
    # Some symbol has no price in the recent days: search all of history, for all of them, so
    # that the rows come in the database's own order.
    return await fetch_all(conn, LatestPrice, "latest_prices_of", params)


@api
async def options_chain(
    conn: psycopg.AsyncConnection[Any],
    underlying: str,
    expires_from: date,
    expires_to: date,
    quoted_since: datetime,
) -> list[ChainQuote]:
    """Latest quote since ``quoted_since`` of each contract expiring in [expires_from, expires_to]."""
    params = {"underlying": underlying, "expires_from": expires_from, "expires_to": expires_to,
              "quoted_since": quoted_since}
    return await fetch_all(conn, ChainQuote, "options_chain", params)


@api
async def put_call_ratios(conn: psycopg.AsyncConnection[Any], start: datetime, end: datetime) -> list[PutCallRatio]:
    """Put and call volume and their ratio per underlying over [start, end]."""
    return await fetch_all(conn, PutCallRatio, "put_call_ratio", {"start": start, "end": end})


def _analytics_args(period: int, interval: timedelta, num_std: Decimal | None = None) -> None:
    """The window and bar size of an indicator: a positive number of bars, a positive bar size."""
    if period < 1 or period > 10_000:
        raise ValidationError(f"period must be 1 to 10000 bars, got {period}")
    if interval <= timedelta(0):
        raise ValidationError(f"interval must be a positive bar size, got {interval}")
    if num_std is not None and not (num_std.is_finite() and 0 < num_std <= 100):
        raise ValidationError(f"num_std must be a positive number of standard deviations up to 100, got {num_std}")


@api
async def rsi(
    conn: psycopg.AsyncConnection[Any], symbol: str, *, period: int = 14, interval: timedelta = timedelta(minutes=5),
    since: datetime | None = None,
) -> list[RsiPoint]:
    """Wilder's RSI of ``symbol`` over bars of ``interval``."""
    _analytics_args(period, interval)
    params = {"symbol": symbol, "period": period, "interval": interval, "start": since}
    return await fetch_all(conn, RsiPoint, "rsi", params)


@api
async def bollinger_bands(
    conn: psycopg.AsyncConnection[Any], symbol: str, *, period: int = 20, num_std: Decimal = Decimal(2),
    interval: timedelta = timedelta(minutes=5), since: datetime | None = None,
) -> list[BollingerPoint]:
    """Bollinger bands (``period`` bars, ``num_std`` standard deviations) of ``symbol``."""
    _analytics_args(period, interval, num_std)
    params = {"symbol": symbol, "period": period, "num_std": num_std, "interval": interval, "start": since}
    return await fetch_all(conn, BollingerPoint, "bollinger_bands", params)


@api
async def moving_average(
    conn: psycopg.AsyncConnection[Any], symbol: str, *, period: int = 20, interval: timedelta = timedelta(minutes=5),
    since: datetime | None = None,
) -> list[MovingAveragePoint]:
    """Simple and exponential moving averages of ``symbol``."""
    _analytics_args(period, interval)
    params = {"symbol": symbol, "period": period, "interval": interval, "start": since}
    return await fetch_all(conn, MovingAveragePoint, "moving_average", params)


@api
async def vwap(conn: psycopg.AsyncConnection[Any], symbol: str, start: datetime, end: datetime) -> Decimal | None:
    """The volume-weighted average price of the raw ticks of ``symbol`` in [start, end)."""
    value: Decimal | None = await fetch_value(conn, "vwap", {"symbol": symbol, "start": start, "end": end})
    return value
