"""The migration runner: up/down/up, verify, locking, failures, dry runs."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import psycopg
import pytest

from ops_db.core.errors import MigrationError, MigrationLockTimeout
from ops_db.core.paths import migrations_dir
from ops_db.ops.migrations import RollbackRefused, Runner
from tests.schema_snapshot import diff, snapshot


def applied_ids(conninfo: str) -> list[str]:
    with psycopg.connect(conninfo) as conn:
        if not conn.execute("SELECT to_regclass('public._yoyo_migration')").fetchone()[0]:  # type: ignore[index]
            return []
        return [r[0] for r in conn.execute("SELECT migration_id FROM _yoyo_migration ORDER BY 1")]


def copy_migrations(tmp_path: Path) -> Path:
    target = tmp_path / "migrations"
    shutil.copytree(migrations_dir(), target)
    return target


def test_every_migration_goes_up_down_up(empty_db: str) -> None:
    runner = Runner(empty_db)
    all_ids = [m.id for m in runner.migrations()]
    assert runner.migrate() == all_ids
    first = snapshot(empty_db)
    assert first["schemas"], "migrations created no schema"

    # Down one at a time: each rollback must succeed and leave the rest applied.
    for expected_remaining in range(len(all_ids) - 1, -1, -1):
        runner.rollback(steps=1, allow_foundation=True)
        assert len(applied_ids(empty_db)) == expected_remaining
    bare = snapshot(empty_db)
    assert all(not rows for rows in bare.values()), f"left behind after full rollback: {bare}"

    assert runner.migrate() == all_ids
    assert diff(first, snapshot(empty_db)) == {}
    assert runner.verify() == []


def test_second_migrate_changes_nothing(fresh_db: str) -> None:
    runner = Runner(fresh_db)
    before = snapshot(fresh_db)
    assert runner.migrate() == []
    assert diff(before, snapshot(fresh_db)) == {}


def test_migrate_to_and_rollback_to(empty_db: str) -> None:
    runner = Runner(empty_db)
    ids = [m.id for m in runner.migrations()]
    assert runner.migrate(to=ids[1]) == ids[:2]
    assert applied_ids(empty_db) == ids[:2]
    runner.migrate()
    with pytest.raises(RollbackRefused, match="refusing to undo 0003_schemas"):
        runner.rollback(to=ids[1])  # would undo the foundation
    assert runner.rollback(to=ids[2]) == list(reversed(ids[3:]))
    assert applied_ids(empty_db) == ids[:3]
    with pytest.raises(MigrationError, match="no migration named"):
        runner.migrate(to="9999_nope")


def test_verify_catches_an_edited_migration(empty_db: str, tmp_path: Path) -> None:
    directory = copy_migrations(tmp_path)
    runner = Runner(empty_db, directory=directory)
    runner.migrate()
    assert runner.verify() == []
    victim = sorted(directory.glob("*.rollback.sql"))[-1]
    victim.write_text(victim.read_text() + "\n-- edited after apply\n")
    problems = runner.verify()
    assert len(problems) == 1 and "changed after it was applied" in problems[0]


def test_verify_catches_missing_and_pending(empty_db: str, tmp_path: Path) -> None:
    directory = copy_migrations(tmp_path)
    runner = Runner(empty_db, directory=directory)
    ids = [m.id for m in runner.migrations()]
    runner.migrate(to=ids[-2])
    assert runner.verify() == [f"{ids[-1]}: pending"]
    runner.migrate()
    last = directory / f"{ids[-1]}.sql"
    last.unlink()
    (directory / f"{ids[-1]}.rollback.sql").unlink()
    assert runner.verify() == [f"{ids[-1]}: applied, but its migration file is missing"]


def test_failing_migration_leaves_no_trace(empty_db: str, tmp_path: Path) -> None:
    directory = copy_migrations(tmp_path)
    (directory / "9000_broken.sql").write_text(
        "-- depends: 0003_schemas\n"
        "CREATE TABLE trading.half_done (id int);\n"
        "INSERT INTO trading.half_done VALUES (1);\n"
        "SELECT 1 / 0;\n"
    )
    (directory / "9000_broken.rollback.sql").write_text("DROP TABLE trading.half_done;\n")
    runner = Runner(empty_db, directory=directory)
    with pytest.raises(MigrationError, match="9000_broken failed"):
        runner.migrate()
    assert "9000_broken" not in applied_ids(empty_db)
    with psycopg.connect(empty_db) as conn:
        assert conn.execute("SELECT to_regclass('trading.half_done')").fetchone() == (None,)
        assert conn.execute("SELECT count(*) FROM _ops_db_checksum WHERE migration_id = '9000_broken'").fetchone() == (
            0,
        )


def test_non_transactional_migration(empty_db: str, tmp_path: Path) -> None:
    """CREATE INDEX CONCURRENTLY cannot run in a transaction: the directive makes it work."""
    directory = copy_migrations(tmp_path)
    (directory / "9001_table.sql").write_text(
        "-- depends: 0003_schemas\nCREATE TABLE trading.nt_probe (id int, v text);\n"
    )
    (directory / "9001_table.rollback.sql").write_text("DROP TABLE trading.nt_probe;\n")
    (directory / "9002_concurrent_index.sql").write_text(
        "-- transactional: false\n-- depends: 9001_table\n"
        "CREATE INDEX CONCURRENTLY nt_probe_v_idx ON trading.nt_probe (v);\n"
    )
    (directory / "9002_concurrent_index.rollback.sql").write_text(
        "-- transactional: false\nDROP INDEX CONCURRENTLY trading.nt_probe_v_idx;\n"
    )
    runner = Runner(empty_db, directory=directory)
    runner.migrate()
    states = {s.id: s for s in runner.status()}
    assert states["9002_concurrent_index"].transactional is False
    assert states["9002_concurrent_index"].status == "applied"
    with psycopg.connect(empty_db) as conn:
        assert conn.execute("SELECT to_regclass('trading.nt_probe_v_idx')").fetchone() != (None,)
    runner.rollback(steps=1)
    with psycopg.connect(empty_db) as conn:
        assert conn.execute("SELECT to_regclass('trading.nt_probe_v_idx')").fetchone() == (None,)


def test_concurrent_migrate_one_applies_other_waits(empty_db: str, tmp_path: Path) -> None:
    directory = copy_migrations(tmp_path)
    (directory / "9003_slow.sql").write_text("-- depends: 0003_schemas\nSELECT pg_sleep(1.5);\n")
    results: dict[str, list[str]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run(name: str) -> None:
        try:
            start.wait()
            results[name] = Runner(empty_db, directory=directory, lock_timeout=30).migrate()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    all_ids = [m.id for m in Runner(empty_db, directory=directory).migrations()]
    assert sorted([results["a"], results["b"]], key=len) == [[], all_ids]
    assert sorted(applied_ids(empty_db)) == sorted(all_ids)


def test_lock_wait_is_bounded(empty_db: str) -> None:
    with psycopg.connect(empty_db, autocommit=True) as holder:
        from ops_db.ops.migrations import LOCK_KEY

        holder.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        with pytest.raises(MigrationLockTimeout, match="holds the lock"):
            Runner(empty_db, lock_timeout=0.5).migrate()
    # The holder's connection is gone, and so is its lock: the next run proceeds.
    assert Runner(empty_db, lock_timeout=5).migrate() != []


def test_dry_run_changes_nothing(empty_db: str) -> None:
    before = snapshot(empty_db)
    plan = Runner(empty_db).dry_run()
    assert "-- migration 0001_timescaledb" in plan
    assert "CREATE SCHEMA trading" in plan
    assert diff(before, snapshot(empty_db)) == {}
    assert applied_ids(empty_db) == []
    with psycopg.connect(empty_db) as conn:
        assert conn.execute("SELECT to_regclass('public._yoyo_migration')").fetchone() == (None,)


def test_plain_yoyo_applies_the_same_files(empty_db: str, server: object) -> None:
    """The files stay plain yoyo migrations; ops-db then adopts them with checksums."""
    from yoyo import get_backend, read_migrations

    params = psycopg.conninfo.conninfo_to_dict(empty_db)
    url = f"postgresql+psycopg://{params['user']}@/{params['dbname']}?host={params['host']}&port={params['port']}"
    backend = get_backend(url)
    with backend.lock():
        backend.apply_migrations(backend.to_apply(read_migrations(str(migrations_dir()))))
    runner = Runner(empty_db)
    assert runner.status() and all(s.status == "applied" for s in runner.status())
    assert runner.migrate() == []  # records the checksums
    assert runner.verify() == []


def test_killed_run_leaves_no_lock_and_no_trace(empty_db: str, tmp_path: Path) -> None:
    """kill -9 in the middle of a migration: nothing of it stays, and the next run proceeds."""
    import signal
    import subprocess
    import sys
    import time

    directory = copy_migrations(tmp_path)
    (directory / "9004_long.sql").write_text(
        "-- depends: 0003_schemas\nCREATE TABLE trading.long_probe (id int);\nSELECT pg_sleep(60);\n"
    )
    (directory / "9004_long.rollback.sql").write_text("DROP TABLE trading.long_probe;\n")
    script = (
        "import pathlib; from ops_db.ops.migrations import Runner; "
        f"Runner({empty_db!r}, directory=pathlib.Path({str(directory)!r})).migrate()"
    )
    proc = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 60
        with psycopg.connect(empty_db, autocommit=True) as watcher:
            while time.monotonic() < deadline:
                row = watcher.execute(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE query LIKE 'SELECT pg_sleep(60)%%' AND state = 'active'"
                ).fetchone()
                if row and row[0]:
                    break
                time.sleep(0.1)
            else:
                pytest.fail("the slow migration never started")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    runner = Runner(empty_db, directory=directory, lock_timeout=20)
    (directory / "9004_long.sql").write_text("-- depends: 0003_schemas\nCREATE TABLE trading.long_probe (id int);\n")
    applied = runner.migrate()
    assert "9004_long" in applied
    with psycopg.connect(empty_db) as conn:
        assert conn.execute("SELECT count(*) FROM trading.long_probe").fetchone() == (0,)
