"""Ingest through COPY: validation names the row, nothing of a bad batch is written, re-ingest is idempotent."""

from __future__ import annotations

import random
from dataclasses import asdict, astuple, replace
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest

from ops_db import market
from ops_db.core.errors import ValidationError
from ops_db.market import MarketEvent, OptionQuote, PriceTick

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)


def count(conn: psycopg.Connection[Any], table: str) -> int:
    row = conn.execute(f"SELECT count(*) FROM trading.{table}").fetchone()
    assert row is not None
    return int(row[0])


def ticks(n: int) -> list[PriceTick]:
    return [PriceTick("AAPL", T0 + timedelta(seconds=i), Decimal("150.25") + i, 100 + i) for i in range(n)]


def test_reingest_is_idempotent_and_corrections_update(db: psycopg.Connection[Any]) -> None:
    seen: list[int] = []
    first = market.ingest_prices(db, ticks(12_000), progress=seen.append)
    assert (first.inserted, first.updated) == (12_000, 0)
    assert sum(seen) == 12_000
    again = market.ingest_prices(db, ticks(12_000))
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 12_000)
    fixed = market.ingest_prices(db, [PriceTick("AAPL", T0, Decimal("150.30"), 100)])
    assert (fixed.inserted, fixed.updated) == (0, 1)
    assert count(db, "stock_prices") == 12_000


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (PriceTick("AAPL", T0, Decimal("NaN"), 1), "not a number"),
        (PriceTick("AAPL", T0, Decimal("-1"), 1), "must be positive"),
        (PriceTick("AAPL", T0, Decimal("1"), -5), "volume cannot be negative"),
        (PriceTick("aapl!", T0, Decimal("1"), 1), "not a valid symbol"),
        (PriceTick("AAPL", T0, 1.5, 1), "must be a Decimal, got float"),  # type: ignore[arg-type]
        (PriceTick("AAPL", T0.replace(tzinfo=None), Decimal("1"), 1), "no time zone"),
        (PriceTick("AAPL", T0, Decimal("10"), 1, high_price=Decimal("9")), "high_price"),
    ],
)
def test_bad_row_refused_with_its_number_and_nothing_written(
    db: psycopg.Connection[Any], bad: PriceTick, reason: str
) -> None:
    batch = [*ticks(3), bad]
    batch[3] = PriceTick(bad.symbol, T0 + timedelta(minutes=5), bad.close_price, bad.volume, bad.open_price,
                         bad.high_price, bad.low_price, bad.vwap) if bad.timestamp.tzinfo else bad
    with pytest.raises(ValidationError, match=rf"row 4 refused, nothing written: .*{reason}"):
        market.ingest_prices(db, batch)
    assert count(db, "stock_prices") == 0


def test_duplicate_key_in_one_batch_is_refused(db: psycopg.Connection[Any]) -> None:
    with pytest.raises(ValidationError, match=r"row 3 refused.*same key as row 1"):
        market.ingest_prices(db, [*ticks(2), ticks(1)[0]])


def test_database_constraints_reject_nonsense(db: psycopg.Connection[Any]) -> None:
    """Plain INSERTs, not only ops_db, meet the constraints."""
    statements = [
        "INSERT INTO trading.stock_prices (symbol, \"timestamp\", close_price) VALUES ('X', now(), 'NaN')",
        "INSERT INTO trading.stock_prices (symbol, \"timestamp\", close_price, volume) VALUES ('X', now(), 1, -1)",
        "INSERT INTO trading.options_data (option_symbol, underlying_symbol, \"timestamp\", expiration_date,"
        " strike_price, option_type, bid_price, ask_price) VALUES ('X     250117C00010000', 'X', now(),"
        " '2025-01-17', 10, 'CALL', 2, 1)",
        "INSERT INTO trading.options_data (option_symbol, underlying_symbol, \"timestamp\", expiration_date,"
        " strike_price, option_type) VALUES ('X     250117C00010000', 'X', now(), '2025-01-17', 10, 'STRADDLE')",
        "INSERT INTO trading.signals (symbol, signal_type, confidence) VALUES ('X', 'BUY', 1.5)",
        "INSERT INTO trading.signals (symbol, signal_type, confidence) VALUES ('X', 'MAYBE', 0.5)",
    ]
    for statement in statements:
        with pytest.raises(psycopg.errors.CheckViolation), db.transaction():
            db.execute(statement)  # type: ignore[arg-type]


def quote(**kw: Any) -> OptionQuote:
    base: dict[str, Any] = dict(
        option_symbol="AAPL  250117C00150000", underlying_symbol="AAPL", timestamp=T0,
        expiration_date=date(2025, 1, 17), strike_price=Decimal("150"), option_type="CALL",
        bid_price=Decimal("1.10"), ask_price=Decimal("1.20"), volume=5, implied_volatility=Decimal("0.25"),
        delta=Decimal("0.5"),
    )
    base.update(kw)
    return OptionQuote(**base)


def test_options_and_events_ingest(db: psycopg.Connection[Any]) -> None:
    result = market.ingest_options(db, [quote(), quote(timestamp=T0 + timedelta(minutes=1))])
    assert result.inserted == 2
    assert market.ingest_options(db, [quote()]).unchanged == 1
    with pytest.raises(ValidationError, match=r"row 2 refused.*bid 2 is above ask"):
        market.ingest_options(db, [quote(timestamp=T0 + timedelta(hours=1)),
                                   quote(bid_price=Decimal("2"), ask_price=Decimal("1"))])
    with pytest.raises(ValidationError, match=r"row 1 refused.*option_type must be one of 'CALL', 'PUT'"):
        market.ingest_options(db, [quote(option_type="SWAP")])
    with pytest.raises(ValidationError, match=r"row 1 refused.*does not match"):
        market.ingest_options(db, [quote(strike_price=Decimal("155"))])
    assert count(db, "options_data") == 2

    event = MarketEvent("AAPL", T0, "earnings", Decimal("150"), 1000, {"eps": "1.52"})
    assert market.ingest_events(db, [event]).inserted == 1
    assert market.ingest_events(db, [event]).inserted == 0  # skipped, not rewritten
    row = db.execute("SELECT count(*) FROM trading.market_events WHERE metadata @> '{\"eps\": \"1.52\"}'").fetchone()
    assert row == (1,)


def test_ingest_as_the_application_role(db: psycopg.Connection[Any]) -> None:
    db.execute("SET ROLE ops_app")
    assert market.ingest_prices(db, ticks(3)).inserted == 3
    db.execute("RESET ROLE")


class _OddZone(tzinfo):
    """A tzinfo that is neither datetime.timezone nor ZoneInfo (as pytz's): the batch check leaves it to the rows."""

    def utcoffset(self, dt: datetime | None) -> timedelta:
        return timedelta(hours=2)

    def dst(self, dt: datetime | None) -> timedelta:
        return timedelta(0)


class _TickSubclass(PriceTick):
    pass


_MUTATIONS: list[tuple[str, Any]] = [
    ("nan", lambda t: replace(t, close_price=Decimal("NaN"))),
    ("snan", lambda t: replace(t, close_price=Decimal("sNaN"))),
    ("negative", lambda t: replace(t, close_price=Decimal("-1"))),
    ("zero", lambda t: replace(t, close_price=Decimal(0))),
    ("five decimals", lambda t: replace(t, close_price=Decimal("150.00001"))),
    ("trailing zeros", lambda t: replace(t, close_price=Decimal("150.250000000"))),
    ("too large", lambda t: replace(t, close_price=Decimal("123456789"))),
    ("int close", lambda t: replace(t, close_price=151)),
    ("bool close", lambda t: replace(t, close_price=True)),
    ("float close", lambda t: replace(t, close_price=150.25)),
    ("negative volume", lambda t: replace(t, volume=-1)),
    ("huge volume", lambda t: replace(t, volume=2**63)),
    ("bool volume", lambda t: replace(t, volume=True)),
    ("decimal volume", lambda t: replace(t, volume=Decimal(5))),
    ("bad symbol", lambda t: replace(t, symbol="aapl")),
    ("symbol type", lambda t: replace(t, symbol=["AAPL"])),
    ("naive", lambda t: replace(t, timestamp=t.timestamp.replace(tzinfo=None))),
    ("too old", lambda t: replace(t, timestamp=datetime(1999, 12, 31, tzinfo=UTC))),
    ("future", lambda t: replace(t, timestamp=datetime.now(UTC) + timedelta(days=2))),
    ("date", lambda t: replace(t, timestamp=t.timestamp.date())),
    ("zoneinfo", lambda t: replace(t, timestamp=t.timestamp.astimezone(ZoneInfo("America/New_York")))),
    ("fixed offset", lambda t: replace(t, timestamp=t.timestamp.astimezone(timezone(timedelta(hours=-5))))),
    ("odd zone", lambda t: replace(t, timestamp=t.timestamp.astimezone(_OddZone()))),
    ("high below", lambda t: replace(t, high_price=t.close_price - 1)),
    ("low above", lambda t: replace(t, low_price=t.close_price + 1)),
    ("open nan", lambda t: replace(t, open_price=Decimal("NaN"))),
    ("ohlc", lambda t: replace(t, open_price=t.close_price, high_price=t.close_price + 1,
                                  low_price=t.close_price - 1, vwap=t.close_price)),
    ("vwap zero", lambda t: replace(t, vwap=Decimal(0))),
    ("not a tick", lambda t: (t.symbol, t.timestamp, t.close_price, t.volume)),
    ("subclass", lambda t: _TickSubclass(**asdict(t))),
]


@pytest.mark.parametrize(("label", "mutate"), _MUTATIONS, ids=[m[0] for m in _MUTATIONS])
def test_the_batch_check_agrees_with_the_row_by_row_check(label: str, mutate: Any) -> None:
    """ingest checks a batch as a whole (each distinct symbol and price once, the time window by min
    and max, duplicates as neighbours in key order) and goes row by row only to name a bad row: both
    must accept and refuse exactly the same batches, whatever the row and wherever it is."""
    from ops_db.market import _check_tick, _checked_rows, _in_key_order, _Refused, _tick_key, _validate

    def batch_check(batch: list[Any]) -> tuple[list[Any], bool] | None:
        ordered = _in_key_order(batch)
        if ordered is None:
            return None
        try:
            sent = list(_checked_rows(ordered[0], lambda t: (t,), [False]))
        except _Refused:
            return None
        assert [r[0] for r in sent] == ordered[0]
        return ordered

    rng = random.Random(label)
    for attempt in range(20):
        size = 40 if attempt % 2 else 12_000  # the larger ones span three chunks of the COPY
        base = [PriceTick(rng.choice(["AAPL", "MSFT", "BRK.B"]), T0 + timedelta(seconds=rng.randrange(100_000)),
                          Decimal(rng.randrange(1, 10**6)) / 100, rng.randrange(10**6)) for _ in range(size)]
        base = list({_tick_key(t): t for t in base}.values())  # no key twice, unless a mutation makes one
        position = rng.randrange(len(base))
        batch: list[Any] = list(base)
        batch[position] = mutate(base[position])
        if rng.random() < 0.3:  # a duplicate of another row's key, in another time zone
            other = base[(position + 1) % len(base)]
            batch.append(replace(other, timestamp=other.timestamp.astimezone(timezone(timedelta(hours=3)))))
        try:
            _validate(batch, PriceTick, _check_tick, _tick_key)
            rows_ok = True
        except ValidationError:
            rows_ok = False
        checked = batch_check(batch)
        if checked is not None:
            assert rows_ok, f"{label}: the batch check passed a batch the rows refuse"
            assert checked[0] == sorted(batch, key=_tick_key)
            assert checked[1] == all(t.open_price is None and t.high_price is None and t.low_price is None
                                     and t.vwap is None for t in batch)
        elif rows_ok:  # allowed only where the batch check leaves it to the rows by design
            # a PriceTick subclass, a tzinfo the batch check does not know, zones mixed (Python orders
            # times of one ZoneInfo by wall clock and of two zones by UTC: not a total order)
            assert label in {"odd zone", "subclass", "zoneinfo"}, f"{label}: the batch check refused what rows pass"


def test_plain_and_priced_ticks_are_stored_alike(db: psycopg.Connection[Any]) -> None:
    """A batch of plain ticks goes through the 4-column COPY, one with open/high/low/vwap through the
    8-column one; what is stored is the same either way."""
    plain = ticks(3)
    priced = [replace(t, symbol="MSFT", open_price=t.close_price, high_price=t.close_price + 1,
                      low_price=t.close_price - 1, vwap=t.close_price) for t in ticks(3)]
    market.ingest_prices(db, plain)
    market.ingest_prices(db, priced)
    stored = db.execute(
        "SELECT symbol, \"timestamp\", close_price, volume, open_price, high_price, low_price, vwap"
        " FROM trading.stock_prices ORDER BY symbol, \"timestamp\"").fetchall()
    assert stored == [astuple(t) for t in plain + priced]


def test_a_bad_tick_deep_in_a_large_batch_undoes_the_copy_already_sent(db: psycopg.Connection[Any]) -> None:
    """Chunks are checked as they go into the COPY: a bad tick in the third chunk comes after two
    chunks were sent. The COPY is undone, the error names the row, the caller's transaction goes on."""
    batch = ticks(12_000)
    batch[11_000] = replace(batch[11_000], close_price=Decimal("-3"))
    seen: list[int] = []
    with db.transaction():
        db.execute("CREATE TEMP TABLE caller_work (n int)")
        db.execute("INSERT INTO caller_work VALUES (1)")
        with pytest.raises(ValidationError, match=r"row 11001 refused, nothing written: close_price must be positive"):
            market.ingest_prices(db, batch, progress=seen.append)
        assert sum(seen) >= 10_000  # two chunks were on their way when the third was refused
        assert count(db, "stock_prices") == 0
        assert db.execute("SELECT count(*) FROM caller_work").fetchone() == (1,)
    good = market.ingest_prices(db, ticks(12_000))
    assert good.inserted == 12_000 and count(db, "stock_prices") == 12_000


def test_a_dst_fold_among_other_zones_is_left_to_the_rows() -> None:
    """New York's 01:30 twice (fold 0 and 1, an hour apart) around a UTC time: Python's comparisons
    are no total order here (equal within the zone, an hour apart through UTC), so a sort need not
    make them neighbours. The batch check leaves mixed zones to the rows."""
    from ops_db.market import _check_tick, _checked_rows, _in_key_order, _Refused, _tick_key, _validate

    new_york = ZoneInfo("America/New_York")
    first = datetime(2025, 11, 2, 1, 30, tzinfo=new_york)
    batch = [PriceTick("AAPL", first, Decimal(1), 1), PriceTick("AAPL", datetime(2025, 11, 2, 6, 0, tzinfo=UTC),
                                                                  Decimal(1), 1),
             PriceTick("AAPL", first.replace(fold=1), Decimal(1), 1)]
    # Python calls the two 01:30 equal (same zone: wall clock), so the rows see one key twice; the
    # batch check must not decide otherwise.
    with pytest.raises(ValidationError, match=r"row 3 refused.*same key as row 1"):
        _validate(batch, PriceTick, _check_tick, _tick_key)
    ordered = _in_key_order(batch)
    assert ordered is not None
    with pytest.raises(_Refused):  # the batch check does not judge it: the rows do
        list(_checked_rows(ordered[0], lambda t: (t,), [False]))


def test_a_reingest_with_a_bad_tick_past_the_first_chunk_is_refused_not_upserted(db: psycopg.Connection[Any]) -> None:
    """The server refuses the COPY for a stored tick in the first chunk before the chunk checks reach
    a bad tick further on: the upsert that follows must not take the unchecked rest (a price with
    five decimals would be stored rounded)."""
    market.ingest_prices(db, ticks(1))
    batch = ticks(12_000)
    batch[11_500] = replace(batch[11_500], close_price=Decimal("150.12345"))
    with pytest.raises(ValidationError, match=r"row 11501 refused, nothing written: close_price .* than 4 decimals"):
        market.ingest_prices(db, batch)
    assert count(db, "stock_prices") == 1


def test_progress_counts_each_row_once_over_every_attempt(db: psycopg.Connection[Any]) -> None:
    """Ticks the batch check leaves to the rows (an unknown tzinfo) go in by a second COPY, and with a
    stored tick among them by a third attempt, the upsert: progress still adds up to the batch."""
    market.ingest_prices(db, ticks(1))
    odd = [replace(t, timestamp=t.timestamp.astimezone(_OddZone())) for t in ticks(7_000)]
    seen: list[int] = []
    result = market.ingest_prices(db, odd, progress=seen.append)
    assert (result.inserted, result.unchanged) == (6_999, 1)
    assert sum(seen) == 7_000
