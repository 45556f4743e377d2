"""Deterministic price rows for the benchmarks, and ingest in a child process (for its peak RSS).

    python -m benchmarks.data CONNINFO ROWS PREFIX SYMBOLS END_ISO   (prints one JSON line)
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg

from ops_db.market import PriceTick, ingest_price_stream

# Prices cycle through a fixed table: cheap to make, so the generator never limits the ingest.
_PRICES = [Decimal(10_000 + (k * 7_919) % 20_011).scaleb(-2) for k in range(10_007)]
BATCH = 50_000


def symbols(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{n:03d}" for n in range(count)]


def first_time(rows: int, n_symbols: int, end: datetime, step: timedelta = timedelta(seconds=1)) -> datetime:
    return end - step * (-(-rows // n_symbols))


def price_ticks(
    rows: int, names: list[str], end: datetime, step: timedelta = timedelta(seconds=1)
) -> Iterator[PriceTick]:
    """``rows`` ticks, time-major (every symbol at t, then t + step ...), the last ones before ``end``."""
    start = first_time(rows, len(names), end, step)
    n_symbols = len(names)
    for i in range(rows):
        j, k = divmod(i, n_symbols)
        yield PriceTick(names[k], start + step * j, _PRICES[i % 10_007], (i * 31) % 1_000)


def peak_rss_kb() -> int:
    """VmHWM of this process (peak resident set), in kB."""
    with open(f"/proc/{os.getpid()}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def ingest_in_child(conninfo: str, rows: int, prefix: str, n_symbols: int, end: datetime) -> dict[str, float]:
    """Ingest ``rows`` generated ticks through ops_db in a fresh Python process; its figures."""
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.data", conninfo, str(rows), prefix, str(n_symbols), end.isoformat()],
        capture_output=True, text=True, check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"ingest child failed: {out.stderr.strip()[-2000:]}")
    figures: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return figures


def _child(argv: list[str]) -> int:
    conninfo, rows, prefix, n_symbols, end = argv
    names = symbols(prefix, int(n_symbols))
    baseline_kb = peak_rss_kb()
    started = time.perf_counter()
    with psycopg.connect(conninfo, autocommit=True) as conn:  # each batch commits on its own
        result = ingest_price_stream(conn, price_ticks(int(rows), names, datetime.fromisoformat(end)),
                                     batch_size=BATCH)
    seconds = time.perf_counter() - started
    print(json.dumps({"rows": result.received, "inserted": result.inserted, "seconds": seconds,
                      "peak_rss_kb": peak_rss_kb(), "start_rss_kb": baseline_kb}))
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1:]))


# -- the shared price database: loaded once (by the memory benchmark, else on first need) ----------

LIQUID = ("P", 10)  # 10 liquid symbols, one tick a second each: the bars benchmark's rows
WIDE = ("Q", 100)  # 100 symbols: the latest-prices benchmark's rows


def shared_prices(scratch: Any, shared: dict[str, Any], *, liquid_rows: int = 0, wide_rows: int = 0) -> dict[str, Any]:
    """The scratch database holding the benchmark prices, loaded with at least the rows asked for."""
    state: dict[str, Any] = shared.setdefault("prices", {})
    if "db" not in state:
        state.update(db=scratch.database(prefix="bench_prices"), end=_end(), P=0, Q=0, figures={})
    for (prefix, n_symbols), wanted in ((LIQUID, liquid_rows), (WIDE, wide_rows)):
        if state[prefix] < wanted:
            if state[prefix]:
                raise RuntimeError(f"shared price database has {state[prefix]} {prefix} rows, {wanted} wanted")
            figures = ingest_in_child(scratch.conninfo(state["db"]), wanted, prefix, n_symbols, state["end"])
            assert figures["rows"] == wanted, "ingest child lost rows"
            state[prefix] = wanted
            state["figures"][prefix] = figures
            state.pop("refreshed", None)
    return state


def _end() -> datetime:
    from datetime import UTC

    now = datetime.now(UTC)
    return now.replace(second=0, microsecond=0) - timedelta(hours=1)
