"""Draws docs/schema.svg from a migrated database: python -m tests.schema_diagram [CONNINFO]

Tables of trading and ops_internal with their keys (primary key columns, foreign keys as edges),
hypertables marked, and the rollups (continuous aggregates on the timescale edition, tables kept
by `ops-db maintain` on apache: one name each, so one drawing serves both) with an edge from what
each is rolled up from. The Graphviz source goes to docs/schema.dot, which tests/test_schema_diagram.py
compares with the catalog; the SVG is rendered from it by Graphviz's `dot` and carries its hash.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from html import escape
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
DOT, SVG = ROOT / "docs" / "schema.dot", ROOT / "docs" / "schema.svg"

ROLLUPS = "SELECT name, source FROM ops_internal.rollup ORDER BY name"
HYPERTABLES = """
SELECT hypertable_schema || '.' || hypertable_name FROM timescaledb_information.hypertables ORDER BY 1
"""
TABLES = """
SELECT n.nspname || '.' || c.relname, c.oid, c.relkind::text
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname IN ('trading', 'ops_internal') AND c.relkind IN ('r', 'p', 'v', 'm')
  AND c.relname NOT LIKE '\\_%' AND NOT c.relispartition
ORDER BY 1
"""
PRIMARY_KEY = """
SELECT a.attname FROM pg_constraint con
JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, n) ON true
JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
WHERE con.conrelid = %s AND con.contype = 'p' ORDER BY k.n
"""
FOREIGN_KEYS = """
SELECT con.conname, fn.nspname || '.' || fc.relname,
       (SELECT string_agg(a.attname, ', ' ORDER BY k.n) FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, n)
          JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum)
FROM pg_constraint con
JOIN pg_class fc ON fc.oid = con.confrelid JOIN pg_namespace fn ON fn.oid = fc.relnamespace
WHERE con.conrelid = %s AND con.contype = 'f' ORDER BY con.conname
"""


def _node(name: str, kind: str, keys: list[str]) -> str:
    colour = {"hypertable": "#dbeafe", "rollup": "#dcfce7", "table": "#f1f5f9", "view": "#fef9c3"}[kind]
    rows = "".join(f'<tr><td align="left">{escape(k)}</td></tr>' for k in keys)
    label = (f'<<table border="0" cellborder="1" cellspacing="0" bgcolor="{colour}">'
             f'<tr><td><b>{escape(name)}</b></td></tr><tr><td><i>{kind}</i></td></tr>{rows}</table>>')
    return f'  "{name}" [shape=plain label={label}];'


def render_dot(conninfo: str) -> str:
    with psycopg.connect(conninfo) as conn:
        rollups: dict[str, str] = dict(conn.execute(ROLLUPS).fetchall())  # type: ignore[arg-type]
        hypertables = {row[0] for row in conn.execute(HYPERTABLES).fetchall()}
        nodes, edges = [], []
        clusters: dict[str, list[str]] = {"trading": [], "ops_internal": []}
        for name, oid, relkind in conn.execute(TABLES).fetchall():
            relation: Any = oid
            if name in rollups:
                kind = "rollup"
            elif name in hypertables:
                kind = "hypertable"
            else:
                kind = "view" if relkind in ("v", "m") else "table"
            keys = [] if kind == "rollup" else [f"PK {c}" for (c,) in conn.execute(PRIMARY_KEY, (relation,)).fetchall()]
            for constraint, target, columns in conn.execute(FOREIGN_KEYS, (relation,)).fetchall():
                keys.append(f"FK {columns} → {target.split('.', 1)[1]}")
                edges.append(f'  "{name}" -> "{target}" [tooltip="{escape(constraint)}"];')
            clusters[name.split(".", 1)[0]].append(_node(name, kind, keys))
        for rollup, source in sorted(rollups.items()):
            edges.append(f'  "{source}" -> "{rollup}" [style=dashed color="#16a34a" tooltip="rolled up"];')
    for schema, members in clusters.items():
        nodes.append(f'  subgraph "cluster_{schema}" {{\n    label="{schema}";\n  ' + "\n  ".join(members) + "\n  }")
    return (
        "// Generated from a migrated database by `python -m tests.schema_diagram`; do not edit.\n"
        "digraph schema {\n"
        '  graph [rankdir=LR fontname="Helvetica" fontsize=12 nodesep=0.25 ranksep=0.6];\n'
        '  node [fontname="Helvetica" fontsize=10];\n  edge [color="#64748b" arrowsize=0.6];\n'
        + "\n".join(nodes) + "\n" + "\n".join(edges) + "\n}\n"
    )


def dot_hash(dot: str) -> str:
    return hashlib.sha256(dot.encode()).hexdigest()


def render_svg(dot: str) -> str:
    done = subprocess.run(["dot", "-Tsvg"], input=dot, capture_output=True, text=True, check=True, timeout=120)
    svg = done.stdout
    marker = f"<!-- rendered from docs/schema.dot sha256 {dot_hash(dot)} -->\n"
    return svg.replace("<svg", marker + "<svg", 1)


def main(argv: list[str]) -> int:
    conninfo = argv[1] if len(argv) > 1 else ""
    dot = render_dot(conninfo)
    DOT.write_text(dot)
    SVG.write_text(render_svg(dot))
    print(f"wrote {DOT.relative_to(ROOT)} and {SVG.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
