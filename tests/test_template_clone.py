"""The fixtures' template cloning on a server whose TimescaleDB background workers run.

Private test clusters run without background workers (LocalCluster(fast=True)); a packaged or
container server runs them, and TimescaleDB's scheduler connects to every database with the
extension, which makes CREATE DATABASE ... TEMPLATE fail with ObjectInUse. These tests start a
cluster with the workers on, as such a server has them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from ops_db.ops.cluster import LocalCluster, available_editions, free_port
from tests.conftest import ROOT, Server, _default_test_home

ROUNDS = 20


@pytest.fixture(scope="module")
def scheduler_server() -> Iterator[Server]:
    """A private cluster with timescaledb.max_background_workers > 0 (not fast), like a stock server."""
    home = Path(os.environ.get("OPS_DB_TEST_HOME") or _default_test_home()) / "with-scheduler"
    cluster = LocalCluster(home, free_port(), available_editions()[0], fast=False)
    cluster.destroy()
    cluster.up()
    try:
        server = Server(cluster.license or "apache", cluster.conninfo("postgres"), cluster)
        with psycopg.connect(server.admin) as conn:
            row = conn.execute("SELECT current_setting('timescaledb.max_background_workers')::int").fetchone()
        assert row and row[0] > 0
        yield server
    finally:
        cluster.destroy()


def _scheduler_sessions(conn: psycopg.Connection[Any], dbname: str) -> int:
    row = conn.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND backend_type LIKE 'TimescaleDB%%'", (dbname,)
    ).fetchone()
    return int(row[0]) if row else 0


def _wait_for_scheduler(server: Server, dbname: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    with psycopg.connect(server.admin, autocommit=True) as conn:
        while time.monotonic() < deadline:
            if _scheduler_sessions(conn, dbname):
                return True
            time.sleep(0.05)
    return False


@pytest.mark.slow
def test_a_template_clones_while_the_scheduler_runs(scheduler_server: Server) -> None:
    server = scheduler_server
    template = server.create_database()
    with psycopg.connect(server.conninfo(template), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION timescaledb")
        conn.execute("CREATE TABLE ticks (ts timestamptz NOT NULL, price numeric)")
        conn.execute("SELECT create_hypertable('ticks', 'ts', chunk_time_interval => interval '1 day')")
        conn.execute("INSERT INTO ticks SELECT now() - i * interval '1 hour', i FROM generate_series(1, 100) i")
    # The precondition of the failure: TimescaleDB's scheduler is connected to the template.
    assert _wait_for_scheduler(server, template, 30), "the scheduler never connected to the template"
    server.make_template(template)
    clones = []
    try:
        for _ in range(ROUNDS):
            # A scheduler that still got in (or came back) is what the clone must cope with.
            _wait_for_scheduler(server, template, 0.3)
            clone = server.create_database(template=template)
            clones.append(clone)
            with psycopg.connect(server.conninfo(clone)) as conn:
                assert conn.execute("SELECT count(*) FROM ticks").fetchone() == (100,)
    finally:
        for clone in clones:
            server.drop_database(clone)
        with psycopg.connect(server.admin, autocommit=True) as conn:
            conn.execute(sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE false").format(sql.Identifier(template)))
        server.drop_database(template)
    assert len(clones) == ROUNDS


@pytest.mark.slow
def test_an_empty_database_is_empty_when_template1_has_timescaledb(scheduler_server: Server) -> None:
    # The timescale/timescaledb image installs the extension in template1.
    with psycopg.connect(scheduler_server.conninfo("template1"), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
    try:
        for _ in range(3):
            name = scheduler_server.create_database()
            try:
                with psycopg.connect(scheduler_server.conninfo(name)) as conn:
                    assert conn.execute("SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'"
                                        ).fetchone() == (0,)
            finally:
                scheduler_server.drop_database(name)
    finally:
        with psycopg.connect(scheduler_server.conninfo("template1"), autocommit=True) as conn:
            conn.execute("DROP EXTENSION timescaledb")


@pytest.mark.slow
def test_the_fixtures_run_against_a_stock_server(scheduler_server: Server) -> None:
    """A sub-run of the suite's fixtures with OPS_DB_TEST_URL at the cluster whose workers run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "OPS_DB_", "DATABASE_URL"))}
    env["OPS_DB_TEST_URL"] = scheduler_server.admin
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-x", "-p", "no:cacheprovider",
         f"{Path(__file__).resolve()}::test_fixture_api"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=600, check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "(OPS_DB_TEST_URL)" in run.stdout and " 1 passed" in run.stdout, run.stdout[-2000:]


def test_fixture_api(server: Server, template_db: str, fresh_db: str, empty_db: str, shared_db: str,
                     db: psycopg.Connection[Any]) -> None:
    """Every fixture other tests use, on whichever server this run has (see the sub-run above)."""
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'").fetchone() == (1,)
        assert conn.execute("SELECT to_regclass('trading.stock_prices') IS NOT NULL").fetchone() == (True,)
    with psycopg.connect(empty_db) as conn:
        assert conn.execute("SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'").fetchone() == (0,)
    assert db.execute("SELECT to_regclass('trading.stock_prices') IS NOT NULL").fetchone() == (True,)
    for _ in range(3):  # more clones, as the suite makes one per test
        server.drop_database(server.create_database(template=template_db))
