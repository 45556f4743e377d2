"""The health checks of the desk's safety nets: disabled triggers, lock waits, long and prepared
transactions, replication slots, the WAL archiver, sequence exhaustion and invalid indexes."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from ops_db.ops.cluster import LocalCluster, free_port
from ops_db.ops.health import CheckResult, Status, run_checks
from ops_db.ops.nodes import own
from tests.conftest import Server
from tests.ha_helpers import cli, processes_under, scratch_home
from tests.ledger_helpers import stage, strategy

LEDGER_TRIGGERS = {
    "staged_orders_guard": "trading.staged_orders",
    "staged_orders_audit": "trading.staged_orders",
    "order_events_append_only": "trading.order_events",
    "executions_apply_fill": "trading.executions",
}


def one(conninfo: str, name: str) -> CheckResult:
    report = run_checks(conninfo, {name})
    (result,) = [r for r in report.results if r.name == name]
    return result


def execute(conninfo: str, *statements: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)  # type: ignore[arg-type]


# -- triggers ---------------------------------------------------------------------------
def test_no_disabled_trigger_on_a_migrated_database(fresh_db: str) -> None:
    result = one(fresh_db, "triggers_disabled")
    assert result.status == Status.OK and result.value == 0, result.summary


def test_disable_trigger_user_on_staged_orders_is_critical(fresh_db: str) -> None:
    execute(fresh_db, "ALTER TABLE trading.staged_orders DISABLE TRIGGER USER")
    result = one(fresh_db, "triggers_disabled")
    assert result.status == Status.CRITICAL, result.summary
    assert "staged_orders_guard" in result.summary and "staged_orders_audit" in result.summary


# trading.order_events is a hypertable: TimescaleDB refuses ENABLE/DISABLE TRIGGER on it and on its
# chunks (the catalog test below disables it the only way left).
@pytest.mark.parametrize("trigger", sorted(t for t, tbl in LEDGER_TRIGGERS.items() if tbl != "trading.order_events"))
def test_each_guard_and_audit_trigger_disabled_alone_is_critical(fresh_db: str, trigger: str) -> None:
    execute(fresh_db, f"ALTER TABLE {LEDGER_TRIGGERS[trigger]} DISABLE TRIGGER {trigger}")
    result = one(fresh_db, "triggers_disabled")
    assert result.status == Status.CRITICAL and trigger in result.summary, result.summary
    execute(fresh_db, f"ALTER TABLE {LEDGER_TRIGGERS[trigger]} ENABLE TRIGGER {trigger}")
    assert one(fresh_db, "triggers_disabled").status == Status.OK


def test_a_renamed_guard_is_matched_by_its_table_and_replica_only_counts_as_disabled(fresh_db: str) -> None:
    execute(fresh_db, "ALTER TRIGGER staged_orders_guard ON trading.staged_orders RENAME TO sneaky",
            "ALTER TABLE trading.staged_orders ENABLE REPLICA TRIGGER sneaky")
    result = one(fresh_db, "triggers_disabled")
    assert result.status == Status.CRITICAL and "sneaky on trading.staged_orders" in result.summary, result.summary
    assert "replicas only" in result.summary


def test_any_disabled_user_trigger_on_a_trading_table_is_at_least_a_warning(fresh_db: str) -> None:
    execute(fresh_db,
            "CREATE TABLE trading.health_notes (id int)",
            "CREATE FUNCTION trading.health_notes_touch() RETURNS trigger LANGUAGE plpgsql AS"
            " $$BEGIN RETURN NEW; END$$",
            "CREATE TRIGGER health_notes_touch BEFORE INSERT ON trading.health_notes"
            " FOR EACH ROW EXECUTE FUNCTION trading.health_notes_touch()",
            "ALTER TABLE trading.health_notes DISABLE TRIGGER health_notes_touch",
            # outside trading: not the desk's business
            "CREATE TABLE public.health_other (id int)",
            "CREATE TRIGGER health_other_touch BEFORE INSERT ON public.health_other"
            " FOR EACH ROW EXECUTE FUNCTION trading.health_notes_touch()",
            "ALTER TABLE public.health_other DISABLE TRIGGER ALL")
    result = one(fresh_db, "triggers_disabled")
    assert result.status == Status.WARNING and result.value == 1, result.summary
    assert "health_notes_touch on trading.health_notes disabled" in result.summary


@pytest.mark.parametrize("where", ["hypertable", "chunk"])
def test_the_audit_trail_trigger_disabled_in_the_catalog_is_critical(fresh_db: str, where: str) -> None:
    """TimescaleDB before 2.28 refuses DISABLE TRIGGER on a hypertable and on its chunks (a
    superuser can still edit pg_trigger); 2.28 takes it from the table's owner. Either way the
    trigger can be disabled on the hypertable or on one chunk (row triggers are copied onto every
    chunk): here by ALTER TABLE where it is taken, else by editing pg_trigger."""
    with psycopg.connect(fresh_db) as conn:
        stage(conn, strategy(conn).id)  # writes the first audit event: order_events gets a chunk
        conn.commit()
        chunk = conn.execute("SELECT c::text FROM show_chunks('trading.order_events') c LIMIT 1").fetchone()
    assert chunk is not None
    relation = "trading.order_events" if where == "hypertable" else chunk[0]
    try:
        execute(fresh_db, f"ALTER TABLE {relation} DISABLE TRIGGER order_events_append_only")
    except psycopg.errors.FeatureNotSupported:
        with psycopg.connect(fresh_db, autocommit=True) as conn:
            changed = conn.execute("UPDATE pg_trigger SET tgenabled = 'D' WHERE tgrelid = %s::regclass"
                                   " AND tgname = 'order_events_append_only'", (relation,)).rowcount
        assert changed == 1
    with psycopg.connect(fresh_db) as conn:
        enabled = conn.execute("SELECT tgenabled FROM pg_trigger WHERE tgrelid = %s::regclass"
                               " AND tgname = 'order_events_append_only'", (relation,)).fetchone()
    assert enabled == ("D",)
    result = one(fresh_db, "triggers_disabled")
    assert result.status == Status.CRITICAL and "order_events_append_only on trading.order_events" in result.summary
    if where == "chunk":
        assert f"(chunk {chunk[0]})" in result.summary, result.summary


# -- sessions ---------------------------------------------------------------------------
def _wait_for(conninfo: str, query: str, params: tuple[object, ...], seconds: float = 10.0) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            row = conn.execute(query, params).fetchone()  # type: ignore[arg-type]
            if row and row[0]:
                return
            time.sleep(0.05)
    raise AssertionError(f"never true: {query}")


def test_lock_waits_count_and_name_the_longest_waiter(fresh_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert one(fresh_db, "lock_waits").value == 0
    monkeypatch.setenv("OPS_DB_HEALTH_LOCK_WAITS_WARN", "0")
    with psycopg.connect(fresh_db, application_name="locker") as locker:
        locker.execute("LOCK TABLE trading.alerts IN ACCESS EXCLUSIVE MODE")
        waiter = psycopg.connect(fresh_db, autocommit=True, application_name="waiter")
        waiter_pid, locker_pid = waiter.info.backend_pid, locker.info.backend_pid
        thread = threading.Thread(target=lambda: waiter.execute("SELECT count(*) FROM trading.alerts"), daemon=True)
        thread.start()
        try:
            _wait_for(fresh_db, "SELECT count(*) FROM pg_locks WHERE NOT granted AND pid = %s",
                      (waiter_pid,))
            result = one(fresh_db, "lock_waits")
        finally:
            locker.rollback()
            thread.join(timeout=10)
            waiter.close()
    assert result.status == Status.WARNING, result.summary
    assert result.figures[0].name == "lock_waiting_sessions" and result.figures[0].value == 1
    assert f"pid {waiter_pid} waiter waits for AccessShareLock on trading.alerts" in result.summary, result.summary
    assert f"blocked by {locker_pid}" in result.summary


def test_the_longest_open_transaction_names_its_pid(fresh_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with psycopg.connect(fresh_db, application_name="slowpoke") as other:
        other.execute("SELECT 1")  # a transaction is open now
        monkeypatch.setenv("OPS_DB_HEALTH_LONG_TRANSACTION_WARN", "0")
        warned = one(fresh_db, "long_transaction")
        monkeypatch.setenv("OPS_DB_HEALTH_LONG_TRANSACTION_CRIT", "0")
        crit = one(fresh_db, "long_transaction")
        pid = other.info.backend_pid
    assert warned.status == Status.WARNING and f"pid {pid} slowpoke" in warned.summary, warned.summary
    assert crit.status == Status.CRITICAL


# -- sequences and indexes --------------------------------------------------------------
def test_a_sequence_near_its_max_is_critical(fresh_db: str) -> None:
    assert one(fresh_db, "sequences").status == Status.OK
    execute(fresh_db, "CREATE SEQUENCE trading.health_test_seq MAXVALUE 100",
            "SELECT setval('trading.health_test_seq', 80)")
    warned = one(fresh_db, "sequences")
    assert warned.status == Status.WARNING and warned.value == pytest.approx(80.0), warned.summary
    execute(fresh_db, "SELECT setval('trading.health_test_seq', 95)")
    crit = one(fresh_db, "sequences")
    assert crit.status == Status.CRITICAL and "trading.health_test_seq" in crit.summary, crit.summary


def test_a_bigint_sequence_behind_an_integer_column_counts_to_the_column_max(fresh_db: str) -> None:
    execute(fresh_db, "CREATE SEQUENCE trading.health_big_seq",  # bigint range: 0.0000001% used
            "CREATE TABLE trading.health_ids (id integer NOT NULL DEFAULT nextval('trading.health_big_seq'))",
            "ALTER SEQUENCE trading.health_big_seq OWNED BY trading.health_ids.id",
            "SELECT setval('trading.health_big_seq', 2000000000)")
    result = one(fresh_db, "sequences")
    assert result.status == Status.CRITICAL and "trading.health_big_seq" in result.summary, result.summary


def test_an_index_left_invalid_by_a_failed_concurrent_build_is_reported(fresh_db: str) -> None:
    assert one(fresh_db, "invalid_indexes").status == Status.OK
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE trading.health_dups (v int)")
        conn.execute("INSERT INTO trading.health_dups VALUES (1), (1)")
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("CREATE UNIQUE INDEX CONCURRENTLY health_dups_v ON trading.health_dups (v)")
    result = one(fresh_db, "invalid_indexes")
    assert result.status == Status.WARNING and result.value == 1, result.summary
    assert "trading.health_dups_v on trading.health_dups" in result.summary


# -- replication slots ------------------------------------------------------------------
def test_an_inactive_slot_retaining_wal_is_reported(server: Server, fresh_db: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    before = one(fresh_db, "replication_slots")
    slot = f"health_test_{free_port()}"
    execute(fresh_db, f"SELECT pg_create_physical_replication_slot('{slot}', true)")
    try:
        execute(fresh_db, "CREATE TABLE trading.health_wal AS SELECT generate_series(1, 20000) AS i")
        warned = one(fresh_db, "replication_slots")
        monkeypatch.setenv("OPS_DB_HEALTH_REPLICATION_SLOTS_CRIT", "1K")
        crit = one(fresh_db, "replication_slots")
    finally:
        execute(fresh_db, f"SELECT pg_drop_replication_slot('{slot}')")
    assert before.status == Status.OK or "inactive" in before.summary
    assert warned.status == Status.WARNING and slot in warned.summary, warned.summary
    assert warned.value is not None and warned.value > 1024
    assert {f.name: f.value for f in warned.figures}["replication_slots_inactive"] >= 1
    assert crit.status == Status.CRITICAL


# -- prepared transactions and the archiver: a server configured for them ----------------
@pytest.fixture(scope="module")
def archiving_server(server: Server) -> Iterator[str]:
    """A private cluster with max_prepared_transactions > 0 and an archive_command that always fails
    (the shared test servers allow no prepared transactions: max_prepared_transactions = 0)."""
    if server.cluster is None:
        pytest.skip("needs local PostgreSQL binaries for a cluster with archive_mode = on")
    # beside the shared cluster: a place the server's OS user can reach
    cluster = LocalCluster(server.cluster.home.parent / f"{server.edition}-health-archiving", free_port(),
                           server.edition, fast=True)
    cluster.destroy()
    cluster.up()
    try:
        execute(cluster.conninfo("postgres"), "ALTER SYSTEM SET max_prepared_transactions = 4",
                "ALTER SYSTEM SET archive_mode = on", "ALTER SYSTEM SET archive_command = 'false'")
        cluster.down()
        cluster.start()
        yield cluster.conninfo("postgres")
    finally:
        cluster.destroy()


def test_shared_test_server_settings(server: Server) -> None:
    with psycopg.connect(server.admin) as conn:
        row = conn.execute("SELECT current_setting('max_prepared_transactions')").fetchone()
    print(f"shared test server: max_prepared_transactions = {row[0] if row else '?'}")


def test_a_prepared_transaction_is_counted_with_its_age(archiving_server: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    assert one(archiving_server, "prepared_transactions").status == Status.OK
    with psycopg.connect(archiving_server) as conn:
        conn.execute("SELECT txid_current()")
        conn.execute("PREPARE TRANSACTION 'health-forgotten'")
    try:
        monkeypatch.setenv("OPS_DB_HEALTH_PREPARED_TRANSACTIONS_WARN", "0")
        result = one(archiving_server, "prepared_transactions")
    finally:
        execute(archiving_server, "ROLLBACK PREPARED 'health-forgotten'")
    assert result.status == Status.WARNING and "health-forgotten" in result.summary, result.summary
    assert {f.name: f.value for f in result.figures}["prepared_transactions"] == 1


def test_archiving_off_is_ok(fresh_db: str) -> None:
    result = one(fresh_db, "wal_archiver")
    assert result.status == Status.OK and "off" in result.summary, result.summary


def test_a_failing_archive_command_is_reported(archiving_server: str) -> None:
    execute(archiving_server, "CREATE TABLE health_wal AS SELECT generate_series(1, 1000) AS i",
            "SELECT pg_switch_wal()")
    _wait_for(archiving_server, "SELECT failed_count > 0 FROM pg_stat_archiver", ())
    result = one(archiving_server, "wal_archiver")
    assert result.status in (Status.WARNING, Status.CRITICAL), result.summary
    assert "archiving is failing" in result.summary and result.value is not None and result.value >= 1


# -- pgBackRest ---------------------------------------------------------------------------
def test_pgbackrest_not_configured_is_ok_and_says_so(fresh_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PGBACKREST_CONFIG", raising=False)
    result = one(fresh_db, "pgbackrest")
    assert result.status == Status.OK and "not configured (PGBACKREST_CONFIG)" in result.summary


def test_a_pgbackrest_that_hangs_keeps_the_run_within_its_bound(fresh_db: str) -> None:
    """`pgbackrest info` stuck (a repository on a dead NFS mount): killed, with the child it started,
    when it outlasts the statement budget; the check is UNKNOWN and the run answers in time."""
    with scratch_home("fake-pgbackrest") as base:
        fake = base / "pgbackrest"
        # A child of its own holds the pipes too, and says who it is.
        fake.write_text('#!/bin/sh\nsleep 121 &\necho $! > "$(dirname "$0")/child.pid"\nsleep 120\n')
        fake.chmod(0o755)
        own(base)  # pgbackrest runs as the server user
        config = base / "pgbackrest.conf"
        config.write_text("[global]\n")
        env = {"PATH": f"{base}:{os.environ['PATH']}", "PGBACKREST_CONFIG": str(config)}
        started = time.monotonic()
        done = cli("health", "--only", "pgbackrest", "--url", fresh_db, "--timeout", "8s",
                   "--statement-timeout", "2s", env=env, timeout=60)
        took = time.monotonic() - started
        assert done.returncode == 3, done.stdout + done.stderr  # UNKNOWN
        assert "pgbackrest" in done.stdout and "cannot read pgbackrest info" in done.stdout, done.stdout
        assert took < 8 + 5, f"health took {took:.1f} s with an 8 s budget"
        assert processes_under(base) == [], "the hung pgbackrest was left running"
        child = int((base / "child.pid").read_text())
        state = Path(f"/proc/{child}/status")
        assert not state.exists() or "\tZ" in state.read_text(), "the hung pgbackrest's child was left running"
