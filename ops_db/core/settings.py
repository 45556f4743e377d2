"""Every setting read from the environment, parsed here and nowhere else.

Connection: OPS_DB_URL, else DATABASE_URL, else libpq's PG* variables, else the local cluster
(``ops-db db up``: where it lives and whether it runs is read here; ``ops_db.ops.cluster``
creates, starts and stops it). Passwords never leave this module in printable form: use
`redact()` for anything shown.

The typed readers (`env_str`, `env_int`, `env_float`, `env_bool`, `env_quantity`) raise
ConfigurationError naming the variable when a value does not parse. Options of the CLI read
their own variables through typer (``envvar=``), the CLI's documented mechanism.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

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
    local = local_cluster()
    if local_cluster_running(local.home):
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


def env_str(name: str, default: str | None = None) -> str | None:
    """The variable's text; unset or empty is ``default``."""
    return os.environ.get(name) or default


def env_bool(name: str, default: bool = False) -> bool:
    """1/true/yes/on or 0/false/no/off (any case); unset or empty is ``default``."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigurationError(f"{name} must be one of 1/true/yes/on or 0/false/no/off, not {raw!r}")


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


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


# Durations (s m h d) and sizes (K M G T, with an optional i/B: 10G, 10GiB, 10GB) in one number.
_SUFFIX = {"s": 1, "m": 60, "h": 3600, "d": 86400, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
_QUANTITY = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([smhdKMGT]?)[iB]*\s*$")


def parse_quantity(raw: str, what: str) -> float:
    """``90``, ``1.5m``, ``2h``, ``10G``: seconds or bytes (no suffix: the number as given)."""
    m = _QUANTITY.match(raw)
    if not m:
        raise ConfigurationError(
            f"{what}={raw!r} is not a number (suffixes: s m h d for time, K M G T for sizes)"
        )
    return float(m[1]) * _SUFFIX.get(m[2], 1)


def env_quantity(name: str, default: float) -> float:
    """A duration or size from the environment (see `parse_quantity`); unset or empty is ``default``."""
    raw = os.environ.get(name)
    if not raw:
        return default
    return parse_quantity(raw, name)


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


# -- backups (the variables scripts/backup.sh and restore.sh document) ----------------------
def read_urls() -> list[str]:
    """Where reads may go (OPS_DB_READ_URL): one connection string (a URL or key=value words), or
    several URLs separated by spaces, tried in order; a multi-host URL with
    target_session_attrs=prefer-standby counts as one. Empty when reads go to the primary."""
    raw = (env_str("OPS_DB_READ_URL") or "").strip()
    if not raw:
        return []
    parts = raw.split()
    urls = all(part.startswith(("postgresql://", "postgres://")) for part in parts)
    return [_validated(part, "OPS_DB_READ_URL") for part in (parts if urls else [raw])]


def read_max_lag() -> float:
    """Seconds of replay lag past which a replica is skipped for reads (OPS_DB_READ_MAX_LAG, 30)."""
    return env_quantity("OPS_DB_READ_MAX_LAG", 30.0)


def backup_dir() -> Path:
    """BACKUP_DIR: where backup.sh keeps the sets (default /var/backups/ops-db)."""
    return Path(env_str("BACKUP_DIR") or "/var/backups/ops-db")


def pgbackrest_config() -> Path | None:
    """PGBACKREST_CONFIG: the pgbackrest.conf of the PITR setup (unset: no pgBackRest)."""
    raw = env_str("PGBACKREST_CONFIG")
    return Path(raw) if raw else None


def pitr_stanza() -> str:
    """PITR_STANZA: the pgBackRest stanza (default ops-db)."""
    return env_str("PITR_STANZA") or "ops-db"


def restore_lock_dir() -> Path:
    """RESTORE_LOCK_DIR: where a restore keeps its per-target lock (default the temp directory)."""
    return Path(env_str("RESTORE_LOCK_DIR") or tempfile.gettempdir())


def admin_database() -> str:
    """OPS_DB_ADMIN_DB: the database connected to for CREATE/DROP DATABASE (default postgres)."""
    return env_str("OPS_DB_ADMIN_DB") or "postgres"


# -- the local cluster ----------------------------------------------------------------------
LOCAL_PORT = 55432
LOCAL_SUPERUSER = "postgres"
LOCAL_DATABASE = "ops_db"


@dataclass(frozen=True)
class LocalClusterSettings:
    """Where the local cluster lives: $OPS_DB_HOME (default ./.ops-db), and once created, the
    port, edition and binaries it was created with (its cluster.json), else OPS_DB_PORT and
    OPS_DB_TIMESCALEDB_LICENSE."""

    home: Path
    port: int
    license: str | None
    bindir: Path | None

    def conninfo(self, dbname: str = LOCAL_DATABASE) -> str:
        return local_conninfo(self.home, self.port, dbname)


def local_home() -> Path:
    return Path(env_str("OPS_DB_HOME") or Path.cwd() / ".ops-db").resolve()


def local_cluster() -> LocalClusterSettings:
    home = local_home()
    saved = home / "cluster.json"
    if saved.exists():
        meta = json.loads(saved.read_text())
        return LocalClusterSettings(home, int(meta["port"]), meta.get("license"), Path(meta["bindir"]))
    return LocalClusterSettings(
        home, env_int("OPS_DB_PORT", LOCAL_PORT, minimum=1), env_str("OPS_DB_TIMESCALEDB_LICENSE"), None
    )


def local_conninfo(home: Path, port: int, dbname: str = LOCAL_DATABASE) -> str:
    """The local cluster over its unix socket (trust authentication: no password)."""
    return make_conninfo(host=str(home / "run"), port=str(port), user=LOCAL_SUPERUSER, dbname=dbname)


def local_cluster_running(home: Path) -> bool:
    """Whether the postmaster named in data/postmaster.pid is alive: pg_ctl status's own test."""
    try:
        first = (home / "data" / "postmaster.pid").read_text().split("\n", 1)[0]
        pid = int(first.strip())
    except (OSError, ValueError):
        return False
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by the server's own user
        return True
    return True


def pg_bindir_setting() -> Path | None:
    """OPS_DB_PG_BINDIR: PostgreSQL's server binaries, when pg_config should not be asked."""
    configured = env_str("OPS_DB_PG_BINDIR")
    return Path(configured) if configured else None
