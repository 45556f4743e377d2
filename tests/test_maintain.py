"""`ops-db maintain`: the edition's maintenance, its lock, its record, its dry run."""

from __future__ import annotations

import json
import os

import psycopg
import pytest
from psycopg import sql

from ops_db.ops.maintain import LOCK_KEY, MaintainLocked, maintain
from tests.conftest import Server
from tests.ops_helpers import clean_env, ops_db, scalar


def _runs(conninfo: str) -> list[tuple[bool, bool]]:
    with psycopg.connect(conninfo) as conn:
        return [(r[0], r[1]) for r in conn.execute(
            "SELECT dry_run, succeeded FROM ops_internal.maintenance_runs ORDER BY id")]


def _dead_table(conninfo: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("CREATE TABLE trading.ops_test_churn (id int PRIMARY KEY, v text)"
                     " WITH (autovacuum_enabled = false)")
        conn.execute("INSERT INTO trading.ops_test_churn SELECT i, 'x' FROM generate_series(1, 5000) i")
        conn.execute("DELETE FROM trading.ops_test_churn WHERE id > 1000")


def test_dry_run_changes_nothing_and_a_real_run_is_recorded(server: Server, fresh_db: str) -> None:
    _dead_table(fresh_db)
    dry = maintain(fresh_db, dry_run=True)
    assert dry.run_id is None and _runs(fresh_db) == []
    assert all(not a.done for a in dry.actions)
    if server.edition == "apache":
        assert any(a.kind == "vacuum" and a.target == "trading.ops_test_churn" for a in dry.actions)
    dead_before = scalar(fresh_db, "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'ops_test_churn'")

    done = ops_db("maintain", "--json", env=clean_env(OPS_DB_URL=fresh_db))
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["edition"] == server.edition and report["run_id"]
    assert _runs(fresh_db) == [(False, True)]
    recorded = scalar(fresh_db, "SELECT actions FROM ops_internal.maintenance_runs")
    assert recorded == report["actions"]
    if server.edition == "apache":
        vacuumed = [a for a in report["actions"] if a["target"] == "trading.ops_test_churn"]
        assert vacuumed and vacuumed[0]["done"]
        dead_after = scalar(fresh_db, "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'ops_test_churn'")
        assert dead_before >= 4000 and dead_after == 0
        assert not any(a.target == "trading.ops_test_churn" for a in maintain(fresh_db, dry_run=True).actions)
    else:  # timescale: only jobs; the table is left to autovacuum
        assert not any(a["kind"] == "vacuum" for a in report["actions"])


def test_second_run_while_one_holds_the_lock_exits_10(fresh_db: str) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        with pytest.raises(MaintainLocked):
            maintain(fresh_db)
        blocked = ops_db("maintain", env=clean_env(OPS_DB_URL=fresh_db))
    assert blocked.returncode == 10 and "another ops-db maintain" in blocked.stderr
    assert _runs(fresh_db) == []
    assert maintain(fresh_db).run_id  # the lock is free again


def test_timescale_runs_overdue_jobs(server: Server, fresh_db: str) -> None:
    if server.edition != "timescale":
        pytest.skip("TimescaleDB jobs exist on the timescale edition only")
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE trading.ops_test_px (ts timestamptz NOT NULL, price numeric NOT NULL)")
        conn.execute("SELECT create_hypertable('trading.ops_test_px', 'ts')")
        conn.execute("INSERT INTO trading.ops_test_px SELECT now() - i * interval '1 minute', i"
                     " FROM generate_series(1, 600) i")
        conn.execute("CREATE MATERIALIZED VIEW trading.ops_test_px_1h WITH (timescaledb.continuous) AS"
                     " SELECT time_bucket('1 hour', ts) AS bucket, max(price) AS high FROM trading.ops_test_px"
                     " GROUP BY 1 WITH NO DATA")
        conn.execute("ALTER MATERIALIZED VIEW trading.ops_test_px_1h SET (timescaledb.materialized_only = true)")
        job = conn.execute("SELECT add_continuous_aggregate_policy('trading.ops_test_px_1h', interval '30 days',"
                           " interval '1 hour', interval '1 hour')").fetchone()
    assert job is not None
    # Test servers run no scheduler: the new policy never ran, so it is overdue.
    dry = maintain(fresh_db, dry_run=True)
    planned = [a for a in dry.actions if a.target.startswith(f"{job[0]} ")]
    assert planned and not planned[0].done and "would run" in planned[0].detail
    assert scalar(fresh_db, "SELECT count(*) FROM trading.ops_test_px_1h") == 0

    report = maintain(fresh_db)
    ran = [a for a in report.actions if a.target.startswith(f"{job[0]} ")]
    assert ran and ran[0].done, report.actions
    assert scalar(fresh_db, "SELECT count(*) FROM trading.ops_test_px_1h") >= 9
    assert any("TimescaleDB jobs" in note for note in report.notes)


def test_the_app_holding_maintains_lock_key_does_not_stop_maintain(fresh_db: str, server: Server) -> None:
    """Any role may take any advisory lock; a holder that may not maintain is ignored, noted."""
    name = "app_" + os.urandom(4).hex()
    with psycopg.connect(server.admin, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN IN ROLE ops_app").format(sql.Identifier(name)))
    try:
        for _ in range(2):
            with psycopg.connect(psycopg.conninfo.make_conninfo(fresh_db, user=name), autocommit=True) as holder:
                holder.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
                for key in ("ops_db.refresh_rollups", "ops_db.apply_retention"):  # the keys used before 0520
                    holder.execute("SELECT pg_advisory_lock(hashtext(%s))", (key,))
                report = maintain(fresh_db)
                assert report.failed == () and report.run_id
                assert any(name in n and "ignored" in n for n in report.notes)
        assert _runs(fresh_db) == [(False, True), (False, True)]
    finally:
        with psycopg.connect(server.admin, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))
