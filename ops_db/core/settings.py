"""Connection settings: OPS_DB_URL, else DATABASE_URL, else libpq's PG* variables, else the local cluster.

Passwords never leave this module in printable form: use `redact()` for anything shown.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ops_db.core.errors import ConfigurationError

# libpq variables that, when set, mean the caller configured a server through the environment.
_LIBPQ_SERVER_VARS = ("PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE")


@dataclass(frozen=True)
class Source:
    """A resolved connection string and where it came from (for messages)."""

    conninfo: str
    origin: str

    def __repr__(self) -> str:  # never show the password, even in a traceback
        return f"Source(conninfo={redact(self.conninfo)!r}, origin={self.origin!r})"


def resolve(explicit: str | None = None) -> Source:
    """The connection to use, in the documented order of precedence."""
    if explicit:
        return Source(_validated(explicit, "--url"), "--url")
    for var in ("OPS_DB_URL", "DATABASE_URL"):
        value = os.environ.get(var)
        if value:
            return Source(_validated(value, var), var)
    if any(os.environ.get(var) for var in _LIBPQ_SERVER_VARS):
        return Source("", "PG* environment")
    from ops_db import cluster  # local import: cluster imports settings for its URL

    local = cluster.LocalCluster.from_env()
    if local.is_running():
        return Source(local.conninfo(), f"local cluster ({local.home})")
    raise ConfigurationError(
        "no database configured: set OPS_DB_URL (or DATABASE_URL, or PGHOST/PGDATABASE...), "
        "or start the local cluster with 'ops-db db up'"
    )


def _validated(conninfo: str, origin: str) -> str:
    try:
        conninfo_to_dict(conninfo)
    except Exception:  # psycopg.ProgrammingError; its text may echo the string
        raise ConfigurationError(f"{origin} is not a valid PostgreSQL connection string") from None
    return conninfo


def redact(conninfo: str) -> str:
    """A printable form of a connection string: every part but the password."""
    if not conninfo:
        return "(libpq environment)"
    try:
        params = conninfo_to_dict(conninfo)
    except Exception:
        return "(unparseable connection string)"
    params.pop("password", None)
    shown = {k: v for k, v in params.items() if k in {"host", "hostaddr", "port", "dbname", "user"}}
    return make_conninfo(**{k: str(v) for k, v in shown.items()})


def with_dbname(conninfo: str, dbname: str) -> str:
    """The same server and credentials, another database."""
    return make_conninfo(conninfo, dbname=dbname)


def env_int(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ConfigurationError(f"{name} must be at least {minimum}")
    return value


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number, not {raw!r}") from None


@dataclass(frozen=True)
class PoolSizes:
    min_size: int
    max_size: int


def connect_timeout() -> int:
    """Seconds a connection attempt may take (OPS_DB_CONNECT_TIMEOUT, default 10)."""
    return env_int("OPS_DB_CONNECT_TIMEOUT", 10, minimum=1)


def pool_sizes() -> PoolSizes:
    """OPS_DB_POOL_MIN / OPS_DB_POOL_MAX (defaults 1 and 10; the minimum never above the maximum)."""
    max_size = env_int("OPS_DB_POOL_MAX", 10, minimum=1)
    return PoolSizes(min(env_int("OPS_DB_POOL_MIN", 1), max_size), max_size)


def pool_timeout() -> float:
    """Seconds a caller waits for a pooled connection (OPS_DB_POOL_TIMEOUT, default 10)."""
    return env_float("OPS_DB_POOL_TIMEOUT", 10.0)
