"""`ops-db health` answers within its bound whatever is locked, and names what blocks it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from psycopg import sql

from ops_db.ops.health import Budget, Status, run_checks
from tests.conftest import Server
from tests.ops_helpers import clean_env, ops_db

# Every table a health check reads (rollup status, maintain runs, migrations bookkeeping) and the
# ledger tables operators lock by hand.
# table locked -> the checks that read it (the ledger tables are read by none: catalog only).
LOCKED_TABLES = {
    "trading.order_events": set(),
    "trading.staged_orders": set(),
    "trading.executions": set(),
    "ops_internal.rollup": {"rollup_lag"},
    "ops_internal.rollup_invalidation": set(),
    "ops_internal.maintenance_runs": {"maintain_age"},
    "public._yoyo_migration": {"migrations"},
    "public._ops_db_checksum": {"migrations"},
}


@contextmanager
def locked(conninfo: str, table: str) -> Iterator[int]:
    """Another session holding ACCESS EXCLUSIVE on ``table`` in an open transaction; yields its pid."""
    with psycopg.connect(conninfo, application_name="locker") as conn:
        schema, name = table.split(".")
        conn.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(sql.Identifier(schema, name)))
        try:
            yield conn.info.backend_pid
        finally:
            conn.rollback()


@pytest.mark.parametrize("table", sorted(LOCKED_TABLES))
def test_health_answers_within_the_bound_with_a_table_locked(server: Server, fresh_db: str, table: str) -> None:
    budget = Budget(total=6.0, statement=2.0, lock=0.5)
    with locked(fresh_db, table) as pid:
        report = run_checks(fresh_db, budget=budget)
    blocked = {r.name: r for r in report.results if "could not finish" in r.summary or "did not finish" in r.summary}
    print(f"health with {table} locked: {report.seconds:.2f} s, {report.status.name}, blocked: {sorted(blocked)}")
    assert report.seconds <= budget.total + 1.0  # the run's own deadline, not a speed claim
    expected = LOCKED_TABLES[table] - ({"maintain_age"} if server.edition != "apache" else set())
    assert set(blocked) == expected, [(r.name, r.summary) for r in report.results]
    for r in blocked.values():
        assert r.status == Status.CRITICAL, r
        assert f"pid {pid} (locker, idle in transaction for " in r.summary and "LOCK TABLE" in r.summary, r.summary
    # the blocker's open transaction is seen whether or not a check had to wait for it
    by_name = {r.name: r for r in report.results}
    assert f"pid {pid} locker" in by_name["long_transaction"].summary
    assert {r.name for r in report.results} >= {"connection", "triggers_disabled", "lock_waits"}


def test_cli_with_a_lock_held_answers_and_names_the_blocker(fresh_db: str) -> None:
    with locked(fresh_db, "public._yoyo_migration") as pid:
        done = ops_db("health", "--json", env=clean_env(OPS_DB_URL=fresh_db, OPS_DB_HEALTH_TIMEOUT="10"))
        text = ops_db("health", env=clean_env(OPS_DB_URL=fresh_db))
    report = json.loads(done.stdout)
    print(f"ops-db health (default bound 10 s) with public._yoyo_migration locked: {report['seconds']} s")
    assert done.returncode == 2 and report["seconds"] <= 11
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["migrations"]["status"] == "CRITICAL" and f"pid {pid}" in checks["migrations"]["summary"]
    first = text.stdout.splitlines()[0]
    assert first.startswith("OPS-DB CRITICAL: ") and "migrations" in first.split(" - ")[0], first


def test_the_deadline_holds_when_a_check_would_wait_longer(fresh_db: str) -> None:
    """Per-check timeouts longer than the run: the run's deadline still answers, naming the blocker."""
    budget = Budget(total=2.0, statement=30.0, lock=30.0)
    with locked(fresh_db, "public._yoyo_migration") as pid:
        report = run_checks(fresh_db, only={"connection", "migrations", "database_size", "invalid_indexes"},
                            budget=budget)
    print(f"health bound 2 s, check timeouts 30 s, a lock held: answered in {report.seconds:.2f} s")
    assert report.seconds <= budget.total + 1.0
    by_name = {r.name: r for r in report.results}
    assert by_name["connection"].status == Status.OK
    assert by_name["migrations"].status == Status.CRITICAL
    assert f"pid {pid} (locker" in by_name["migrations"].summary, by_name["migrations"].summary
    assert by_name["database_size"].status == Status.UNKNOWN  # not reached: said so, not left out
    assert "not run" in by_name["database_size"].summary


class _SilentServer:
    """A loopback TCP port that accepts connections and never answers (a hung server or network)."""

    def __init__(self) -> None:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self.sock.settimeout(0.2)
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted.append(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        for c in self.accepted:
            c.close()
        self.sock.close()


def test_a_connection_that_cannot_be_made_in_time_is_critical_with_the_reason() -> None:
    silent = _SilentServer()
    try:
        url = f"postgresql://nobody:secret@127.0.0.1:{silent.port}/desk_db"
        env = clean_env(OPS_DB_URL=url, OPS_DB_CONNECT_TIMEOUT="60", OPS_DB_HEALTH_TIMEOUT="3")
        done = ops_db("health", env=env)
        prom = ops_db("health", "--prometheus", env=env)
    finally:
        silent.close()
    assert done.returncode == 2, done.stdout + done.stderr
    line = done.stdout.strip()
    assert line.startswith("OPS-DB CRITICAL: ") and len(line.splitlines()) == 1, line
    assert "within 3 s" in line or "timeout" in line, line
    assert "secret" not in done.stdout + done.stderr + prom.stdout + prom.stderr
    assert prom.returncode == 0 and 'ops_db_health_up{database="desk_db"} 0' in prom.stdout
