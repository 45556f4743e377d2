"""Migrations wait politely: behind a long transaction, `migrate` never holds the desk up for
longer than its lock timeout, and it applies once the transaction ends (or fails cleanly).

One session holds ACCESS SHARE on trading.order_events in an open transaction; a migration
needs ACCESS EXCLUSIVE on it. Without a lock timeout the migration queues behind the reader
and every later reader and writer of the table queues behind the migration, for as long as
the reader stays. Meanwhile four sessions read the table and stage orders (which write to it),
and the longest of their statements is measured with clock times around each.
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from ops_db.core.paths import migrations_dir
from ops_db.ops.migration_locks import MigrationBlocked
from ops_db.ops.migrations import Runner
from tests import ledger_helpers

LOCK_WAIT = 0.5  # seconds, the runner's lock_timeout in these tests
READER_HOLDS = 4.0  # seconds: well past LOCK_WAIT + the bound below, so no timeout would show
BOUND = LOCK_WAIT + 2.0  # the property, generously: nobody waits much longer than one lock_timeout


def _directory(tmp_path: Path, transactional: bool) -> Path:
    target = tmp_path / "migrations"
    shutil.copytree(migrations_dir(), target)
    head = "" if transactional else "-- transactional: false\n"
    (target / "9100_lock_probe.sql").write_text(
        head + "-- depends: 0300_maintenance_runs\n"
        "ALTER TABLE trading.order_events ADD COLUMN lock_probe integer;\n"
    )
    (target / "9100_lock_probe.rollback.sql").write_text(
        head + "ALTER TABLE trading.order_events DROP COLUMN lock_probe;\n"
    )
    return target


class Desk:
    """Sessions reading trading.order_events and staging orders; records each statement's duration."""

    def __init__(self, conninfo: str, workers: int = 4) -> None:
        self.conninfo = conninfo
        self.stop = threading.Event()
        self.longest = 0.0
        self.statements = 0
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()
        with psycopg.connect(conninfo) as conn:
            self.strategy_id = ledger_helpers.strategy(conn).id
            conn.commit()
        self.threads = [threading.Thread(target=self._run, args=(i % 2 == 0,)) for i in range(workers)]

    def _run(self, reader: bool) -> None:
        try:
            with psycopg.connect(self.conninfo, autocommit=reader) as conn:
                while not self.stop.is_set():
                    started = time.monotonic()
                    if reader:
                        conn.execute("SELECT count(*) FROM trading.order_events").fetchone()
                    else:
                        ledger_helpers.stage(conn, self.strategy_id)
                        conn.commit()
                    took = time.monotonic() - started
                    with self._lock:
                        self.longest = max(self.longest, took)
                        self.statements += 1
                    time.sleep(0.02)
        except BaseException as exc:  # surfaced by the test
            self.errors.append(exc)

    def __enter__(self) -> Desk:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)


def _column_exists(conninfo: str) -> bool:
    with psycopg.connect(conninfo) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_attribute WHERE attrelid = 'trading.order_events'::regclass"
            " AND attname = 'lock_probe' AND NOT attisdropped"
        ).fetchone()
    return bool(row and row[0])


def _migrate_in_thread(runner: Runner) -> tuple[threading.Thread, dict[str, Any]]:
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["applied"] = runner.migrate()
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


@pytest.mark.parametrize("transactional", [True, False], ids=["transactional", "non-transactional"])
def test_migration_behind_a_long_reader_never_blocks_the_desk(
    fresh_db: str, tmp_path: Path, transactional: bool
) -> None:
    runner = Runner(fresh_db, directory=_directory(tmp_path, transactional), lock_wait=LOCK_WAIT, retry_deadline=60)
    with psycopg.connect(fresh_db) as reader, Desk(fresh_db) as desk:
        reader.execute("SELECT count(*) FROM trading.order_events").fetchone()  # ACCESS SHARE, held
        time.sleep(0.3)
        thread, outcome = _migrate_in_thread(runner)
        time.sleep(READER_HOLDS)
        assert thread.is_alive(), f"migration finished while the reader held its lock: {outcome}"
        reader.rollback()  # the long transaction ends
        thread.join(timeout=60)
        time.sleep(0.3)
    print(f"longest block seen by another session: {desk.longest:.3f}s over {desk.statements} statements "
          f"(lock_wait {LOCK_WAIT}s, reader held {READER_HOLDS}s)")
    assert not thread.is_alive()
    assert desk.errors == []
    assert outcome.get("applied") == ["9100_lock_probe"], outcome
    assert _column_exists(fresh_db)
    assert desk.statements > 20
    assert desk.longest < BOUND


def test_migration_fails_cleanly_at_the_deadline_naming_the_blocker(fresh_db: str, tmp_path: Path) -> None:
    runner = Runner(fresh_db, directory=_directory(tmp_path, True), lock_wait=LOCK_WAIT, retry_deadline=2.5)
    with psycopg.connect(fresh_db, application_name="long report") as reader, Desk(fresh_db) as desk:
        reader.execute("SELECT count(*) FROM trading.order_events").fetchone()
        pid = reader.info.backend_pid
        thread, outcome = _migrate_in_thread(runner)
        thread.join(timeout=60)
        reader.rollback()
    print(f"longest block seen by another session: {desk.longest:.3f}s over {desk.statements} statements")
    error = outcome.get("error")
    assert isinstance(error, MigrationBlocked), outcome
    message = str(error)
    assert "migration 9100_lock_probe" in message
    assert f"pid {pid} " in message and "(long report)" in message
    assert "SELECT count(*) FROM trading.order_events" in message
    assert "on trading.order_events" in message and message.endswith("nothing of it applied")
    assert desk.errors == []
    assert desk.longest < BOUND
    assert not _column_exists(fresh_db)
    assert "9100_lock_probe" not in [s.id for s in runner.status() if s.applied_at]
    # Once the reader is gone, the next run applies it.
    assert runner.migrate() == ["9100_lock_probe"]


def test_rollback_waits_politely_too(fresh_db: str, tmp_path: Path) -> None:
    runner = Runner(fresh_db, directory=_directory(tmp_path, True), lock_wait=LOCK_WAIT, retry_deadline=2.5)
    assert runner.migrate() == ["9100_lock_probe"]
    with psycopg.connect(fresh_db) as reader, Desk(fresh_db) as desk:
        reader.execute("SELECT count(*) FROM trading.order_events").fetchone()
        with pytest.raises(MigrationBlocked, match=r"rollback of 9100_lock_probe: .*nothing of it undone$"):
            runner.rollback()
        reader.rollback()
    print(f"longest block seen by another session during rollback: {desk.longest:.3f}s")
    assert desk.errors == []
    assert desk.longest < BOUND
    assert _column_exists(fresh_db)
    assert runner.verify() == []  # sql/schema re-applied after the refused rollback
    assert runner.rollback() == ["9100_lock_probe"]
    assert not _column_exists(fresh_db)


def test_blocker_text_never_repeats_a_password() -> None:
    from ops_db.ops.migration_locks import LockBlocker

    shown = LockBlocker(7, "admin", "psql", "active", 3.0, "ALTER ROLE x PASSWORD 'hunter2'", None).describe()
    assert "hunter2" not in shown and "pid 7 admin (psql)" in shown
