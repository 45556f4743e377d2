"""The migrate-then-deploy contract (issue 12): an additive migration lands before the code that
knows about it, so the code already running must keep working.

Here the additive migration is a new nullable text column, no default, on EVERY table of schemas
trading and ops_internal (hypertables included), added by each table's owner. Then every public
function's valid call from tests/test_bad_input.py must still succeed:

- deployed after the migration (a process starting on the migrated database), and
- running across it: a session that prepared every declared query (``-- row:``) before the
  ALTER TABLEs runs them after (PostgreSQL refuses a prepared ``SELECT *`` whose result changed:
  "cached plan must not change result type").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import sql

from ops_db.ledger import orders
from tests import ledger_helpers as lh
from tests import test_bad_input as bad_input
from tests import test_query_columns as columns
from tests.conftest import Server

COLUMN = "zz_added_by_test"


def add_column_everywhere(conninfo: str) -> list[str]:
    """``ALTER TABLE ... ADD COLUMN zz_added_by_test text`` on every table of trading and
    ops_internal, each as its owner; the tables altered."""
    altered: list[str] = []
    with psycopg.connect(conninfo, autocommit=True) as conn:
        tables = conn.execute(
            "SELECT n.nspname::text, c.relname::text, pg_get_userbyid(c.relowner)::text"
            "  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname IN ('trading', 'ops_internal') AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
            " ORDER BY 1, 2"
        ).fetchall()
        for schema, table, owner in tables:
            with conn.transaction():
                conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(owner)))
                conn.execute(sql.SQL("ALTER TABLE {} ADD COLUMN {} text").format(
                    sql.Identifier(schema, table), sql.Identifier(COLUMN)))
            altered.append(f"{schema}.{table}")
        missing = conn.execute(
            "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname IN ('trading', 'ops_internal') AND c.relkind IN ('r', 'p')"
            "   AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = %s)",
            (COLUMN,),
        ).fetchall()
    assert not missing, f"tables without the new column: {missing}"
    return altered


def _runnable() -> dict[str, Callable[..., Any]]:
    """Every public function with a baseline that runs on a connection in a transaction."""
    # Autocommit only: order_updates (below) and refresh_continuous_aggregates (TimescaleDB refuses
    # a refresh inside a transaction block; the demo and the timescale tests call it).
    skipped = set(bad_input.EXEMPT) | {"ledger.orders.order_updates", "ops.rollups.refresh_continuous_aggregates"}
    return {name: func for name, func in sorted(bad_input.public_functions().items()) if name not in skipped}


def _run_baselines(conn: psycopg.Connection[Any], world: bad_input.World, edition: str) -> dict[str, str]:
    """Each valid call in a transaction of its own that is rolled back; what failed, and how."""
    counts = bad_input._counts_query(bad_input._tables(conn))
    table = bad_input.baselines(world)
    failed: dict[str, str] = {}
    for name, func in _runnable().items():
        problem = bad_input.run_case(conn, counts, func, table[name], None)
        if problem is not None:
            failed[name] = problem
    return failed


def _world(conninfo: str) -> bad_input.World:
    """The orders, alert and issue the baselines act on, committed."""
    with psycopg.connect(conninfo) as conn:
        world = bad_input._world(conn)
        conn.commit()
    return world


def _order_updates_still_arrive(conninfo: str, strategy_id: int) -> None:
    with psycopg.connect(conninfo, autocommit=True) as listener, psycopg.connect(conninfo) as writer:
        updates = orders.order_updates(listener, timeout=30, stop_after=1)
        staged = lh.stage(writer, strategy_id)
        writer.commit()
        (update,) = list(updates)
        assert update.order.id == staged.id and update.event.order_id == staged.id


def _report(failed: dict[str, str]) -> str:
    return "\n".join(f"  {name}: {why}" for name, why in failed.items())


def test_every_public_function_works_on_a_database_migrated_before_it(server: Server, fresh_db: str) -> None:
    world = _world(fresh_db)
    altered = add_column_everywhere(fresh_db)
    assert {"trading.staged_orders", "trading.stock_prices", "trading.strategies"} <= set(altered)
    assert len(_runnable()) >= 60, "the baselines of tests/test_bad_input.py were lost"
    with psycopg.connect(fresh_db) as conn:
        failed = _run_baselines(conn, world, server.edition)
    assert not failed, f"{len(failed)} public functions broke on the additive migration:\n{_report(failed)}"
    _order_updates_still_arrive(fresh_db, world.strategy_id)


def _prepare(pgconn: psycopg.pq.abc.PGconn, name: str, text: str) -> int:
    """Prepare ``text`` as ``name``; the number of its parameters."""
    prepared = pgconn.prepare(name.encode(), text.encode())
    assert prepared.status == psycopg.pq.ExecStatus.COMMAND_OK, (name, prepared.error_message)
    described = pgconn.describe_prepared(name.encode())
    assert described.status == psycopg.pq.ExecStatus.COMMAND_OK, (name, described.error_message)
    return described.nparams


def _run_prepared(pgconn: psycopg.pq.abc.PGconn, name: str, nparams: int) -> str | None:
    """Run a prepared statement (every parameter NULL) in a transaction rolled back; the error
    "cached plan must not change result type" when the server refuses it for that, else None."""
    pgconn.exec_(b"BEGIN")
    try:
        params: list[Any] = [None] * nparams
        result = pgconn.exec_prepared(name.encode(), params)
        if result.status == psycopg.pq.ExecStatus.FATAL_ERROR and result.error_field(
            psycopg.pq.DiagnosticField.SQLSTATE
        ) == b"0A000":  # feature_not_supported: the result columns changed under the plan
            return (result.error_message or b"").decode().strip()
        assert result.error_field(psycopg.pq.DiagnosticField.SQLSTATE) != b"08P01", result.error_message
        return None  # rows, or any other error of NULL parameters: the plan itself was accepted
    finally:
        pgconn.exec_(b"ROLLBACK")


def test_statements_prepared_before_the_migration_still_run_after(fresh_db: str) -> None:
    """A running process whose session prepared its statements (psycopg prepares a query run 5
    times) keeps them across the migration: each declared query, prepared before the ALTER TABLEs,
    is accepted after them. A prepared ``SELECT *`` is refused, as the control shows."""
    statements = {
        name: columns._numbered(
            sql.SQL(query.sql).format(**columns.TEMPLATES[name]).as_string(None)
            if name in columns.TEMPLATES else query.sql)
        for name, query in columns.declared().items()
        # The ingest queries read a staging table their own transaction creates (ON COMMIT DROP):
        # no statement of theirs outlives the transaction, let alone a migration.
        if "stage_" not in query.sql
    }
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements SCHEMA public")
        pgconn = conn.pgconn
        control = _prepare(pgconn, "control", "SELECT * FROM trading.strategies WHERE id = $1")
        nparams = {name: _prepare(pgconn, name, text) for name, text in statements.items()}
        add_column_everywhere(fresh_db)
        refused_control = _run_prepared(pgconn, "control", control)
        assert refused_control is not None and "cached plan must not change result type" in refused_control
        refused = {}
        for name, n in nparams.items():
            if (problem := _run_prepared(pgconn, name, n)) is not None:
                refused[name] = problem
    assert not refused, f"{len(refused)} prepared statements refused after the migration:\n{_report(refused)}"
