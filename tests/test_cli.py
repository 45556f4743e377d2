"""The ops-db command line: connection settings, exit codes, no secrets in output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from psycopg import sql

from ops_db.core.errors import ExitCode
from tests.conftest import Server

PASSWORD = "p@ss:w/rd#1?x"


def ops_db(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "OPS_DB_", "DATABASE_URL"))}
    return subprocess.run(
        [sys.executable, "-m", "ops_db", *args],
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        timeout=120,
        check=False,
    )


@pytest.fixture
def password_user(server: Server, fresh_db: str) -> str:
    """A login role in ops_owner whose password has @, : and /; returns its URL (TCP, scram)."""
    name = "pw_" + os.urandom(4).hex()
    with psycopg.connect(server.admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN CREATEDB PASSWORD {} IN ROLE ops_owner").format(
                sql.Identifier(name), sql.Literal(PASSWORD)
            )
        )
    host, port = server.tcp
    dbname = psycopg.conninfo.conninfo_to_dict(fresh_db)["dbname"]
    yield f"postgresql://{name}:{quote(PASSWORD, safe='')}@{host}:{port}/{dbname}"
    with psycopg.connect(server.admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))  # in the admin DB only
        conn.execute(sql.SQL("REASSIGN OWNED BY {} TO postgres").format(sql.Identifier(name)))


def _secret_free(result: subprocess.CompletedProcess[str]) -> None:
    for text in (result.stdout, result.stderr):
        assert PASSWORD not in text
        assert quote(PASSWORD, safe="") not in text
        assert "p@ss" not in text


def test_password_dsn_works_and_never_shows(password_user: str) -> None:
    result = ops_db("status", env={"OPS_DB_URL": password_user})
    assert result.returncode == 0, result.stderr
    assert "0004_retention_settings" in result.stdout
    _secret_free(result)
    result = ops_db("verify", "--url", password_user)
    assert result.returncode == 0, result.stderr
    _secret_free(result)


def test_wrong_password_is_one_line_without_secret(password_user: str) -> None:
    wrong = password_user.replace(quote(PASSWORD, safe=""), quote(PASSWORD + "nope", safe=""))
    result = ops_db("status", env={"DATABASE_URL": wrong})
    assert result.returncode == ExitCode.DATABASE_UNAVAILABLE
    assert result.stderr.startswith("ops-db: cannot connect to")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    _secret_free(result)
    assert "nope" not in result.stderr


def test_unconfigured_exits_with_one_line(tmp_path: Path) -> None:
    result = ops_db("status", env={"OPS_DB_HOME": str(tmp_path / "nothing-here")})
    assert result.returncode == ExitCode.CONFIG
    assert result.stderr.strip().splitlines() == [
        "ops-db: no database configured: set OPS_DB_URL (or DATABASE_URL, or PGHOST/PGDATABASE...), "
        "or start the local cluster with 'ops-db db up'"
    ]


def test_libpq_environment_is_used(server: Server, fresh_db: str) -> None:
    params = psycopg.conninfo.conninfo_to_dict(fresh_db)
    env = {
        "PGHOST": str(params["host"]),
        "PGPORT": str(params["port"]),
        "PGUSER": str(params["user"]),
        "PGDATABASE": str(params["dbname"]),
    }
    result = ops_db("verify", env=env)
    assert result.returncode == 0, result.stderr


def test_verify_exit_code_when_pending(empty_db: str) -> None:
    result = ops_db("verify", "--url", empty_db)
    assert result.returncode == ExitCode.VERIFY_FAILED
    assert "0001_timescaledb: pending" in result.stderr


def test_dry_run_through_cli_changes_nothing(empty_db: str) -> None:
    result = ops_db("migrate", "--dry-run", "--url", empty_db)
    assert result.returncode == 0, result.stderr
    assert "CREATE EXTENSION IF NOT EXISTS timescaledb" in result.stdout
    with psycopg.connect(empty_db) as conn:
        assert conn.execute("SELECT to_regclass('public._yoyo_migration')").fetchone() == (None,)


def test_migrate_rollback_status_json(empty_db: str) -> None:
    assert ops_db("migrate", "--url", empty_db).returncode == 0
    import json

    status = json.loads(ops_db("status", "--json", "--url", empty_db).stdout)
    assert {m["status"] for m in status["migrations"]} == {"applied"}
    assert status["timescaledb_version"]
    assert status["edition"] in {"apache", "timescale"}
    last = status["migrations"][-1]["id"]
    result = ops_db("rollback", "--url", empty_db)
    assert result.returncode == 0 and last in result.stdout
    status = json.loads(ops_db("status", "--json", "--url", empty_db).stdout)
    assert [m["status"] for m in status["migrations"]][-1] == "pending"


def test_usage_error_exit_code() -> None:
    result = ops_db("rollback", "--steps", "zero")
    assert result.returncode == ExitCode.USAGE
