"""restore.sh -j N: a parallel restore that works with TimescaleDB's catalog."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from ops_db.ops.migrations import Runner
from tests.conftest import Server
from tests.ops_helpers import clean_env, fill, fingerprint, new_db_name, ops_db, script

pytestmark = pytest.mark.slow

CHUNKS = "SELECT hypertable_name, count(*) FROM timescaledb_information.chunks GROUP BY 1 ORDER BY 1"


def _chunks(conninfo: str) -> list[tuple[str, int]]:
    with psycopg.connect(conninfo) as conn:
        return [(str(name), int(n)) for name, n in conn.execute(CHUNKS)]


def _load(conninfo: str, edition: str) -> None:
    """Several hypertables with several chunks each: the demo desk's two days, and 1-day-chunk ticks."""
    demo = ops_db("demo", "--days", "2", env=clean_env(OPS_DB_URL=conninfo))
    assert demo.returncode == 0, demo.stdout + demo.stderr
    fill(conninfo, edition, rows=2000)  # 7-minute ticks in 1-day chunks: about 10 chunks


def _backup(conninfo: str, directory: Path) -> Path:
    done = script("backup.sh", "full", env=clean_env(OPS_DB_URL=conninfo, BACKUP_DIR=str(directory)))
    assert done.returncode == 0, done.stderr
    [dump] = directory.glob("*.dump")
    return dump


def test_plain_pg_restore_jobs_fails_on_the_timescaledb_catalog(server: Server, fresh_db: str, tmp_path: Path) -> None:
    """Why restore.sh does not hand -j to a single pg_restore: the dump's catalog rows break it."""
    _load(fresh_db, server.edition)
    dump = _backup(fresh_db, tmp_path)
    name = new_db_name()
    with psycopg.connect(server.admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
    try:
        with psycopg.connect(server.conninfo(name), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION timescaledb")
            conn.execute("SELECT timescaledb_pre_restore()")
        host = psycopg.conninfo.conninfo_to_dict(server.conninfo(name))
        env = clean_env(PGHOST=str(host["host"]), PGPORT=str(host["port"]), PGUSER=str(host["user"]))
        plain = subprocess.run(["pg_restore", "--exit-on-error", "-j", "2", "-d", name, str(dump)], env=env,
                               capture_output=True, text=True, timeout=300, check=False)
        assert plain.returncode != 0
        assert "_fkey" in plain.stderr and "is not present in table" in plain.stderr, plain.stderr
    finally:
        server.drop_database(name)


def test_restore_with_two_jobs_matches_the_source(server: Server, fresh_db: str, tmp_path: Path) -> None:
    _load(fresh_db, server.edition)
    source_chunks = dict(_chunks(fresh_db))
    assert source_chunks["ops_test_ticks"] >= 5 and len([n for n in source_chunks.values() if n >= 2]) >= 2
    dump = _backup(fresh_db, tmp_path)
    env = clean_env(OPS_DB_URL=fresh_db)
    expected_rc = 0 if not Runner(fresh_db).verify() else 25
    target = new_db_name()
    try:
        restored = script("restore.sh", "full", str(dump), target, env=env)  # two jobs unless told otherwise
        assert restored.returncode == expected_rc, restored.stdout + restored.stderr
        assert "with 2 jobs" in restored.stdout
        assert dict(_chunks(server.conninfo(target))) == source_chunks
        copy = fingerprint(server.conninfo(target))
        assert copy == fingerprint(fresh_db)
        assert copy["trading.ops_test_ticks"][0] == 2000

        # schema mode in parallel too, into the same (now full) target with --force
        again = script("restore.sh", "--force", "--jobs=2", "schema", str(dump), target, env=env)
        assert again.returncode == expected_rc, again.stdout + again.stderr
        assert fingerprint(server.conninfo(target))["trading.ops_test_ticks"][0] == 0
        with psycopg.connect(server.conninfo(target)) as conn:
            assert conn.execute("SELECT count(*) FROM timescaledb_information.hypertables"
                                " WHERE hypertable_name = 'ops_test_ticks'").fetchone() == (1,)
    finally:
        server.drop_database(target)


@pytest.mark.parametrize("jobs", ["0", "33", "x", "-1"])
def test_restore_refuses_a_bad_jobs_value(fresh_db: str, tmp_path: Path, jobs: str) -> None:
    refused = script("restore.sh", "-j", jobs, "full", str(tmp_path / "x.dump"), env=clean_env(OPS_DB_URL=fresh_db))
    assert refused.returncode == 2, refused.stderr
    assert "--jobs" in refused.stderr


def test_first_pass_runs_again_statement_by_statement_when_the_lock_table_is_too_small(
    server: Server, fresh_db: str, tmp_path: Path
) -> None:
    """A fake pg_restore fails --single-transaction as a server with too small a lock table does."""
    fill(fresh_db, server.edition, rows=500)
    dump = _backup(fresh_db, tmp_path / "backup")
    real = shutil.which("pg_restore")
    assert real
    fake = tmp_path / "bin" / "pg_restore"
    fake.parent.mkdir()
    fake.write_text(
        "#!/usr/bin/env bash\n"
        'for arg in "$@"; do if [[ $arg == --single-transaction ]]; then\n'
        "  echo 'pg_restore: error: could not execute query: ERROR:  out of shared memory' >&2\n"
        "  echo 'HINT:  You might need to increase max_locks_per_transaction.' >&2; exit 1; fi; done\n"
        f'exec {real} "$@"\n'
    )
    fake.chmod(0o755)
    env = clean_env(OPS_DB_URL=fresh_db, PATH=f"{fake.parent}:{os.environ['PATH']}")
    expected_rc = 0 if not Runner(fresh_db).verify() else 25
    target = new_db_name()
    try:
        restored = script("restore.sh", "-j", "2", "full", str(dump), target, env=env)
        assert restored.returncode == expected_rc, restored.stdout + restored.stderr
        assert fingerprint(server.conninfo(target)) == fingerprint(fresh_db)
    finally:
        server.drop_database(target)
