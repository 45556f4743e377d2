"""ingest memory: peak RSS of a fresh Python process that ingests N generated ticks through
ops_db.market.ingest_price_stream, at two sizes (N/10 and N): flat means < 200 MB and no growth.

The rows it writes are the shared price database the bars and latest benchmarks query.
"""

from __future__ import annotations

from typing import Any

from benchmarks.common import Result, Scratch, Side
from benchmarks.data import LIQUID, WIDE, shared_prices

LIMIT_MB = 200.0
GROWTH = 1.25  # peak at N over peak at N/10: at most this to count as flat


def run(scratch: Scratch, rounds: int, *, memory_rows: int = 10_000_000, shared: dict[str, Any] | None = None,
        **_: object) -> list[Result]:
    shared = shared if shared is not None else {}
    small_rows = max(memory_rows // 10, 1_000)
    fresh = "prices" not in shared
    state = shared_prices(scratch, shared, wide_rows=small_rows)
    shared_prices(scratch, shared, liquid_rows=memory_rows)
    if not fresh:
        raise RuntimeError("the shared price database was loaded before the memory benchmark ran")
    figures: dict[str, dict[str, float]] = state["figures"]
    small, big = figures.get(WIDE[0]), figures.get(LIQUID[0])
    if small is None or big is None:
        raise RuntimeError("the shared price database was loaded before the memory benchmark ran")
    peak_big = big["peak_rss_kb"] / 1024
    peak_small = small["peak_rss_kb"] / 1024
    result = Result(
        "ingest memory",
        f"peak RSS (VmHWM) of a process ingesting {memory_rows:,} ticks from a generator ÷ {small_rows:,} ticks",
        Side(f"peak RSS at {memory_rows:,} rows", "MB", [peak_big]),
        Side(f"peak RSS at {small_rows:,} rows", "MB", [peak_small]),
        f"< {LIMIT_MB:.0f} MB, flat",
        extra={"rows": memory_rows, "small_rows": small_rows, "rows_per_s": big["rows"] / big["seconds"],
               "small_rows_per_s": small["rows"] / small["seconds"], "start_rss_mb": big["start_rss_kb"] / 1024,
               "database": state["db"]},
    ).finish()
    result.met = peak_big < LIMIT_MB and (result.ratio or 0) <= GROWTH
    result.note = f"ingest {big['rows'] / big['seconds']:,.0f} rows/s in the child"
    return [result]
