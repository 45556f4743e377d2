"""Read routing in the core: the writer pool never hands out a read-only server, reads go to the
first reader within the lag bound and to the writer otherwise, sync and async alike.

A standby is stood in for by a database whose sessions are read-only by default: to the checks,
that is what a server in recovery looks like (pg_is_in_recovery() or transaction_read_only). The
reader targets are other databases of the same server, so the test can tell who answered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from ops_db.aio.core import db as aio_db
from ops_db.core import db
from ops_db.core.errors import ConfigurationError, DatabaseUnavailable
from tests.conftest import Server


@pytest.fixture
def databases(server: Server, fresh_db: str, template_db: str) -> Iterator[tuple[str, str, str]]:
    """(writer, reader, read-only) connection strings: three migrated databases of the test server."""
    names = [server.create_database(template_db), server.create_database(template_db)]
    with psycopg.connect(server.admin, autocommit=True) as conn:
        conn.execute(sql.SQL("ALTER DATABASE {} SET default_transaction_read_only = on").format(
            sql.Identifier(names[1])))
    try:
        yield fresh_db, server.conninfo(names[0]), server.conninfo(names[1])
    finally:
        for name in names:
            server.drop_database(name)


def _served_by(conn: psycopg.Connection[tuple[object, ...]]) -> str:
    row = conn.execute("SELECT current_database()").fetchone()
    conn.rollback()
    return str(row[0]) if row else "?"


def _name(conninfo: str) -> str:
    return str(psycopg.conninfo.conninfo_to_dict(conninfo)["dbname"])


def test_a_writer_pool_refuses_a_read_only_server(databases: tuple[str, str, str]) -> None:
    _, _, read_only = databases
    with pytest.raises(DatabaseUnavailable):
        db.create_pool(read_only, timeout=2)
    reader = db.create_pool(read_only, timeout=2, readers=True)  # a reader pool takes it
    try:
        with db.connection(reader) as conn:
            assert _served_by(conn) == _name(read_only)
    finally:
        reader.close()


def test_a_server_turning_read_only_is_dropped_from_the_writer_pool(server: Server, fresh_db: str) -> None:
    """A primary demoted under a running pool: the next checkout refuses its connections."""
    name = _name(fresh_db)
    pool = db.create_pool(fresh_db, timeout=2)
    try:
        with db.connection(pool) as conn:
            conn.execute("SELECT 1")
        with psycopg.connect(server.admin, autocommit=True) as admin:
            admin.execute(sql.SQL("ALTER DATABASE {} SET default_transaction_read_only = on").format(
                sql.Identifier(name)))
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                          "AND pid <> pg_backend_pid()", (name,))
        with pytest.raises(DatabaseUnavailable), db.connection(pool) as conn:
            conn.execute("SELECT 1")
    finally:
        pool.close()
        with psycopg.connect(server.admin, autocommit=True) as admin:
            admin.execute(sql.SQL("ALTER DATABASE {} RESET default_transaction_read_only").format(
                sql.Identifier(name)))


def test_reads_go_to_a_fresh_reader_else_to_the_writer(databases: tuple[str, str, str]) -> None:
    writer, reader, _ = databases
    unreachable = "host=127.0.0.1 port=9 dbname=nowhere connect_timeout=1"
    pools = db.create_pools(writer, [unreachable, reader], max_lag=30)
    try:
        for _ in range(3):
            with db.read_connection(pools, wait=1) as conn:
                assert _served_by(conn) == _name(reader)  # the unreachable one skipped
        assert list(pools.down_until) == [0], "the reader that did not answer is passed by for a while"
        pools.down_until[0] = 0.0  # its time is up: tried again, still down, passed by again
        with db.read_connection(pools, wait=1) as conn:
            assert _served_by(conn) == _name(reader)
        assert pools.down_until[0] > 0.0
        with db.write_connection(pools) as conn:
            assert _served_by(conn) == _name(writer)
        pools.max_lag = -1.0  # every reader now counts as too far behind
        with db.read_connection(pools, wait=1) as conn:
            assert _served_by(conn) == _name(writer)
    finally:
        pools.close()
    alone = db.create_pools(writer, [])
    try:
        with db.read_connection(alone) as conn:  # no read target configured: the primary
            assert _served_by(conn) == _name(writer)
    finally:
        alone.close()


def test_the_read_targets_come_from_the_environment(databases: tuple[str, str, str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    writer, reader, _ = databases
    monkeypatch.setenv("OPS_DB_READ_URL", reader)
    monkeypatch.setenv("OPS_DB_READ_MAX_LAG", "5s")
    pools = db.create_pools(writer)
    try:
        assert pools.max_lag == 5 and len(pools.readers) == 1
        with db.read_connection(pools) as conn:
            assert _served_by(conn) == _name(reader)
    finally:
        pools.close()
    monkeypatch.setenv("OPS_DB_READ_URL", "postgresql://h1:5432/db?sslmode=disable postgresql://h2/db")
    from ops_db.core import settings

    assert settings.read_urls() == ["postgresql://h1:5432/db?sslmode=disable", "postgresql://h2/db"]
    monkeypatch.setenv("OPS_DB_READ_URL", "not a connection string")
    with pytest.raises(ConfigurationError, match="OPS_DB_READ_URL"):
        settings.read_urls()


def test_async_read_routing(databases: tuple[str, str, str]) -> None:
    writer, reader, read_only = databases

    async def run() -> list[str]:
        seen = []
        with pytest.raises(DatabaseUnavailable):
            await aio_db.create_pool(read_only, timeout=2)
        pools = await aio_db.create_pools(writer, [reader], max_lag=30)
        try:
            for _ in range(2):
                async with aio_db.read_connection(pools) as conn:
                    cur = await conn.execute("SELECT current_database()")
                    seen.append(str((await cur.fetchone() or ("?",))[0]))
            async with aio_db.write_connection(pools) as conn:
                cur = await conn.execute("SELECT current_database()")
                seen.append(str((await cur.fetchone() or ("?",))[0]))
        finally:
            await pools.close()
        return seen

    assert asyncio.run(run()) == [_name(reader), _name(reader), _name(writer)]


def test_a_reader_that_cannot_answer_the_lag_probe_is_passed_by(server: Server, fresh_db: str) -> None:
    """A read target not migrated to 0560 (no ops_internal.replay_lag) fails the probe: the read
    goes to the writer and the reader is passed by for a while, instead of every read raising."""
    empty = server.create_database()
    try:
        pools = db.create_pools(fresh_db, [server.conninfo(empty)], max_lag=30, timeout=5)
        try:
            with db.read_connection(pools) as conn:
                assert _served_by(conn) == _name(fresh_db)
            assert list(pools.down_until) == [0]
        finally:
            pools.close()
    finally:
        server.drop_database(empty)
