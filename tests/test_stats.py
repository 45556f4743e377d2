"""`ops-db stats`: every relation from the catalog, chunks, compression ratio, rows, top queries."""

from __future__ import annotations

import json

import psycopg

from ops_db.ops.stats import collect
from tests.conftest import Server
from tests.ops_helpers import clean_env, fill, ops_db


def test_stats_cover_every_relation_with_sizes_chunks_and_rows(server: Server, fresh_db: str) -> None:
    fill(fresh_db, server.edition, rows=1000)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        found = collect(conn, exact=True)
        relations = {f"{r.schema_name}.{r.relation_name}": r for r in found.relations}
        catalog = {f"{s}.{n}" for s, n in conn.execute(
            "SELECT schemaname, tablename FROM pg_tables WHERE schemaname IN ('trading', 'ops_internal')")}
    assert catalog <= set(relations), "every table of trading and ops_internal is listed"
    ticks = relations["trading.ops_test_ticks"]
    assert ticks.kind == "hypertable" and ticks.chunks >= 5 and ticks.total_bytes > 0
    assert ticks.estimated_rows > 0  # ANALYZE ran in fill()
    assert found.exact_rows is not None and found.exact_rows["trading.ops_test_ticks"] == 1000
    assert found.exact_rows["trading.ops_test_notes"] == 300
    assert any(c.hypertable == "trading.ops_test_ticks" for c in found.compression)
    assert found.pool.max_size >= found.pool.min_size >= 0
    assert found.sessions
    if server.edition == "timescale":
        assert relations["trading.ops_test_ticks_1h"].kind == "continuous_aggregate"


def test_compression_ratio_on_timescale(server: Server, fresh_db: str) -> None:
    fill(fresh_db, server.edition, rows=1000)
    if server.edition != "timescale":
        with psycopg.connect(fresh_db, autocommit=True) as conn:
            stat = next(c for c in collect(conn).compression if c.hypertable == "trading.ops_test_ticks")
        assert stat.compressed_chunks == 0 and stat.ratio is None  # reported, never an error
        return
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("ALTER TABLE trading.ops_test_ticks SET (timescaledb.compress,"
                     " timescaledb.compress_segmentby = 'symbol')")
        conn.execute("SELECT compress_chunk(c) FROM show_chunks('trading.ops_test_ticks') c")
        stat = next(c for c in collect(conn).compression if c.hypertable == "trading.ops_test_ticks")
    assert stat.compressed_chunks == stat.total_chunks > 0
    assert stat.ratio is not None and stat.ratio > 0


def test_stats_cli_json_and_top_queries(fresh_db: str) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    done = ops_db("stats", "--json", "--exact", env=clean_env(OPS_DB_URL=fresh_db))
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert {"relations", "compression", "exact_rows", "top_queries", "sessions", "pool"} <= set(data)
    assert data["top_queries"] is not None, data["top_queries_note"]
    text = ops_db("stats", env=clean_env(OPS_DB_URL=fresh_db))
    assert text.returncode == 0 and "compression per hypertable" in text.stdout


def test_piped_stats_never_cut_long_names(fresh_db: str) -> None:
    """`ops-db stats | cat`: stdout is a pipe; two long names alike but for their ends stay whole and apart."""
    stem = "ops_test_a_name_long_enough_to_be_cut_by_a_table_view"  # + end: 63 bytes at most
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        for end in ("_first", "_second"):
            conn.execute(f"CREATE TABLE trading.{stem}{end} (id int)")  # type: ignore[arg-type]
    for env in (clean_env(OPS_DB_URL=fresh_db), clean_env(OPS_DB_URL=fresh_db, COLUMNS="40")):
        done = ops_db("stats", env=env)  # capture_output: stdout is a pipe, as with `| cat`
        assert done.returncode == 0, done.stderr
        rows = [line.split("\t") for line in done.stdout.splitlines()]
        names = [r[0] for r in rows if len(r) == 5]
        assert f"trading.{stem}_first" in names and f"trading.{stem}_second" in names, done.stdout
        assert len(names) == len(set(names))
        assert "…" not in done.stdout


def test_on_a_narrow_terminal_long_names_fold_and_are_never_cut() -> None:
    from rich.console import Console

    from ops_db.ops.stats import PoolSettings, RelationSize, SessionCount, Stats, render

    names = [f"a_relation_name_far_longer_than_the_column_it_is_given_{end}" for end in ("first", "second")]
    found = Stats(tuple(RelationSize("trading", n, "table", 8192, 0, 1) for n in names), (), None, None, "n/a",
                  (SessionCount("app", "idle", 1),), PoolSettings(1, 10, 10.0))
    console = Console(force_terminal=True, width=60, color_system=None, record=True)
    render(found, console)
    text = console.export_text()
    assert "…" not in text
    first_cells = "".join(line.split("│")[1].strip() for line in text.splitlines() if line.startswith("│"))
    for name in names:
        assert f"trading.{name}" in first_cells, text
