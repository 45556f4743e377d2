"""Helpers for the operations tests: running the scripts and the CLI, filling and comparing databases."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
from psycopg import sql

from ops_db.ops.catalog import data_relations
from tests.conftest import ROOT, Server

SCRIPTS = ROOT / "scripts"


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without any connection or ops-db setting, plus ``extra``."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "OPS_DB_", "DATABASE_URL", "S3_", "AWS_"))}
    return {**base, "OPS_DB_BIN": str(Path(sys.executable).parent / "ops-db"), **extra}


def script(name: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPTS / name), *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )


def ops_db(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ops_db", *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )


def fill(conninfo: str, edition: str, rows: int = 2000) -> None:
    """Rows in a hypertable, a plain table and (timescale edition) a refreshed continuous aggregate.

    The objects of the other issues are compared too, whatever rows they hold.
    """
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SET ROLE ops_owner")
        conn.execute(
            "CREATE TABLE trading.ops_test_ticks (ts timestamptz NOT NULL, symbol text NOT NULL,"
            " price numeric(18,6) NOT NULL, volume bigint NOT NULL, meta jsonb)"
        )
        conn.execute("SELECT create_hypertable('trading.ops_test_ticks', 'ts', chunk_time_interval => interval '1d')")
        conn.execute(
            "INSERT INTO trading.ops_test_ticks SELECT now() - i * interval '7 minutes', 'SYM' || (i %% 7),"
            " round((100 + i * 0.013)::numeric, 6), i %% 1000, jsonb_build_object('i', i, 'note', 'tick ' || i)"
            " FROM generate_series(1, %s) i",
            (rows,),
        )
        conn.execute("CREATE TABLE trading.ops_test_notes (id bigint PRIMARY KEY, body text, amount numeric)")
        conn.execute(
            "INSERT INTO trading.ops_test_notes SELECT i, repeat('x', i % 50) || E'\\n\\t' || i, i / 3.0"
            " FROM generate_series(1, 300) i"
        )
        if edition == "timescale":
            conn.execute(
                "CREATE MATERIALIZED VIEW trading.ops_test_ticks_1h WITH (timescaledb.continuous) AS"
                " SELECT time_bucket('1 hour', ts) AS bucket, symbol, max(price) AS high, sum(volume) AS volume"
                " FROM trading.ops_test_ticks GROUP BY 1, 2 WITH NO DATA"
            )
            conn.execute("CALL refresh_continuous_aggregate('trading.ops_test_ticks_1h', NULL, NULL)")
        conn.execute("RESET ROLE")
        conn.execute("ANALYZE")


def fingerprint(conninfo: str) -> dict[str, tuple[int, str]]:
    """Rows and a content hash of every table, hypertable and aggregate (found through the catalog)."""
    out: dict[str, tuple[int, str]] = {}
    with psycopg.connect(conninfo) as conn:
        for rel in data_relations(conn):
            query = sql.SQL("SELECT t::text FROM {} t").format(rel.identifier)
            rows = sorted(r[0] for r in conn.execute(query))
            digest = hashlib.sha256("\x00".join(rows).encode()).hexdigest()
            out[rel.qualified] = (len(rows), digest)
    return out


def backup_files(directory: Path) -> list[str]:
    """Every entry in a backup directory except the lock file."""
    return sorted(p.name for p in directory.iterdir() if p.name != ".backup.lock")


def database_exists(server: Server, name: str) -> bool:
    with psycopg.connect(server.admin) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    return row is not None


def new_db_name() -> str:
    return f"t_ops_{uuid.uuid4().hex[:10]}"


def flip_byte(path: Path, offset: int | None = None) -> None:
    data = bytearray(path.read_bytes())
    where = len(data) // 2 if offset is None else offset
    data[where] ^= 0x01
    path.write_bytes(bytes(data))


def dbname(conninfo: str) -> str:
    return str(psycopg.conninfo.conninfo_to_dict(conninfo)["dbname"])


def scalar(conninfo: str, query: str, params: Any = None) -> Any:
    with psycopg.connect(conninfo) as conn:
        row = conn.execute(query, params).fetchone()  # type: ignore[arg-type]
    return row[0] if row else None


@contextmanager
def password_url(server: Server, conninfo: str, password: str) -> Iterator[str]:
    """A URL (TCP, ``password`` in it) to the database of ``conninfo`` as a new superuser, dropped after."""
    role = "pw_" + os.urandom(4).hex()
    with psycopg.connect(server.admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN SUPERUSER PASSWORD {}").format(
            sql.Identifier(role), sql.Literal(password)))
    try:
        host, port = server.tcp
        yield f"postgresql://{role}:{quote(password, safe='')}@{host}:{port}/{dbname(conninfo)}"
    finally:
        with psycopg.connect(server.admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
