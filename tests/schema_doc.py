"""Renders docs/schema.md from a migrated database: python -m tests.schema_doc [CONNINFO] > docs/schema.md
(`make docs` regenerates it and docs/schema.sql from a scratch database it migrates).

The rendering leaves out what differs between TimescaleDB editions on purpose (whether a
rollup is a continuous aggregate or a table), so one document describes both, and the test
that compares it with each edition proves they expose the same names and columns.
"""

from __future__ import annotations

import sys

import psycopg

RELATIONS = """
SELECT n.nspname, c.relname, c.oid, coalesce(obj_description(c.oid, 'pg_class'), '')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname IN ('trading', 'ops_internal') AND c.relkind IN ('r', 'p', 'v', 'm')
  AND c.relname NOT LIKE '\\_%'
ORDER BY 1, 2
"""
COLUMNS = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull
FROM pg_attribute a WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
"""
FUNCTIONS = """
SELECT n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), pg_get_function_result(p.oid),
       coalesce(obj_description(p.oid, 'pg_proc'), '')
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'trading' AND p.prokind IN ('f', 'p') AND p.prorettype <> 'trigger'::regtype
ORDER BY 1, 2, 3
"""


def render(conninfo: str) -> str:
    out = [
        "# Schema reference",
        "",
        "Generated from a migrated database by `make docs` (`python -m tests.schema_doc > docs/schema.md`);",
        "`tests/test_schema_doc.py` fails when migrations and this file disagree, on either",
        "TimescaleDB edition. Rollups (`*_1m`, `_5m`, `_1h`, `_1d`, `options_volume_1h`,",
        "`signal_performance_1d`) are continuous aggregates on the timescale edition and tables",
        "kept by `ops-db maintain` on the apache edition, with the same columns.",
        "",
    ]
    with psycopg.connect(conninfo) as conn:
        current = None
        for schema, name, oid, comment in conn.execute(RELATIONS).fetchall():  # type: ignore[arg-type]
            if schema != current:
                out += [f"## Schema `{schema}`", ""]
                current = schema
            out.append(f"### `{schema}.{name}`")
            out.append("")
            if comment:
                out += [comment.strip(), ""]
            out += ["| column | type |", "|---|---|"]
            for column, type_, _notnull in conn.execute(COLUMNS, (oid,)).fetchall():  # type: ignore[arg-type]
                out.append(f"| `{column}` | {type_} |")
            out.append("")
        out += ["## Functions in `trading`", "", "| function | returns | what |", "|---|---|---|"]
        for _schema, name, args, result, comment in conn.execute(FUNCTIONS).fetchall():  # type: ignore[arg-type]
            what = " ".join(comment.split())
            out.append(f"| `{name}({args})` | {result.replace('|', '/')} | {what} |")
    return "\n".join(out) + "\n"


def _main(argv: list[str]) -> int:
    if len(argv) > 1:
        conninfo = argv[1]
    else:
        from ops_db.core.settings import resolve

        conninfo = resolve().conninfo
    sys.stdout.write(render(conninfo))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv))
