"""`make bench`: every benchmark against the local cluster, one table, JSON under benchmarks/results/.

    python -m benchmarks.run [--rounds N] [--rows N] [--bars-rows N] [--memory-rows N]
        [--compression-days N] [--compression-dense-days N] [--compression-tick-seconds S]
        [--compression-chain-minutes M] [--growth-rows N] [--growth-batch N] [--latest-history-days N]
        [--latest-tick-minutes N] [--only NAME ...]

The memory benchmark loads the price database that bars and latest then query (one load per run).
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from rich.console import Console
from rich.table import Table

from benchmarks.common import Result, Scratch
from ops_db.ops.cluster import LocalCluster

BENCHMARKS = ["ingest", "memory", "orders", "bars", "latest", "growth", "compression", "backup", "migrate"]
RESULTS = Path(__file__).resolve().parent / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds per comparison")
    parser.add_argument("--rows", type=int, default=200_000, help="price rows per ingest round")
    parser.add_argument("--bars-rows", type=int, default=10_000_000, help="price rows behind the bars query")
    parser.add_argument("--memory-rows", type=int, default=10_000_000, help="rows for the ingest memory check")
    parser.add_argument("--naive-rows", type=int, default=20_000, help="rows per executemany round (the naive side)")
    parser.add_argument("--cycles", type=int, default=400, help="order workflow cycles per round")
    parser.add_argument("--pgbench-seconds", type=int, default=10, help="pgbench tpcb-like duration per round")
    parser.add_argument("--backup-rows", type=int, default=2_000_000, help="price rows in the database backed up")
    parser.add_argument("--compression-days", type=int, default=20, help="days of demo-sized data compressed")
    parser.add_argument("--compression-dense-days", type=int, default=3, help="days of dense data compressed (0: none)")
    parser.add_argument("--compression-tick-seconds", type=int, default=1, help="seconds between ticks, dense data")
    parser.add_argument("--compression-chain-minutes", type=int, default=1, help="minutes between chains, dense data")
    parser.add_argument("--growth-rows", type=int, default=2_000_000,
                        help="price rows of the year of history the growth curves end at (make bench-scale: 100 M)")
    parser.add_argument("--growth-batch", type=int, default=50_000, help="ticks per ingest batch of the growth curves")
    parser.add_argument("--latest-history-days", type=int, default=7,
                        help="days of the shorter history of the latest-prices pair (the other: 10x)")
    parser.add_argument("--latest-tick-minutes", type=int, default=15, help="minutes between ticks of that pair")
    parser.add_argument("--only", nargs="*", choices=BENCHMARKS, help="run only these")
    args = parser.parse_args(argv)

    cluster = LocalCluster.from_env()
    if not cluster.is_running():
        print("benchmarks: the local cluster is not running (ops-db db up)", file=sys.stderr)
        return 3
    scratch = Scratch(cluster.conninfo("postgres"))
    console = Console(highlight=False, width=150)
    with psycopg.connect(scratch.admin) as conn:
        row = conn.execute(
            "SELECT current_setting('server_version'), current_setting('timescaledb.license', true),"
            " (SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb')"
        ).fetchone()
    assert row is not None
    machine = {
        "postgres": row[0], "edition": row[1] or "apache", "timescaledb": row[2],
        "python": platform.python_version(), "cpus": _cpus(), "platform": platform.platform(),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    options = {"rows": args.rows, "bars_rows": args.bars_rows, "memory_rows": args.memory_rows,
               "naive_rows": args.naive_rows, "cycles": args.cycles, "pgbench_seconds": args.pgbench_seconds,
               "backup_rows": args.backup_rows, "compression_days": args.compression_days,
               "compression_dense_days": args.compression_dense_days,
               "compression_tick_seconds": args.compression_tick_seconds,
               "compression_chain_minutes": args.compression_chain_minutes,
               "growth_rows": args.growth_rows, "growth_batch": args.growth_batch,
               "latest_history_days": args.latest_history_days, "latest_tick_minutes": args.latest_tick_minutes,
               "edition": machine["edition"], "cluster": cluster, "shared": {}}
    results: list[Result] = []
    started = time.perf_counter()
    try:
        for name in args.only or BENCHMARKS:
            module = importlib.import_module(f"benchmarks.bench_{name}")
            console.print(f"[bold]{name}[/bold] ...")
            t0 = time.perf_counter()
            produced = module.run(scratch, args.rounds, **options)
            for result in produced:
                result.extra.setdefault("seconds", round(time.perf_counter() - t0, 1))
            results.extend(produced)
    finally:
        scratch.close()
    machine["total_seconds"] = round(time.perf_counter() - started, 1)
    console.print(_table(results, machine))
    RESULTS.mkdir(exist_ok=True)
    payload = {"machine": machine, "options": {k: v for k, v in options.items() if k not in ("cluster", "shared")},
               "rounds": args.rounds, "results": [r.as_json() for r in results]}
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for target in (RESULTS / f"bench-{stamp}.json", RESULTS / "latest.json"):
        target.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    console.print(f"figures written to {RESULTS / ('bench-' + stamp + '.json')}")
    return 0


def _cpus() -> int:
    import os

    return os.cpu_count() or 0


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "n/a"
    if abs(value) >= 1000:
        return f"{value:,.0f}{unit}"
    return f"{value:.3g}{unit}"


def _table(results: list[Result], machine: dict[str, object]) -> Table:
    table = Table(title=(f"ops-db benchmarks: PostgreSQL {machine['postgres']}, TimescaleDB {machine['timescaledb']} "
                         f"({machine['edition']}), {machine['cpus']} cores"))
    for column in ("benchmark", "ours (median ± spread)", "baseline (median ± spread)", "ratio", "goal", "met"):
        table.add_column(column)
    for r in results:
        ours = f"{_fmt(r.ours.median)} {r.ours.unit} ±{r.ours.spread:.0%}" if r.ours.values else (r.note or "n/a")
        base = (f"{_fmt(r.baseline.median)} {r.baseline.unit} ±{r.baseline.spread:.0%}"
                if r.baseline and r.baseline.values else "")
        met = {True: "yes", False: "NO", None: ""}[r.met]
        table.add_row(r.name, ours, base, _fmt(r.ratio), r.goal, met)
    return table


if __name__ == "__main__":
    sys.exit(main())
