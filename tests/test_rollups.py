"""Retention (exactly what it should, critical events survive), policy sync, refresh windows."""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from ops_db import events, market
from ops_db.core.errors import RetryableConflict
from ops_db.market import PriceTick
from ops_db.ops import rollups
from tests.conftest import Server


def test_apache_retention_drops_exactly_the_expired_chunks(db: psycopg.Connection[Any], server: Server) -> None:
    if server.edition != "apache":
        pytest.skip("the timescale edition's retention is its policies (test below)")
    now = datetime.now(UTC)
    days = [100, 92, 89, 10, 0]
    market.ingest_prices(db, [PriceTick("RET", now - timedelta(days=d), Decimal("5"), 1) for d in days])
    events.record_system_event(db, "INFO", "test", "old", "routine", timestamp=now - timedelta(days=120))
    events.record_system_event(db, "CRITICAL", "test", "old", "critical", timestamp=now - timedelta(days=120))
    market.ingest_prices(db, [])  # no-op batch
    rollups.refresh_rollups(db)
    daily_before = db.execute("SELECT count(*) FROM trading.stock_prices_1d WHERE symbol = 'RET'").fetchone()

    dry = rollups.apply_retention(db, dry_run=True)
    assert dry and not any(a.done for a in dry)
    actions = {a.target: a for a in rollups.apply_retention(db)}
    assert "dropped 2 chunk(s)" in actions["trading.stock_prices"].detail
    left = db.execute("SELECT count(*) FROM trading.stock_prices WHERE symbol = 'RET'").fetchone()
    assert left == (3,)
    severities = [e.severity for e in events.recent_system_events(db, since=now - timedelta(days=365))
                  if e.component == "test"]
    assert severities == ["CRITICAL"]
    # Bars outlive their raw data, and a later refresh does not erase them.
    rollups.refresh_rollups(db)
    assert db.execute("SELECT count(*) FROM trading.stock_prices_1d WHERE symbol = 'RET'").fetchone() == daily_before


def test_operator_changes_retention_without_a_migration(fresh_db: str, server: Server) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("UPDATE ops_internal.retention SET drop_after = interval '30 days'"
                     " WHERE hypertable = 'trading.stock_prices'")
        actions = rollups.apply_retention(conn)
        if server.edition == "timescale":
            by_target = {a.target: a.detail for a in actions}
            assert "30 days" in by_target["trading.stock_prices"]
            config = conn.execute(
                "SELECT config->>'drop_after' FROM timescaledb_information.jobs WHERE proc_name = 'policy_retention'"
                " AND hypertable_name = 'stock_prices'").fetchone()
            assert config == ("30 days",)
            # The refresh window of the aggregate on raw prices stays inside the new retention.
            starts = dict(conn.execute(
                "SELECT hypertable_name, (config->>'start_offset')::interval FROM timescaledb_information.jobs"
                " WHERE proc_name = 'policy_refresh_continuous_aggregate'").fetchall())
            assert starts["stock_prices_1m"] == timedelta(days=29)
            assert rollups.apply_retention(conn) == [a for a in rollups.apply_retention(conn)]
        else:
            now = datetime.now(UTC)
            with conn.transaction():
                market.ingest_prices(conn, [PriceTick("OPR", now - timedelta(days=45), Decimal("5"), 1)])
            rollups.apply_retention(conn)
            assert conn.execute("SELECT count(*) FROM trading.stock_prices").fetchone() == (0,)


def test_every_retention_row_has_a_policy_on_timescale(fresh_db: str, server: Server) -> None:
    if server.edition != "timescale":
        pytest.skip("policies exist on the timescale edition only")
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        rollups.apply_retention(conn)
        assert rollups.apply_retention(conn) == []  # in sync: nothing more to do
        missing = conn.execute(
            "SELECT r.hypertable FROM ops_internal.retention r WHERE NOT EXISTS (SELECT FROM"
            " timescaledb_information.jobs j WHERE j.proc_name = 'policy_retention'"
            " AND j.hypertable_schema || '.' || j.hypertable_name = r.hypertable)").fetchall()
        assert missing == []
        windows = conn.execute(
            "SELECT j.hypertable_name FROM timescaledb_information.jobs j JOIN ops_internal.rollup r"
            " ON r.name = j.hypertable_schema || '.' || j.hypertable_name JOIN ops_internal.retention ret"
            " ON ret.hypertable = r.raw_hypertable WHERE j.proc_name = 'policy_refresh_continuous_aggregate'"
            " AND (j.config->>'start_offset')::interval >= ret.drop_after").fetchall()
        assert windows == []
        compression = conn.execute(
            "SELECT hypertable_name FROM timescaledb_information.jobs WHERE proc_name = 'policy_compression'"
            " ORDER BY 1").fetchall()
        assert ("options_data",) in compression and ("stock_prices",) in compression


def test_rollup_status_names_every_rollup(db: psycopg.Connection[Any], server: Server) -> None:
    kinds = {s.name: s.kind for s in rollups.rollup_status(db)}
    expected_kind = "continuous aggregate" if server.edition == "timescale" else "rollup table"
    assert kinds == {name: expected_kind for name in (
        "trading.stock_prices_1m", "trading.stock_prices_5m", "trading.stock_prices_1h", "trading.stock_prices_1d",
        "trading.options_volume_1h", "trading.signal_performance_1d")}


def test_apache_ranges_are_those_of_the_rows_each_statement_wrote(
    db: psycopg.Connection[Any], server: Server
) -> None:
    if server.edition != "apache":
        pytest.skip("the timescale edition's continuous aggregates track changes themselves")
    hour = (datetime.now(UTC) - timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    ticks = [PriceTick("INV", hour + timedelta(seconds=s), Decimal("10") + s, 5) for s in range(0, 600, 7)]
    db.execute("SELECT set_config('ops_db.inval_given_stock_prices', 'on', true)")  # ignored since 0520
    market.ingest_prices(db, ticks)  # one COPY: one range, from its transition table
    late = hour - timedelta(days=3)
    db.execute("INSERT INTO trading.stock_prices (symbol, \"timestamp\", close_price, volume)"
               " VALUES ('INV', %s, 9, 1)", (late,))
    ranges = set(db.execute("SELECT lo, hi FROM ops_internal.rollup_invalidation"
                            " WHERE hypertable = 'trading.stock_prices'").fetchall())
    assert {(ticks[0].timestamp, ticks[-1].timestamp), (late, late)} <= ranges
    rollups.refresh_rollups(db)
    bars = market.bars(db, "INV", "1m", late, hour + timedelta(hours=1))
    per_minute = [len([t for t in ticks if t.timestamp.minute == m]) for m in range(10)]
    assert [b.trade_count for b in bars] == [1, *per_minute]
    assert bars[1].open == Decimal("10") and bars[-1].close == ticks[-1].close_price


def _timescale_only(server: Server) -> None:
    if server.edition != "timescale":
        pytest.skip("continuous aggregates exist on the timescale edition only")


RACE_START = (datetime.now(UTC) - timedelta(days=1)).replace(minute=0, second=0, microsecond=0)


def _ticks_for_refresh(conninfo: str, n: int) -> None:
    """50 new ticks of RACE (n from 0 to 9: no two calls write the same key)."""
    with psycopg.connect(conninfo) as conn:
        market.ingest_prices(conn, [PriceTick("RACE", RACE_START + timedelta(seconds=10 * i + n), Decimal("10"), 1)
                                    for i in range(50)])


def test_concurrent_refreshes_of_continuous_aggregates_both_succeed(fresh_db: str, server: Server) -> None:
    # TimescaleDB 2.28 refuses a refresh whose window overlaps one in progress ("due to a
    # concurrent refresh"); before the wait, 8 of 10 such pairs failed here. Whether a pair
    # overlaps is up to the scheduler: the held-window test below makes the conflict certain.
    _timescale_only(server)
    conninfo = fresh_db
    for n in range(10):
        _ticks_for_refresh(conninfo, n)
        failures: list[BaseException] = []

        def refresh(failures: list[BaseException] = failures) -> None:
            try:
                with psycopg.connect(conninfo, autocommit=True) as conn:
                    rollups.refresh_continuous_aggregates(conn)
            except BaseException as exc:  # collected, asserted below
                failures.append(exc)

        threads = [threading.Thread(target=refresh) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not any(t.is_alive() for t in threads)
        assert failures == []
    with psycopg.connect(conninfo) as conn:
        assert sum(b.trade_count for b in market.bars(
            conn, "RACE", "1d", datetime.now(UTC) - timedelta(days=3), datetime.now(UTC))) == 500


def _hold_refresh_window(conn: psycopg.Connection[Any], holder_pid: int, aggregate: str) -> None:
    """Register, as TimescaleDB does for a refresh in progress, a window over all time of
    ``aggregate`` for the live backend ``holder_pid``: a refresh in progress that never ends."""
    conn.execute(
        "INSERT INTO _timescaledb_catalog.continuous_aggs_jobs_refresh_ranges"
        " (materialization_id, start_range, end_range, pid, job_id, created_at)"
        " SELECT ca.mat_hypertable_id, -9223372036854775808, 9223372036854775807, %s, 0, now()"
        "   FROM _timescaledb_catalog.continuous_agg ca"
        "  WHERE format('%%I.%%I', ca.user_view_schema, ca.user_view_name) = %s",
        (holder_pid, aggregate))


def watermarks(conn: psycopg.Connection[Any]) -> dict[str, datetime | None]:
    return {s.name: s.refreshed_through for s in rollups.rollup_status(conn)}


def test_refresh_waits_for_a_refresh_in_progress_and_gives_up_naming_what_it_did(
    fresh_db: str, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    _timescale_only(server)
    conninfo = fresh_db
    _ticks_for_refresh(conninfo, 0)
    with psycopg.connect(conninfo, autocommit=True) as holder, psycopg.connect(conninfo, autocommit=True) as conn:
        if holder.execute("SELECT to_regclass('_timescaledb_catalog.continuous_aggs_jobs_refresh_ranges')"
                          ).fetchone() == (None,):
            pytest.skip("this TimescaleDB refreshes under a lock, not a registered window")
        before = watermarks(conn)
        _hold_refresh_window(holder, holder.info.backend_pid, "trading.stock_prices_5m")
        monkeypatch.setattr(rollups, "REFRESH_CONFLICT_WAIT", 0.5)
        started = time.monotonic()
        with pytest.raises(RetryableConflict) as refused:
            rollups.refresh_continuous_aggregates(conn)
        assert time.monotonic() - started < 10
        message = str(refused.value)
        assert '"stock_prices_5m" due to a concurrent refresh' in message
        assert re.search(r", after waiting 0\.[5-9] s for other refreshes; ", message), message
        done, _, rest = message.partition("; refreshed: ")[2].partition("; not refreshed: ")
        assert "trading.stock_prices_1m" in done.split(", ") and "trading.stock_prices_5m" not in done
        assert rest.split(", ")[0] == "trading.stock_prices_5m" and rest.endswith(": try again")
        assert set(done.split(", ")) | set(rest.removesuffix(": try again").split(", ")) == {
            s.name for s in rollups.rollup_status(conn)}
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        # Real-time aggregation shows RACE's bars either way: what differs is what was materialized.
        assert watermarks(conn)["trading.stock_prices_1m"] != before["trading.stock_prices_1m"]
        assert watermarks(conn)["trading.stock_prices_5m"] == before["trading.stock_prices_5m"]

        # The refresh in progress ends while a call waits (the holder's session goes): it completes.
        monkeypatch.setattr(rollups, "REFRESH_CONFLICT_WAIT", 60.0)
        ender = threading.Timer(1.0, holder.close)
        ender.start()
        try:
            rollups.refresh_continuous_aggregates(conn)
        finally:
            ender.join()
        assert watermarks(conn)["trading.stock_prices_5m"] != before["trading.stock_prices_5m"]


def _commits(conninfo: str) -> int:
    """Transactions committed in this database, once the backends that ran them have reported them
    (read from another database: the reading session's own commits would count too)."""
    dbname = psycopg.conninfo.conninfo_to_dict(conninfo)["dbname"]
    with psycopg.connect(psycopg.conninfo.make_conninfo(conninfo, dbname="postgres"), autocommit=True) as conn:
        last = -1
        for _ in range(30):  # a closed backend reports its counts as it exits: wait until they settle
            conn.execute("SELECT pg_stat_clear_snapshot()")
            row = conn.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = %s", (dbname,)).fetchone()
            assert row is not None
            if row[0] == last:
                return int(last)
            last = int(row[0])
            time.sleep(1.1)  # a backend flushes its counts at most once a second
    raise AssertionError("pg_stat_database kept changing")


def test_refresh_makes_one_pass_over_the_window(fresh_db: str, server: Server) -> None:
    # TimescaleDB 2.28 splits a manual refresh into batches of 10 buckets, each committed: this
    # refresh of two days of new ticks committed ~1 680 transactions batched (a year of 1-minute
    # buckets took 3 min 49 s instead of 1.0 s in one pass).
    _timescale_only(server)
    start = (datetime.now(UTC) - timedelta(days=3)).replace(hour=0, minute=0, second=0, microsecond=0)
    with psycopg.connect(fresh_db, autocommit=True) as conn:  # no policy's commits in the count
        conn.execute("SELECT alter_job(job_id, scheduled => false) FROM timescaledb_information.jobs")
    with psycopg.connect(fresh_db) as conn:
        market.ingest_prices(conn, [PriceTick("PASS", start + timedelta(minutes=m), Decimal("10"), 1)
                                    for m in range(0, 2 * 1440, 7)])
    before = _commits(fresh_db)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        rollups.refresh_continuous_aggregates(conn, start - timedelta(days=1), datetime.now(UTC))
        one_minute = market.bars(conn, "PASS", "1m", start, start + timedelta(days=2))
    assert len(one_minute) == len(range(0, 2 * 1440, 7))
    assert _commits(fresh_db) - before < 100  # 6 aggregates, a few transactions each
