"""Connections and the pool. Every function here reports failures as ops_db errors."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg_pool import ConnectionPool

from ops_db.core import settings
from ops_db.core.errors import DatabaseUnavailable, wrap_errors

APPLICATION_NAME = "ops-db"


def connect(conninfo: str | None = None, *, autocommit: bool = False) -> psycopg.Connection[tuple[object, ...]]:
    """One connection, outside the pool (CLI commands, migrations, maintenance)."""
    target = conninfo if conninfo is not None else settings.resolve().conninfo
    try:
        return psycopg.connect(
            target,
            autocommit=autocommit,
            application_name=APPLICATION_NAME,
            connect_timeout=settings.env_int("OPS_DB_CONNECT_TIMEOUT", 10, minimum=1),
        )
    except psycopg.OperationalError as exc:
        # libpq's text names host and port but never the password.
        detail = str(exc).strip().splitlines()
        raise DatabaseUnavailable(
            f"cannot connect to {settings.redact(target)}: {detail[-1] if detail else 'failed'}"
        ) from None


def create_pool(conninfo: str | None = None, *, open_wait: bool = True, timeout: float | None = None) -> ConnectionPool:
    """A pool sized by OPS_DB_POOL_MIN / OPS_DB_POOL_MAX (defaults 1 and 10).

    Every connection is checked (one empty round trip) before it is handed out, so a backend the
    server terminated, or a connection a failover cut, costs a reconnect instead of a failed call.
    A caller waits at most ``timeout`` (OPS_DB_POOL_TIMEOUT, 10 s) for a connection; past that,
    the server is unreachable and the call raises DatabaseUnavailable.
    """
    target = conninfo if conninfo is not None else settings.resolve().conninfo
    min_size = settings.env_int("OPS_DB_POOL_MIN", 1)
    max_size = settings.env_int("OPS_DB_POOL_MAX", 10, minimum=1)
    wait = timeout if timeout is not None else settings.env_float("OPS_DB_POOL_TIMEOUT", 10.0)
    pool = ConnectionPool(
        target,
        min_size=min(min_size, max_size),
        max_size=max_size,
        kwargs={
            "application_name": APPLICATION_NAME,
            "connect_timeout": settings.env_int("OPS_DB_CONNECT_TIMEOUT", 10, minimum=1),
        },
        check=ConnectionPool.check_connection,
        timeout=wait,
        open=False,
        name="ops-db",
    )
    pool.open(wait=False)
    if open_wait:
        try:
            pool.wait(timeout=wait)
        except Exception:
            pool.close()
            raise DatabaseUnavailable(f"pool could not connect to {settings.redact(target)}") from None
    return pool


_pool: ConnectionPool | None = None
_pool_lock = threading.Lock()


def get_pool() -> ConnectionPool:
    """The process-wide pool, created on first use from the resolved settings."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = create_pool()
        return _pool


def close_pool() -> None:
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.close()
            _pool = None


@contextmanager
def transaction(pool: ConnectionPool | None = None) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """A pooled connection inside one transaction, errors translated."""
    with wrap_errors(), (pool or get_pool()).connection() as conn, conn.transaction():
        yield conn
