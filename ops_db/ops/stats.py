"""`ops-db stats`: sizes, chunks, compression, rows, top queries and pool settings."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import class_row

from ops_db import settings
from ops_db.errors import wrap_errors
from ops_db.ops.catalog import row_counts
from ops_db.queries import q


@dataclass(frozen=True)
class RelationSize:
    schema_name: str
    relation_name: str
    kind: str
    total_bytes: int
    chunks: int
    estimated_rows: int


@dataclass(frozen=True)
class CompressionStat:
    hypertable: str
    total_chunks: int
    compressed_chunks: int
    before_bytes: int | None
    after_bytes: int | None

    @property
    def ratio(self) -> float | None:
        """Bytes before compression per byte after, over the compressed chunks."""
        if not self.before_bytes or not self.after_bytes:
            return None
        return self.before_bytes / self.after_bytes


@dataclass(frozen=True)
class TopQuery:
    query: str
    calls: int
    total_ms: Decimal
    mean_ms: Decimal
    rows: int


@dataclass(frozen=True)
class SessionCount:
    application_name: str
    state: str
    sessions: int


@dataclass(frozen=True)
class PoolSettings:
    min_size: int
    max_size: int
    timeout_seconds: float


@dataclass(frozen=True)
class Stats:
    relations: tuple[RelationSize, ...]
    compression: tuple[CompressionStat, ...]
    exact_rows: dict[str, int] | None
    top_queries: tuple[TopQuery, ...] | None  # None: pg_stat_statements not installed here
    top_queries_note: str
    sessions: tuple[SessionCount, ...]
    pool: PoolSettings


def relation_sizes(conn: psycopg.Connection[Any]) -> list[RelationSize]:
    with wrap_errors(), conn.cursor(row_factory=class_row(RelationSize)) as cur:
        return cur.execute(q("relation_sizes")).fetchall()


def compression_stats(conn: psycopg.Connection[Any]) -> list[CompressionStat]:
    with wrap_errors(), conn.cursor(row_factory=class_row(CompressionStat)) as cur:
        return cur.execute(q("compression_stats")).fetchall()


def top_queries(conn: psycopg.Connection[Any], limit: int = 10) -> tuple[list[TopQuery] | None, str]:
    """The costliest statements, or None and why when pg_stat_statements is unavailable."""
    row = conn.execute(q("pg_stat_statements_installed")).fetchone()
    if row is None:
        return None, "pg_stat_statements is not installed in this database (CREATE EXTENSION pg_stat_statements)"
    query = sql.SQL(q("top_queries")).format(schema=sql.Identifier(str(row[0])))
    try:
        with conn.cursor(row_factory=class_row(TopQuery)) as cur:
            return cur.execute(query, {"limit": limit}).fetchall(), ""
    except psycopg.Error as exc:
        return None, f"pg_stat_statements unreadable: {(exc.diag.message_primary or str(exc)).strip()}"


def sessions(conn: psycopg.Connection[Any]) -> list[SessionCount]:
    with wrap_errors(), conn.cursor(row_factory=class_row(SessionCount)) as cur:
        return cur.execute(q("connections_by_application")).fetchall()


def pool_settings() -> PoolSettings:
    return PoolSettings(
        settings.env_int("OPS_DB_POOL_MIN", 1),
        settings.env_int("OPS_DB_POOL_MAX", 10, minimum=1),
        settings.env_float("OPS_DB_POOL_TIMEOUT", 10.0),
    )


def collect(conn: psycopg.Connection[Any], *, exact: bool = False, top: int = 10) -> Stats:
    """Everything `ops-db stats` shows; ``conn`` should be in autocommit mode."""
    queries, note = top_queries(conn, top)
    return Stats(
        relations=tuple(relation_sizes(conn)),
        compression=tuple(compression_stats(conn)),
        exact_rows=row_counts(conn) if exact else None,
        top_queries=tuple(queries) if queries is not None else None,
        top_queries_note=note,
        sessions=tuple(sessions(conn)),
        pool=pool_settings(),
    )
