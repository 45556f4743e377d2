"""`ops-db verify` finds drift: the live catalog against what the migrations and sql/schema build.

Most cases compare a changed clone of the migrated template with one reference snapshot built
(in a scratch database, as verify does) once per server; the end-to-end cases run the whole
verify, scratch database and all.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from ops_db.core.paths import migrations_dir, sql_dir
from ops_db.ops import drift
from ops_db.ops.migrations import Runner
from tests.conftest import ROOT, Server


@pytest.fixture(scope="session")
def reference(server: Server) -> drift.Snapshot:
    notes: list[str] = []
    return drift.reference_snapshot(server.admin, migrations_dir(), sql_dir() / "schema", notes)


def drift_of(conninfo: str, reference: drift.Snapshot) -> list[str]:
    return drift.compare(drift.snapshot_of(conninfo), reference)


def run(conninfo: str, *statements: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)  # type: ignore[arg-type]


def scratch_databases(server: Server) -> list[str]:
    with psycopg.connect(server.admin) as conn:
        return [r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'ops\\_drift\\_%'")]


def ops_db(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "OPS_DB_", "DATABASE_URL"))}
    return subprocess.run(
        [sys.executable, "-m", "ops_db", *args], capture_output=True, text=True, env={**base, **(env or {})},
        timeout=timeout, check=False, cwd=ROOT,
    )


def test_migrations_build_the_reference_exactly(fresh_db: str, reference: drift.Snapshot) -> None:
    assert reference["columns"] and reference["triggers"] and reference["functions"]
    assert drift_of(fresh_db, reference) == []


def test_hand_added_column(fresh_db: str, reference: drift.Snapshot) -> None:
    run(fresh_db, "ALTER TABLE trading.staged_orders ADD COLUMN hand_added integer")
    assert drift_of(fresh_db, reference) == [
        "column trading.staged_orders.hand_added: not built by the migrations"
    ]


def test_changed_column_type_null_and_default(fresh_db: str, reference: drift.Snapshot) -> None:
    run(fresh_db, "ALTER TABLE trading.alerts ALTER COLUMN message TYPE varchar(200)",
        "ALTER TABLE trading.alerts ALTER COLUMN severity DROP NOT NULL",
        "ALTER TABLE trading.alerts ALTER COLUMN details SET DEFAULT '{\"by\": \"hand\"}'")
    found = drift_of(fresh_db, reference)
    assert [line for line in found if line.startswith("column ")] == [
        "column trading.alerts.details: default is '{\"by\": \"hand\"}'::jsonb, the migrations give '{}'::jsonb",
        "column trading.alerts.message: type is character varying(200), the migrations give text",
        "column trading.alerts.severity: not null is false, the migrations give true",
    ]
    others = [line for line in found if not line.startswith("column ")]
    assert len(others) == 1, found  # its CHECK now casts the varchar
    assert others[0].startswith("constraint trading.alerts.alerts_message_valid: definition differs from the")
    assert "btrim((message)::text)) >= 1) AND" in others[0]


def test_dropped_index(fresh_db: str, reference: drift.Snapshot) -> None:
    run(fresh_db, "DROP INDEX trading.staged_orders_status_idx")
    assert drift_of(fresh_db, reference) == [
        "index trading.staged_orders_status_idx: missing (the migrations build it)"
    ]


def test_invalid_index_and_unvalidated_constraint(fresh_db: str, reference: drift.Snapshot) -> None:
    run(fresh_db,
        # what a failed CREATE INDEX CONCURRENTLY leaves behind
        "UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'trading.staged_orders_symbol_idx'::regclass",
        "ALTER TABLE trading.alerts DROP CONSTRAINT alerts_message_valid",
        "ALTER TABLE trading.alerts ADD CONSTRAINT alerts_message_valid"
        " CHECK (length(btrim(message)) BETWEEN 1 AND 4000) NOT VALID")
    found = drift_of(fresh_db, reference)
    assert "index trading.staged_orders_symbol_idx: valid is false, the migrations give true" in found
    assert "constraint trading.alerts.alerts_message_valid: validated is false, the migrations give true" in found


def test_disabled_triggers(fresh_db: str, reference: drift.Snapshot) -> None:
    run(fresh_db, "ALTER TABLE trading.staged_orders DISABLE TRIGGER USER")
    assert drift_of(fresh_db, reference) == [
        "trigger trading.staged_orders.staged_orders_audit: state is disabled, the migrations give enabled",
        "trigger trading.staged_orders.staged_orders_guard: state is disabled, the migrations give enabled",
    ]


def test_disabled_foreign_key_triggers(fresh_db: str, reference: drift.Snapshot) -> None:
    """DISABLE TRIGGER ALL also stops foreign keys being enforced: those triggers are internal, still counted."""
    run(fresh_db, "ALTER TABLE trading.executions DISABLE TRIGGER ALL")
    found = drift_of(fresh_db, reference)
    assert "trigger trading.executions.executions_apply_fill: state is disabled, the migrations give enabled" in found
    assert any(line.startswith("table trading.executions: disabled internal triggers is ") for line in found), found


def test_edited_function(fresh_db: str, reference: drift.Snapshot) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        row = conn.execute("SELECT pg_get_functiondef('trading.get_today_pnl()'::regprocedure)").fetchone()
        assert row is not None
        definition: str = row[0]
        quote = definition.index("AS $function$") + len("AS $function$")
        conn.execute(definition[:quote] + "\n-- edited in production\n" + definition[quote:])  # type: ignore[arg-type]
    found = drift_of(fresh_db, reference)
    assert len(found) == 1, found
    assert found[0].startswith(
        "function trading.get_today_pnl(): body differs from the migrations' ('-- edited in production' here, "
    ), found


def test_function_made_security_definer(fresh_db: str, reference: drift.Snapshot) -> None:
    run(fresh_db, "ALTER FUNCTION trading.get_today_pnl() SECURITY DEFINER SET search_path = public")
    assert drift_of(fresh_db, reference) == [
        "function trading.get_today_pnl(): security definer is true, the migrations give false",
        "function trading.get_today_pnl(): settings is search_path=public, the migrations give none",
    ]


def test_changed_privileges(fresh_db: str, reference: drift.Snapshot) -> None:
    run(fresh_db, "GRANT DELETE ON trading.staged_orders TO ops_app",
        "GRANT EXECUTE ON FUNCTION trading.close_position(text, numeric, text) TO ops_readonly",
        "GRANT SELECT ON trading.staged_orders TO PUBLIC",
        "GRANT CREATE ON SCHEMA trading TO ops_app",
        "ALTER DEFAULT PRIVILEGES FOR ROLE ops_owner IN SCHEMA trading GRANT TRUNCATE ON TABLES TO ops_app")
    assert drift_of(fresh_db, reference) == [
        "schema trading: privileges of ops_app are CREATE, USAGE, the migrations give USAGE",
        "table trading.staged_orders: privileges of PUBLIC are SELECT, the migrations give none",
        "table trading.staged_orders: privileges of ops_app are DELETE, INSERT, SELECT, UPDATE, "
        "the migrations give INSERT, SELECT, UPDATE",
        "function trading.close_position(p_symbol text, p_price numeric, p_reason text): "
        "privileges of ops_readonly are EXECUTE, the migrations give none",
        "default privileges of ops_owner in schema trading on tables: privileges of ops_app are "
        "DELETE, INSERT, SELECT, TRUNCATE, UPDATE, the migrations give DELETE, INSERT, SELECT, UPDATE",
    ]


def test_hand_made_table_and_view_change(fresh_db: str, reference: drift.Snapshot) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE trading.scratchpad (id int PRIMARY KEY, note text)")
        row = conn.execute("SELECT pg_get_viewdef('trading.v_active_positions'::regclass)").fetchone()
        assert row is not None
        conn.execute(
            sql.SQL("CREATE OR REPLACE VIEW trading.v_active_positions AS {} LIMIT 10").format(
                sql.SQL(row[0].rstrip().rstrip(";"))  # type: ignore[arg-type]
            )
        )
    found = drift_of(fresh_db, reference)
    # The table is one line, not one per column, constraint and index.
    assert "table trading.scratchpad: not built by the migrations" in found
    assert not any(line.startswith(("column trading.scratchpad", "index trading.scratchpad")) for line in found)
    assert any(line.startswith("view trading.v_active_positions: definition differs") for line in found), found


def test_changed_chunk_interval(fresh_db: str, reference: drift.Snapshot) -> None:
    run(fresh_db, "SELECT set_chunk_time_interval('trading.order_events', interval '1 day')")
    assert drift_of(fresh_db, reference) == [
        'hypertable dimension trading.order_events(occurred_at): chunk interval is 1 day, the migrations give 7 days'
    ]


def test_role_attributes_and_memberships(fresh_db: str) -> None:
    """Roles belong to the cluster: they are compared with what the migrations' statements create."""
    expected = drift.expected_roles(sorted(migrations_dir().glob("[0-9]*[0-9]_*.sql")))
    assert expected.attributes["ops_owner"]["login"] is True
    assert expected.attributes["ops_app"]["login"] is False
    assert "trader" not in expected.attributes  # named in a comment only
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        assert drift.role_problems(conn, expected) == []
        try:
            conn.execute("ALTER ROLE ops_readonly CREATEDB")
            conn.execute("GRANT ops_owner TO ops_app")
            assert drift.role_problems(conn, expected) == [
                "role ops_readonly: createdb is true, the migrations create false",
                "role ops_app: member of ops_owner, which the migrations do not grant",
            ]
        finally:
            conn.execute("ALTER ROLE ops_readonly NOCREATEDB")
            conn.execute("REVOKE ops_owner FROM ops_app")


def test_expected_roles_reads_statements(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text(
        "-- CREATE ROLE in_a_comment LOGIN;\n"
        "DO $$ BEGIN CREATE ROLE desk LOGIN CONNECTION LIMIT 5 IN ROLE ops_app; END $$;\n"
        "CREATE USER robot PASSWORD 'x;y' NOINHERIT;\n"
        "GRANT SELECT ON trading.t TO desk;\n"
        "GRANT ops_readonly TO robot;\n"
        "ALTER ROLE desk SET statement_timeout = '1s';\n"
        "ALTER ROLE robot WITH CREATEDB;\n"
    )
    expected = drift.expected_roles([tmp_path / "0001_a.sql"])
    assert set(expected.attributes) == {"desk", "robot"}
    assert expected.attributes["desk"]["connection_limit"] == 5 and expected.attributes["desk"]["login"] is True
    assert expected.attributes["robot"]["inherit"] is False and expected.attributes["robot"]["createdb"] is True
    assert expected.attributes["robot"]["login"] is True  # CREATE USER
    assert expected.memberships == {("desk", "ops_app"), ("robot", "ops_readonly")}


# -- the whole verify --------------------------------------------------------------------
def test_clean_database_passes_through_the_cli(server: Server, fresh_db: str) -> None:
    before = scratch_databases(server)
    result = ops_db("verify", "--url", fresh_db)
    assert result.returncode == 0, result.stderr
    assert "the catalog matches them" in result.stdout
    assert scratch_databases(server) == before


def test_drift_exits_5_with_one_line_each(server: Server, fresh_db: str) -> None:
    run(fresh_db, "ALTER TABLE trading.staged_orders DISABLE TRIGGER USER",
        "ALTER TABLE trading.positions ADD COLUMN hand_added text")
    result = ops_db("verify", "--url", fresh_db)
    assert result.returncode == 5, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "column trading.positions.hand_added: not built by the migrations",
        "trigger trading.staged_orders.staged_orders_audit: state is disabled, the migrations give enabled",
        "trigger trading.staged_orders.staged_orders_guard: state is disabled, the migrations give enabled",
        "ops-db: 3 problem(s) with migrations or schema",
    ]
    assert scratch_databases(server) == []
    files_only = ops_db("verify", "--files-only", "--url", fresh_db)
    assert files_only.returncode == 0, files_only.stderr


def _yoyo_apply(conninfo: str, directory: Path) -> None:
    from yoyo import get_backend, read_migrations

    params = psycopg.conninfo.conninfo_to_dict(conninfo)
    url = f"postgresql+psycopg://{params['user']}@/{params['dbname']}?host={params['host']}&port={params['port']}"
    backend = get_backend(url)
    with backend.lock():
        backend.apply_migrations(backend.to_apply(read_migrations(str(directory))))


PROBE = (
    "-- depends: 0300_maintenance_runs\n"
    "SET ROLE ops_owner;\n"
    "CREATE TABLE trading.drift_probe (id bigint PRIMARY KEY, note text NOT NULL);\n"
    "RESET ROLE;\n"
)


def test_migration_edited_then_applied_by_plain_yoyo(fresh_db: str, tmp_path: Path) -> None:
    """The file in the release says one thing; what plain yoyo ran said another. Both lines show it."""
    release = tmp_path / "release"
    shutil.copytree(migrations_dir(), release)
    (release / "9100_drift_probe.sql").write_text(PROBE)
    (release / "9100_drift_probe.rollback.sql").write_text("DROP TABLE trading.drift_probe;\n")
    edited = tmp_path / "edited"
    shutil.copytree(release, edited)
    (edited / "9100_drift_probe.sql").write_text(
        PROBE.replace("note text NOT NULL", "note text, extra integer")
    )
    _yoyo_apply(fresh_db, edited)

    expected_catalog = [
        "column trading.drift_probe.extra: not built by the migrations",
        "column trading.drift_probe.note: not null is false, the migrations give true",
    ]
    report = drift.verify(fresh_db, directory=release)
    assert report.problems == [
        "9100_drift_probe: no checksum recorded (applied outside ops-db); run 'ops-db migrate'",
        *expected_catalog,
    ]
    # ops-db migrate adopts the file on first sight; the catalog comparison still sees what ran.
    assert Runner(fresh_db, directory=release).migrate() == []
    assert drift.verify(fresh_db, directory=release).problems == expected_catalog


def test_pending_migrations_skip_the_catalog(empty_db: str) -> None:
    ids = [m.id for m in Runner(empty_db).migrations()]
    Runner(empty_db).migrate(to=ids[-2])
    assert drift.verify(empty_db).problems == [
        f"{ids[-1]}: pending",
        "catalog not compared: migrations are pending or missing (run 'ops-db migrate')",
    ]


def _mark_applied(conninfo: str, directory: Path, migration_id: str) -> None:
    """Record a migration as applied without running it (its effect is then missing, or it fails to build)."""
    runner = Runner(conninfo, directory=directory)
    with runner._locked_backend() as (backend, _watch):  # the runner's own bookkeeping
        migration = next(m for m in runner.migrations() if m.id == migration_id)
        with backend.transaction():
            backend.mark_one(migration)


def test_reference_that_cannot_be_built_exits_1_and_leaves_nothing(
    server: Server, fresh_db: str, tmp_path: Path
) -> None:
    directory = tmp_path / "migrations"
    shutil.copytree(migrations_dir(), directory)
    (directory / "9101_broken.sql").write_text("-- depends: 0300_maintenance_runs\nSELECT 1 / 0;\n")
    _mark_applied(fresh_db, directory, "9101_broken")
    with pytest.raises(drift.ReferenceUnavailable, match=r"cannot build the reference schema.*9101_broken"):
        drift.verify(fresh_db, directory=directory)
    assert scratch_databases(server) == []


def test_login_without_createdb_gets_one_line_and_exit_1(server: Server, fresh_db: str) -> None:
    name = "nocreatedb_" + uuid.uuid4().hex[:8]
    run(server.admin, f"CREATE ROLE {name} LOGIN IN ROLE ops_owner")
    try:
        result = ops_db("verify", "--url", psycopg.conninfo.make_conninfo(fresh_db, user=name))
        assert result.returncode == 1, result.stderr
        assert result.stderr.strip().splitlines() == [
            "ops-db: cannot build the reference schema: CREATE DATABASE refused (permission denied to create "
            "database); verify needs a login that may create databases (CREATEDB), or --files-only"
        ]
        files_only = ops_db("verify", "--files-only", "--url", psycopg.conninfo.make_conninfo(fresh_db, user=name))
        assert files_only.returncode == 0, files_only.stderr
    finally:
        run(server.admin, f"DROP ROLE {name}")


def test_leftover_scratch_databases_are_dropped_when_stale(server: Server, fresh_db: str) -> None:
    stale = f"{drift.SCRATCH_PREFIX}{int(time.time()) - drift.STALE_AFTER_SECONDS - 60}_deadbeef"
    recent = f"{drift.SCRATCH_PREFIX}{int(time.time())}_cafecafe"
    for name in (stale, recent):
        run(server.admin, f"CREATE DATABASE {name}")
    try:
        notes: list[str] = []
        with psycopg.connect(fresh_db, autocommit=True) as conn:
            drift.drop_leftovers(conn, notes)
        assert notes == [f"dropped {stale}, left behind by an earlier verify run"]
        assert scratch_databases(server) == [recent]  # may belong to a run still going
    finally:
        for name in (stale, recent):
            server.drop_database(name)


def test_sigterm_during_the_build_drops_the_scratch_database(
    server: Server, fresh_db: str, tmp_path: Path
) -> None:
    directory = tmp_path / "migrations"
    shutil.copytree(migrations_dir(), directory)
    (directory / "9102_slow.sql").write_text("-- depends: 0300_maintenance_runs\nSELECT pg_sleep(60);\n")
    _mark_applied(fresh_db, directory, "9102_slow")
    script = (
        "import pathlib; from ops_db.ops import drift; "
        f"drift.verify({fresh_db!r}, directory=pathlib.Path({str(directory)!r}))"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        with psycopg.connect(server.admin, autocommit=True) as watcher:
            while time.monotonic() < deadline:
                row = watcher.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname LIKE 'ops\\_drift\\_%'"
                    " AND query LIKE 'SELECT pg_sleep(60)%' AND state = 'active'"
                ).fetchone()
                if row and row[0]:
                    break
                time.sleep(0.1)
            else:
                pytest.fail("the reference build never reached the slow migration")
        assert len(scratch_databases(server)) == 1
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode != 0 and "KeyboardInterrupt" in stderr
    finally:
        if proc.poll() is None:
            proc.kill()
    assert scratch_databases(server) == []


def test_schema_snapshot_helper_is_verify_s_snapshot(fresh_db: str) -> None:
    from tests.schema_snapshot import diff, snapshot

    first = snapshot(fresh_db)
    run(fresh_db, "ALTER TABLE trading.staged_orders DISABLE TRIGGER staged_orders_guard")
    assert set(diff(first, snapshot(fresh_db))) == {"triggers"}
