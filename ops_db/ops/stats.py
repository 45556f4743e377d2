"""`ops-db stats`: sizes, chunks, compression, rows, top queries and pool settings."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import class_row

from ops_db.core import settings
from ops_db.core.error_map import map_errors
from ops_db.core.queries import q
from ops_db.ops.catalog import row_counts
from ops_db.ops.units import fmt


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
    with map_errors(), conn.cursor(row_factory=class_row(RelationSize)) as cur:
        return cur.execute(q("relation_sizes")).fetchall()


def compression_stats(conn: psycopg.Connection[Any]) -> list[CompressionStat]:
    with map_errors(), conn.cursor(row_factory=class_row(CompressionStat)) as cur:
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
    with map_errors(), conn.cursor(row_factory=class_row(SessionCount)) as cur:
        return cur.execute(q("connections_by_application")).fetchall()


def pool_settings() -> PoolSettings:
    sizes = settings.pool_sizes()
    return PoolSettings(sizes.min_size, sizes.max_size, settings.pool_timeout())


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


# -- output -----------------------------------------------------------------------------
def _sections(found: Stats, exact: bool) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) of every table `ops-db stats` shows, as text cells."""

    relations = []
    for r in found.relations:
        name = f"{r.schema_name}.{r.relation_name}"
        rows = found.exact_rows.get(name, 0) if found.exact_rows is not None else r.estimated_rows
        relations.append([name, r.kind, fmt(r.total_bytes, "bytes"), str(r.chunks or ""), f"{rows:,}"])
    compression = [
        [c.hypertable, str(c.total_chunks), str(c.compressed_chunks),
         fmt(c.before_bytes, "bytes") if c.before_bytes else "-",
         fmt(c.after_bytes, "bytes") if c.after_bytes else "-",
         f"{c.ratio:.1f}x" if c.ratio else "-"]
        for c in found.compression
    ]
    out = [
        ("relations (trading, ops_internal)", ["relation", "kind", "size", "chunks", "rows" if exact else
                                               "rows (estimate)"], relations),
        ("compression per hypertable", ["hypertable", "chunks", "compressed", "before", "after", "ratio"],
         compression),
    ]
    if found.top_queries is not None:
        out.append(("top queries by total time (pg_stat_statements)", ["total ms", "calls", "mean ms", "rows", "query"],
                    [[str(t.total_ms), str(t.calls), str(t.mean_ms), str(t.rows), t.query]
                     for t in found.top_queries]))
    return out


def _footer(found: Stats) -> list[str]:
    lines = [] if found.top_queries is not None else [f"top queries: {found.top_queries_note}"]
    lines.append("sessions: " + ", ".join(f"{s.application_name} {s.state} {s.sessions}" for s in found.sessions))
    lines.append(f"pool: OPS_DB_POOL_MIN={found.pool.min_size} OPS_DB_POOL_MAX={found.pool.max_size} "
                 f"OPS_DB_POOL_TIMEOUT={found.pool.timeout_seconds:g}s")
    return lines


def _cell(text: str) -> str:
    return " ".join(text.split())  # a tab or newline inside a name would break the columns


def render(found: Stats, console: Any, *, exact: bool = False) -> None:
    """Tables on a terminal; piped (not a terminal): tab-separated lines, so no name is ever cut.

    ``console`` is a rich Console; its width matters only on a terminal, where names fold
    onto a second line rather than being cut.
    """
    import sys

    from rich.table import Table

    if not console.is_terminal:
        write = sys.stdout.write
        for title, header, rows in _sections(found, exact):
            write(f"# {title}\n" + "\t".join(header) + "\n")
            for row in rows:
                write("\t".join(_cell(c) for c in row) + "\n")
            write("\n")
        for line in _footer(found):
            write(line + "\n")
        sys.stdout.flush()
        return
    for title, header, rows in _sections(found, exact):
        table = Table(title=title)
        for i, col in enumerate(header):
            folds = i == 0 or col == "query"  # names and query text fold onto more lines, never cut
            widest = max((len(r[i]) for r in rows), default=len(col))
            table.add_column(col, justify="left" if folds or col == "kind" else "right", overflow="fold",
                             no_wrap=not folds, min_width=min(widest, 20) if i == 0 else None)
        for row in rows:
            table.add_row(*row)
        console.print(table)
    for line in _footer(found):
        console.print(line)
