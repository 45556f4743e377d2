"""The local cluster (`ops-db db ...`) and packaging."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from datetime import UTC
from pathlib import Path

import psycopg

from ops_db.core.errors import ExitCode
from ops_db.ops.cluster import LocalCluster
from tests.conftest import ROOT, Server


def test_up_twice_is_harmless(server: Server) -> None:
    if server.cluster is None:
        import pytest

        pytest.skip("the server is not a private cluster (OPS_DB_TEST_URL or a container)")
    assert server.cluster.up() is False  # already initialized and running: nothing changed
    with psycopg.connect(server.cluster.conninfo()) as conn:
        row = conn.execute("SELECT current_setting('timescaledb.license'), current_setting('port')").fetchone()
    assert row == (server.edition, str(server.cluster.port))


def test_sessions_read_timestamps_as_datetime_utc(server: Server) -> None:
    if server.cluster is None:
        import pytest

        pytest.skip("the server is not a private cluster (OPS_DB_TEST_URL or a container)")
    with psycopg.connect(server.cluster.conninfo()) as conn:
        row = conn.execute("SELECT current_setting('TimeZone'), now()").fetchone()
    assert row is not None and row[0] == "UTC"
    assert row[1].tzinfo is UTC  # psycopg's fast path, not a zoneinfo conversion per value


def test_cluster_lifecycle_through_cli() -> None:
    from ops_db.ops.cluster import free_port

    tmp_path = Path(tempfile.mkdtemp(prefix="ops-db-cli-"))
    env = {"OPS_DB_HOME": str(tmp_path / "home"), "OPS_DB_PORT": str(free_port()), "PATH": "/usr/bin:/bin"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ops_db", *args], capture_output=True, text=True, env=env, timeout=180, check=False
        )

    tmp_path.chmod(0o755)
    assert run("db", "status").returncode == ExitCode.NOT_RUNNING
    up = run("db", "up")
    assert up.returncode == 0, up.stderr
    assert "started" in up.stdout
    again = run("db", "up")
    assert again.returncode == 0 and "already running" in again.stdout
    url = run("db", "url").stdout.strip()
    assert url.startswith("postgresql://postgres@/ops_db?host=")
    migrate = run("migrate")  # no URL configured: the running local cluster is used
    assert migrate.returncode == 0, migrate.stderr
    status = run("db", "status", "--json")
    assert status.returncode == 0 and '"running": true' in status.stdout
    assert run("db", "down").returncode == 0
    assert run("db", "status").returncode == ExitCode.NOT_RUNNING
    assert run("db", "destroy", "--yes").returncode == 0
    assert not (tmp_path / "home").exists()
    assert LocalCluster(tmp_path / "home").is_initialized() is False
    tmp_path.rmdir()


def test_wheel_carries_sql_and_migrations(tmp_path: Path) -> None:
    """An installed wheel (not only the checkout) finds its SQL and migrations."""
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr
    wheel = next(tmp_path.glob("ops_db-*.whl"))
    unpacked = tmp_path / "site"
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        zf.extractall(unpacked)
    assert "ops_db/_data/migrations/0001_timescaledb.sql" in names
    assert "ops_db/_data/sql/queries/system.sql" in names
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "from ops_db.core import paths, queries; "
            "print(paths.migrations_dir()); print(len(queries.q('server_facts')))",
        ],
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(unpacked)},
        cwd=tmp_path,
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.splitlines()[0] == str(unpacked / "ops_db" / "_data" / "migrations")
