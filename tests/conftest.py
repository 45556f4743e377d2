"""Test harness: a real PostgreSQL + TimescaleDB for every test, never a mock.

The server comes from OPS_DB_TEST_URL when set (a superuser connection to a server with
TimescaleDB), else testcontainers' timescale/timescaledb image when a Docker engine
answers, else a private cluster started here with the same code as `ops-db db up`.
Private clusters run every edition the install offers: apache always, timescale too
when the TSL module is installed.

Fixtures:
- ``server``: session-wide, parametrized by edition.
- ``template_db``: a database migrated once per server and used as a template.
- ``fresh_db``: a clone of the template for one test (DDL, migrations, roles).
- ``empty_db``: a database with nothing in it (migration up/down tests).
- ``db``: a connection to a shared migrated database inside a transaction that is
  always rolled back (``force_rollback``), for tests that only touch data.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from ops_db.ops.cluster import LocalCluster, available_editions, free_port
from ops_db.ops.migrations import Runner

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Server:
    """A PostgreSQL server the tests own, with a superuser connection string."""

    edition: str
    admin: str  # conninfo to its maintenance database
    cluster: LocalCluster | None = None
    _closers: list[Any] = field(default_factory=list)

    def conninfo(self, dbname: str) -> str:
        return psycopg.conninfo.make_conninfo(self.admin, dbname=dbname)

    def create_database(self, template: str | None = None) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin, autocommit=True) as conn:
            if template:
                clone_database(conn, template, name)
            else:
                # template0, not template1: a packaged or container server may have TimescaleDB in
                # template1 (its scheduler then sits in it, and an "empty" database would not be).
                conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
        return name

    def make_template(self, name: str) -> None:
        """Mark ``name`` as a template nobody connects to, so clones of it do not meet sessions."""
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false").format(sql.Identifier(name))
            )
            _terminate_sessions(conn, name)

    def drop_database(self, name: str) -> None:
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    @property
    def tcp(self) -> tuple[str, int]:
        """Host and port for TCP (password) connections."""
        if self.cluster is not None:
            return "127.0.0.1", self.cluster.port
        params = psycopg.conninfo.conninfo_to_dict(self.admin)
        return str(params.get("host", "127.0.0.1")), int(params.get("port", 5432))


# CREATE DATABASE ... TEMPLATE fails with ObjectInUse while any session is connected to the
# template. On a server whose TimescaleDB background workers run (a packaged or container
# server), the scheduler connects to every database with the extension. The template refuses
# new connections (make_template), a scheduler already there is terminated, and a clone that
# still meets one (the launcher starting a scheduler just before the flag was set) is retried.
CLONE_ATTEMPTS = 10  # each one itself waits up to 5 s for other sessions to leave: about a minute at most
CLONE_BACKOFF_MAX = 0.5  # seconds between attempts


def clone_database(conn: psycopg.Connection[Any], template: str, name: str) -> None:
    statement = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
    delay = 0.02
    for attempt in range(1, CLONE_ATTEMPTS + 1):
        _terminate_sessions(conn, template)
        try:
            conn.execute(statement)
            return
        except psycopg.errors.ObjectInUse:
            if attempt == CLONE_ATTEMPTS:
                raise
        time.sleep(delay)
        delay = min(delay * 2, CLONE_BACKOFF_MAX)


def _terminate_sessions(conn: psycopg.Connection[Any], dbname: str) -> None:
    """End every other session on ``dbname`` (the tests' own template: TimescaleDB's scheduler)."""
    conn.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
        (dbname,),
    )


def _editions() -> list[str]:
    if os.environ.get("OPS_DB_TEST_URL"):
        with psycopg.connect(os.environ["OPS_DB_TEST_URL"]) as conn:
            row = conn.execute("SELECT current_setting('timescaledb.license', true)").fetchone()
        return ["timescale" if row and row[0] == "timescale" else "apache"]
    if _docker_answers():
        return ["timescale"]
    return available_editions()


def _docker_answers() -> bool:
    try:
        import docker  # type: ignore[import-untyped]
        import testcontainers  # noqa: F401
    except ImportError:
        return False
    try:
        docker.from_env().ping()
    except Exception:
        return False
    return True


def _default_test_home() -> Path:
    # Under /tmp, not the checkout: run as root, the server runs as another OS user,
    # which must be able to reach its data directory whatever the checkout's parents allow.
    tag = hashlib.sha256(str(ROOT).encode()).hexdigest()[:8]
    return Path(tempfile.gettempdir()) / f"ops-db-tests-{os.getuid()}-{tag}"


EDITIONS = _editions()


def pytest_report_header(config: pytest.Config) -> str:
    source = (
        "OPS_DB_TEST_URL"
        if os.environ.get("OPS_DB_TEST_URL")
        else ("testcontainers" if _docker_answers() else "private cluster(s)")
    )
    return f"ops-db: TimescaleDB edition(s) under test: {', '.join(EDITIONS)} ({source})"


@pytest.fixture(scope="session", params=EDITIONS)
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    edition: str = request.param
    if os.environ.get("OPS_DB_TEST_URL"):
        yield Server(edition, os.environ["OPS_DB_TEST_URL"])
        return
    if _docker_answers():
        from testcontainers.postgres import PostgresContainer  # type: ignore[import-untyped]

        with PostgresContainer("timescale/timescaledb:latest-pg15", driver=None) as pg:
            yield Server(edition, pg.get_connection_url())
        return
    home = Path(os.environ.get("OPS_DB_TEST_HOME") or _default_test_home()) / edition
    cluster = LocalCluster(home, free_port(), edition, fast=True)
    cluster.destroy()
    cluster.up()
    try:
        yield Server(edition, cluster.conninfo("postgres"), cluster)
    finally:
        cluster.destroy()


@pytest.fixture(scope="session")
def template_db(server: Server) -> str:
    name = server.create_database()
    Runner(server.conninfo(name)).migrate()
    server.make_template(name)
    return name


@pytest.fixture
def fresh_db(server: Server, template_db: str) -> Iterator[str]:
    """Conninfo of a migrated database of this test's own."""
    name = server.create_database(template=template_db)
    try:
        yield server.conninfo(name)
    finally:
        server.drop_database(name)


@pytest.fixture
def empty_db(server: Server) -> Iterator[str]:
    name = server.create_database()
    try:
        yield server.conninfo(name)
    finally:
        server.drop_database(name)


@pytest.fixture(scope="session")
def shared_db(server: Server, template_db: str) -> str:
    return server.conninfo(server.create_database(template=template_db))


@pytest.fixture
def db(shared_db: str) -> Iterator[psycopg.Connection[Any]]:
    """A connection whose every change is rolled back when the test ends."""
    with psycopg.connect(shared_db) as conn, conn.transaction(force_rollback=True):
        yield conn
