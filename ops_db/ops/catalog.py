"""The data-holding relations of ops-db, found through the catalog, and their row counts.

Nothing here lists tables by name: whatever the migrations created in ``trading`` and
``ops_internal`` (tables, hypertables, continuous aggregates) is covered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import class_row

from ops_db.core.error_map import map_errors
from ops_db.core.queries import q


@dataclass(frozen=True)
class Relation:
    schema_name: str
    relation_name: str
    kind: str  # table | hypertable | continuous_aggregate | materialized_view

    @property
    def qualified(self) -> str:
        return f"{self.schema_name}.{self.relation_name}"

    @property
    def identifier(self) -> sql.Identifier:
        return sql.Identifier(self.schema_name, self.relation_name)


def data_relations(conn: psycopg.Connection[Any]) -> list[Relation]:
    with map_errors(), conn.cursor(row_factory=class_row(Relation)) as cur:
        return cur.execute(q("data_relations")).fetchall()


def count_rows(conn: psycopg.Connection[Any], relation: Relation) -> int:
    with map_errors():
        row = conn.execute(sql.SQL(q("count_rows")).format(relation=relation.identifier)).fetchone()
    assert row is not None
    return int(row[0])


def row_counts(conn: psycopg.Connection[Any], only: set[str] | None = None) -> dict[str, int]:
    """Exact rows of every data relation (or of those named in ``only``), by qualified name."""
    return {
        rel.qualified: count_rows(conn, rel)
        for rel in data_relations(conn)
        if only is None or rel.qualified in only
    }
