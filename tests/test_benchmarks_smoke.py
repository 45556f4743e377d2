"""The benchmarks run end to end at tiny sizes and check their own results (no timing asserted)."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks import (
    bench_bars,
    bench_compression,
    bench_growth,
    bench_ingest,
    bench_latest,
    bench_memory,
    bench_orders,
)
from benchmarks.common import Result, Scratch
from tests.conftest import Server


@pytest.fixture
def scratch(server: Server) -> Any:
    s = Scratch(server.admin)
    try:
        yield s
    finally:
        s.close()


def _figures(result: Result) -> None:
    assert result.ours.values and all(v > 0 for v in result.ours.values)
    if result.baseline is not None:
        assert result.baseline.values and result.ratio is not None and result.ratio > 0


def test_ingest_benchmark_writes_and_counts_the_same_rows(scratch: Scratch) -> None:
    results = bench_ingest.run(scratch, 3, rows=3_000, naive_rows=300)
    assert [r.name for r in results] == ["ingest vs asyncpg (sync)", "ingest vs asyncpg (async)", "price ingest",
                                         "price ingest, naive"]
    for result in results:
        _figures(result)
        assert len(result.ours.values) == len(result.baseline.values) == 3  # type: ignore[union-attr]
    assert results[-1].extra["rows"] == 300 and results[0].extra["rows"] == 3_000


def test_memory_bars_and_latest_share_one_loaded_database(scratch: Scratch, server: Server) -> None:
    shared: dict[str, Any] = {}
    [memory] = bench_memory.run(scratch, 1, memory_rows=6_000, shared=shared)
    assert memory.extra["rows"] == 6_000 and memory.extra["small_rows"] == 1_000
    assert 0 < memory.ours.median < 1_000  # MB: a real VmHWM was read from the child
    [bars] = bench_bars.run(scratch, 2, bars_rows=6_000, edition=server.edition, shared=shared, bars_minutes=10,
                            bars_seconds=0.05)
    _figures(bars)
    assert bars.extra["price_rows"] == 7_000  # 6 000 liquid + 1 000 wide, loaded once
    latest, history = bench_latest.run(scratch, 2, memory_rows=6_000, shared=shared, latest_seconds=0.05,
                                       latest_history_days=1, latest_tick_minutes=60)
    _figures(latest)
    _figures(history)
    assert history.extra["price_rows"] == {"without": 2_400, "with": 24_000}
    assert history.extra["chunks"]["with"] >= 10 > history.extra["chunks"]["without"]
    assert len(scratch.created) == 1  # the shared price database, dropped by the fixture (history ones: by run)


def test_orders_benchmark_fills_every_cycle(scratch: Scratch) -> None:
    [result] = bench_orders.run(scratch, 1, cycles=12, pgbench_seconds=1)
    _figures(result)


def test_compression_benchmark(scratch: Scratch, server: Server) -> None:
    results = bench_compression.run(scratch, 1, edition=server.edition, compression_days=2, compression_symbols=2,
                                    compression_dense_days=1, compression_tick_seconds=10, compression_chain_minutes=10)
    assert [r.name.split(" (")[0] for r in results] == ["compression, prices", "compression, options"] * 2
    assert "demo" in results[0].name and "dense" in results[2].name
    for result in results:
        if server.edition == "timescale":
            _figures(result)
            assert result.extra["chunks"] >= 1 and result.extra["segments"] == 2
            assert result.extra["rows"] == result.extra["rows_per_segment_chunk"] * 2 * result.extra["chunks"]
            assert 0 < result.extra["after_column_data_bytes"] < result.ours.median
        else:
            assert result.note == "n/a (apache edition)" and result.ratio is None
    if server.edition == "timescale":
        demo_prices, dense_prices = results[0], results[2]
        assert demo_prices.extra["chunks"] == 2 and demo_prices.extra["rows_per_segment_chunk"] == 780
        assert dense_prices.extra["rows_per_segment_chunk"] == 2_340  # a tick every 10 s
        assert "close_price" in dense_prices.extra["after_bytes_per_row_by_column"]
        assert scratch.created == []  # each data set's database is dropped


def test_growth_curves_measure_every_stage_side_by_side(scratch: Scratch, server: Server, tmp_path: Any) -> None:
    results = bench_growth.run(scratch, 2, growth_rows=20_000, growth_batch=500, edition=server.edition,
                               bars_seconds=0.05)
    assert [r.name for r in results] == ["ingest as the table grows", "rollup upkeep as the table grows",
                                         "bars as history grows"]
    for result in results:
        _figures(result)
    stages = [[point["stage"] for point in r.extra["curve"]] for r in results]
    assert stages == [["empty", "1 week", "1 month", "1 year"]] + [["1 week", "1 month", "1 year"]] * 2
    rows = [point["rows"] for point in results[0].extra["curve"]]
    assert rows[0] == 0 and rows == sorted(rows) and rows[-1] == 10 * 5 * 365  # 5 ticks a day a symbol
    assert scratch.created == []  # every stage database dropped
    from benchmarks import plot

    written = plot.plot([r.as_json() for r in results], tmp_path, server.edition)
    curves = ("ingest", "upkeep", "bars")
    assert [p.name for p in written] == [f"growth-{curve}-{server.edition}.png" for curve in curves]
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in written)
