"""psql is self-describing: every relation, column and function users read has a COMMENT.

Covered: every table, view and materialized view of `trading` with all their columns, every
function of `trading` except trigger functions, and the ops_internal objects listed below.
Left out: trigger functions (not called by users) and TimescaleDB's own objects (extension
members, and names starting with `_`, as in tests/schema_doc.py). The failure message lists
each missing comment as the statement to add to sql/schema/900_comments.sql.
"""

from __future__ import annotations

import psycopg

# The ops_internal objects operators and the app read (ops-db maintain, health, stats, backups).
OPS_INTERNAL_RELATIONS = (
    "ops_internal.data_relations",
    "ops_internal.maintenance_runs",
    "ops_internal.retention",
    "ops_internal.rollup",
    "ops_internal.rollup_invalidation",
    "ops_internal.system_events_critical",
    "ops_internal.system_events_routine",
)
OPS_INTERNAL_FUNCTIONS = (
    "ops_internal.apply_retention(boolean)",
    "ops_internal.materialize_rollup(text,timestamp with time zone,timestamp with time zone)",
    "ops_internal.refresh_rollup_tables(boolean)",
    "ops_internal.rollup_policy_start_offset(text)",
    "ops_internal.rollup_status()",
    "ops_internal.timescaledb_edition()",
)

# Relations: every one of trading, plus the listed ops_internal ones that exist.
_RELATIONS = """
SELECT c.oid, c.relkind::text, format('%%I.%%I', n.nspname, c.relname)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'v', 'm') AND NOT c.relispartition
   AND c.relname NOT LIKE '\\_%%'
   AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                                             AND d.deptype = 'e')
   AND (n.nspname = 'trading' OR format('%%I.%%I', n.nspname, c.relname) = ANY (%(listed)s))
 ORDER BY 3
"""
_COLUMNS = """
SELECT quote_ident(a.attname), coalesce(btrim(col_description(a.attrelid, a.attnum)), '') = ''
  FROM pg_attribute a
 WHERE a.attrelid = %(oid)s AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY a.attnum
"""
_FUNCTIONS = """
SELECT p.oid::regprocedure::text
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE p.prokind IN ('f', 'p', 'a', 'w') AND p.prorettype <> 'trigger'::regtype
   AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                                             AND d.deptype = 'e')
   AND (n.nspname = 'trading' OR p.oid::regprocedure::text = ANY (%(listed)s))
   AND coalesce(btrim(obj_description(p.oid, 'pg_proc')), '') = ''
 ORDER BY 1
"""
_FUNCTIONS_PRESENT = """
SELECT p.oid::regprocedure::text FROM pg_proc p WHERE p.oid::regprocedure::text = ANY (%(listed)s)
"""
_KEYWORD = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW"}


def missing_comments(conninfo: str) -> list[str]:
    """One line per object without a comment, written as the COMMENT statement to add."""
    out: list[str] = []
    with psycopg.connect(conninfo) as conn:
        conn.execute("SET search_path = pg_catalog")  # regprocedure and format() then qualify every name
        relations = conn.execute(_RELATIONS, {"listed": list(OPS_INTERNAL_RELATIONS)}).fetchall()
        found = {name for _oid, _kind, name in relations}
        out += [
            f"-- listed in tests/test_comments.py but absent: {name}"
            for name in OPS_INTERNAL_RELATIONS
            if name not in found
        ]
        for oid, relkind, name in relations:
            row = conn.execute("SELECT coalesce(btrim(obj_description(%s, 'pg_class')), '')", (oid,)).fetchone()
            if not row or not row[0]:
                out.append(f"COMMENT ON {_KEYWORD[relkind]} {name} IS '...';")
            for column, missing in conn.execute(_COLUMNS, {"oid": oid}).fetchall():
                if missing:
                    out.append(f"COMMENT ON COLUMN {name}.{column} IS '...';")
        present = {r[0] for r in conn.execute(_FUNCTIONS_PRESENT, {"listed": list(OPS_INTERNAL_FUNCTIONS)})}
        out += [
            f"-- listed in tests/test_comments.py but absent: {name}"
            for name in OPS_INTERNAL_FUNCTIONS
            if name not in present
        ]
        for (signature,) in conn.execute(_FUNCTIONS, {"listed": list(OPS_INTERNAL_FUNCTIONS)}).fetchall():
            out.append(f"COMMENT ON FUNCTION {signature} IS '...';")
    return out


def test_every_relation_column_and_function_has_a_comment(shared_db: str) -> None:
    missing = missing_comments(shared_db)
    assert not missing, (
        f"{len(missing)} object(s) without a comment; add to sql/schema/900_comments.sql (in the object's "
        "section, and its migration to `-- requires:`):\n" + "\n".join(missing)
    )


def test_a_new_uncommented_object_is_reported(fresh_db: str) -> None:
    """The check above can fail: new columns, relations and functions are named; trigger functions are not."""
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("SET ROLE ops_owner")
        conn.execute("ALTER TABLE trading.positions ADD COLUMN probe_note text")
        conn.execute("CREATE TABLE trading.probe_table (probe_id int)")
        conn.execute("CREATE VIEW trading.probe_view AS SELECT 1 AS one")
        conn.execute("CREATE FUNCTION trading.probe_fn(p integer) RETURNS integer LANGUAGE sql AS 'SELECT p'")
        conn.execute(
            "CREATE FUNCTION trading.probe_trigger() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'"
        )
        conn.execute("COMMENT ON COLUMN trading.strategies.name IS NULL")
        conn.execute("COMMENT ON COLUMN ops_internal.retention.note IS '  '")
        conn.execute("COMMENT ON FUNCTION ops_internal.rollup_status() IS NULL")
        conn.execute("DROP VIEW ops_internal.data_relations")
    assert sorted(missing_comments(fresh_db)) == sorted(
        [
            "-- listed in tests/test_comments.py but absent: ops_internal.data_relations",
            "COMMENT ON COLUMN trading.positions.probe_note IS '...';",
            "COMMENT ON TABLE trading.probe_table IS '...';",
            "COMMENT ON COLUMN trading.probe_table.probe_id IS '...';",
            "COMMENT ON VIEW trading.probe_view IS '...';",
            "COMMENT ON COLUMN trading.probe_view.one IS '...';",
            "COMMENT ON FUNCTION trading.probe_fn(integer) IS '...';",
            "COMMENT ON COLUMN trading.strategies.name IS '...';",
            "COMMENT ON COLUMN ops_internal.retention.note IS '...';",
            "COMMENT ON FUNCTION ops_internal.rollup_status() IS '...';",
        ]
    )


def test_trading_lists_no_trigger_functions(shared_db: str) -> None:
    """`\\df trading.*` shows what analysts and the app call, not the ledger's trigger functions."""
    with psycopg.connect(shared_db) as conn:
        rows = conn.execute(
            "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
            " WHERE n.nspname = 'trading' AND p.prorettype = 'trigger'::regtype ORDER BY 1"
        ).fetchall()
        moved = conn.execute(
            "SELECT count(*) FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid"
            " JOIN pg_namespace n ON n.oid = p.pronamespace"
            " WHERE t.tgrelid = 'trading.staged_orders'::regclass AND n.nspname = 'ops_internal'"
            " AND p.proname IN ('staged_orders_guard', 'staged_orders_audit')"
        ).fetchone()
    assert rows == [], f"trigger functions left in schema trading: {[r[0] for r in rows]}"
    assert moved == (2,)  # the order guard and audit still fire, from ops_internal
