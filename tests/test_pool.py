"""The pool checks a connection before handing it out: a backend the server terminated costs a
reconnect, not a failed call; a server that is really gone is DatabaseUnavailable."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from ops_db.core import db
from ops_db.core.errors import DatabaseUnavailable
from ops_db.ledger import strategies
from tests.conftest import Server
from tests.ops_helpers import password_url

RUNS = 20


def _terminate_pool_backends(admin: str, dbname: str) -> int:
    """Terminate every ops-db backend of ``dbname`` and wait (bounded) until they are gone."""
    with psycopg.connect(admin, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = %s AND application_name = %s AND pid <> pg_backend_pid()",
            (dbname, db.APPLICATION_NAME),
        ).fetchone()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            left = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name = %s",
                (dbname, db.APPLICATION_NAME),
            ).fetchone()
            if left == (0,):
                break
            time.sleep(0.01)
    return int(row[0]) if row else 0


@pytest.fixture
def pool(fresh_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[ConnectionPool]:
    monkeypatch.setenv("OPS_DB_POOL_MIN", "3")
    monkeypatch.setenv("OPS_DB_POOL_MAX", "3")
    created = db.create_pool(fresh_db, timeout=5)
    try:
        yield created
    finally:
        created.close()


def test_terminated_backends_cost_a_reconnect_not_a_failed_call(
    server: Server, fresh_db: str, pool: ConnectionPool
) -> None:
    dbname = psycopg.conninfo.conninfo_to_dict(fresh_db)["dbname"]
    with db.connection(pool) as conn:
        strategies.create_strategy(conn, "pool-check")
    terminated = 0
    for run in range(RUNS):
        with db.connection(pool) as conn:
            assert [s.name for s in strategies.list_strategies(conn)] == ["pool-check"], f"run {run}"
        pool.wait(timeout=5)  # every pooled connection is open again before the next cut
        terminated += _terminate_pool_backends(server.admin, str(dbname))
        for _ in range(3):  # as many calls as the pool has connections, each on a dead one
            with db.connection(pool) as conn:
                assert strategies.strategy_by_name(conn, "pool-check") is not None, f"run {run}"
    assert terminated >= RUNS * 3


class _Proxy:
    """A TCP forwarder on loopback standing for the network path to the server; stop() cuts it."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target, timeout=5)
            self.sockets += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        # shutdown() first: close() alone leaves a blocked accept() accepting.
        for sock in [self.listener, *self.sockets]:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


def test_a_server_that_is_gone_is_database_unavailable(server: Server, fresh_db: str) -> None:
    with password_url(server, fresh_db, "pool-secret") as url:
        proxy = _Proxy(server.tcp)
        through_proxy = url.replace(f"@{server.tcp[0]}:{server.tcp[1]}/", f"@127.0.0.1:{proxy.port}/")
        pool = db.create_pool(through_proxy, timeout=2)
        try:
            with db.connection(pool) as conn:
                assert strategies.list_strategies(conn) == []
            proxy.stop()
            for _ in range(3):
                with pytest.raises(DatabaseUnavailable) as info, db.connection(pool) as conn:
                    strategies.list_strategies(conn)
                assert "pool-secret" not in str(info.value)
        finally:
            pool.close(timeout=1)
            proxy.stop()
