"""A comparable picture of a database's schema, for up/down/up and equality tests."""

from __future__ import annotations

from typing import Any

import psycopg

_QUERIES = {
    "relations": """
        SELECT n.nspname, c.relname, c.relkind::text
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname IN ('trading', 'ops_internal') ORDER BY 1, 2""",
    "columns": """
        SELECT table_schema, table_name, column_name, data_type, is_nullable, column_default
        FROM information_schema.columns
        WHERE table_schema IN ('trading', 'ops_internal') ORDER BY 1, 2, ordinal_position""",
    "constraints": """
        SELECT n.nspname, c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
        FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
        WHERE n.nspname IN ('trading', 'ops_internal') ORDER BY 1, 2, 3""",
    "indexes": """
        SELECT schemaname, tablename, indexname, indexdef FROM pg_indexes
        WHERE schemaname IN ('trading', 'ops_internal') ORDER BY 1, 2, 3""",
    "functions": """
        SELECT n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), md5(p.prosrc)
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname IN ('trading', 'ops_internal') ORDER BY 1, 2, 3""",
    "triggers": """
        SELECT event_object_schema, event_object_table, trigger_name, action_timing, event_manipulation
        FROM information_schema.triggers
        WHERE event_object_schema IN ('trading', 'ops_internal') ORDER BY 1, 2, 3, 5""",
    "views": """
        SELECT schemaname, viewname, md5(definition) FROM pg_views
        WHERE schemaname IN ('trading', 'ops_internal') ORDER BY 1, 2""",
    "grants": """
        SELECT table_schema, table_name, grantee, privilege_type
        FROM information_schema.role_table_grants
        WHERE table_schema IN ('trading', 'ops_internal') ORDER BY 1, 2, 3, 4""",
    "schemas": """
        SELECT nspname, pg_get_userbyid(nspowner) FROM pg_namespace
        WHERE nspname IN ('trading', 'ops_internal') ORDER BY 1""",
    "extensions": "SELECT extname FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY 1",
    "hypertables": """
        SELECT hypertable_schema, hypertable_name, num_dimensions
        FROM timescaledb_information.hypertables
        WHERE hypertable_schema IN ('trading', 'ops_internal') ORDER BY 1, 2""",
    "continuous_aggregates": """
        SELECT view_schema, view_name, materialized_only
        FROM timescaledb_information.continuous_aggregates ORDER BY 1, 2""",
    "jobs": """
        SELECT proc_name, hypertable_schema, hypertable_name, schedule_interval::text
        FROM timescaledb_information.jobs WHERE job_id >= 1000 ORDER BY 1, 2, 3""",
}


def snapshot(conninfo: str) -> dict[str, list[tuple[Any, ...]]]:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        has_ts = conn.execute("SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'").fetchone()
        out = {}
        for key, query in _QUERIES.items():
            if key in {"hypertables", "continuous_aggregates", "jobs"} and not (has_ts and has_ts[0]):
                out[key] = []
                continue
            out[key] = conn.execute(query).fetchall()  # type: ignore[arg-type]
        return out


def diff(a: dict[str, list[tuple[Any, ...]]], b: dict[str, list[tuple[Any, ...]]]) -> dict[str, Any]:
    """Only the sections that differ, with what each side has that the other lacks."""
    out = {}
    for key in a.keys() | b.keys():
        left, right = set(a.get(key, [])), set(b.get(key, []))
        if left != right:
            out[key] = {"only_first": sorted(left - right, key=str), "only_second": sorted(right - left, key=str)}
    return out
