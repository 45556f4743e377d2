"""order workflow: complete stage → screen → approve → submit → fill cycles per second, 4 worker
threads on one ops_db pool, each step its own transaction (as the application runs them) ÷ pgbench's
built-in tpcb-like transactions per second (4 clients) on the same server, in the same run.
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

from benchmarks.common import Result, Scratch, Side, alternate
from ops_db.core.db import create_pool
from ops_db.ledger import orders, strategies

WORKERS = 4
PGBENCH = Path("/usr/lib/postgresql/15/bin/pgbench")


def _pgbench() -> str:
    bindir = os.environ.get("OPS_DB_PG_BINDIR")
    for candidate in ([Path(bindir) / "pgbench"] if bindir else []) + [PGBENCH]:
        if candidate.exists():
            return str(candidate)
    return "pgbench"


def _pgbench_args(conninfo: str) -> list[str]:
    params = psycopg.conninfo.conninfo_to_dict(conninfo)
    return ["-h", str(params["host"]), "-p", str(params["port"]), "-U", str(params["user"]), str(params["dbname"])]


def pgbench_tps(conninfo: str, seconds: int) -> float:
    out = subprocess.run([_pgbench(), "-n", "-c", str(WORKERS), "-j", "2", "-T", str(seconds),
                          *_pgbench_args(conninfo)], capture_output=True, text=True, check=True)
    failed = re.search(r"number of failed transactions: (\d+)", out.stdout)
    assert failed is None or failed.group(1) == "0", "pgbench transactions failed"
    match = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", out.stdout)
    assert match is not None, f"pgbench printed no tps: {out.stdout[-500:]}"
    return float(match.group(1))


def workflow_cycles(conninfo: str, cycles: int, strategy_id: int, tag: str) -> float:
    """Run ``cycles`` complete order cycles on WORKERS threads; cycles per second."""
    ids = itertools.count()
    lock = threading.Lock()
    errors: list[BaseException] = []
    pool = create_pool(conninfo)
    try:
        def worker() -> None:
            try:
                while True:
                    with lock:
                        n = next(ids)
                    if n >= cycles:
                        return
                    one_cycle(pool, strategy_id, f"{tag}-{n}")
            except BaseException as exc:  # reported after join
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seconds = time.perf_counter() - start
    finally:
        pool.close()
    if errors:
        raise errors[0]
    return cycles / seconds


def one_cycle(pool: Any, strategy_id: int, client_id: str) -> None:
    """One cycle on one pooled connection, each call a transaction of its own (the contract of
    ops_db's functions on an idle connection: atomic commits it), as an application calls them."""
    with pool.connection() as conn:
        order = orders.stage_order(conn, client_order_id=client_id, strategy_id=strategy_id, symbol="AAPL",
                                   side="buy", order_type="limit", quantity=Decimal(10),
                                   limit_price=Decimal("190.50"), created_by="bench")
        order = orders.screen_order(conn, order.id)
        assert order.status == "pending_approval", order.status
        order = orders.approve_order(conn, order.id, "approver")
        order = orders.submit_order(conn, order.id, f"B-{client_id}")
        orders.record_fill(conn, order.id, Decimal(10), Decimal("190.45"))


def _check(conninfo: str, expected: int) -> None:
    with psycopg.connect(conninfo) as conn:
        row = conn.execute(
            "SELECT count(*) FILTER (WHERE status = 'filled' AND filled_quantity = quantity), count(*)"
            " FROM trading.staged_orders").fetchone()
        fills = conn.execute("SELECT count(*) FROM trading.executions").fetchone()
    assert row is not None and fills is not None
    assert row[0] == row[1] == expected, f"{row[0]} of {row[1]} orders filled, {expected} expected"
    assert fills[0] == expected, f"{fills[0]} executions, {expected} expected"


def run(scratch: Scratch, rounds: int, *, cycles: int = 400, pgbench_seconds: int = 10, **_: object) -> list[Result]:
    name = scratch.database()
    conninfo = scratch.conninfo(name)
    pg_name = scratch.database(migrated=False, prefix="bench_pgbench")
    pg_conninfo = scratch.conninfo(pg_name)
    subprocess.run([_pgbench(), "-i", "-q", "-s", "1", *_pgbench_args(pg_conninfo)], capture_output=True, check=True)
    with psycopg.connect(conninfo) as conn:
        strategy = strategies.create_strategy(conn, "bench workflow", requires_approval=True,
                                              max_order_quantity=Decimal(1000))
        conn.commit()
    # One cycle alone first: the first writes into the order_events / executions hypertables create
    # their chunks, and four sessions creating the same chunk at once can deadlock (see README).
    warm = create_pool(conninfo)
    try:
        one_cycle(warm, strategy.id, "warm-up")
    finally:
        warm.close()
    done = 0

    def ours() -> float:
        nonlocal done
        rate = workflow_cycles(conninfo, cycles, strategy.id, f"r{done}")
        done += 1
        _check(conninfo, done * cycles + 1)
        return rate

    mine, theirs = alternate(rounds, ours, lambda: pgbench_tps(pg_conninfo, pgbench_seconds))
    scratch.drop(name)
    scratch.drop(pg_name)
    return [
        Result("order workflow", f"stage→screen→approve→submit→fill cycles/s, {WORKERS} workers on the pool, "
               f"{cycles} cycles a round ÷ pgbench tpcb-like tps, {WORKERS} clients, {pgbench_seconds} s",
               Side("order cycles", "cycles/s", mine), Side("pgbench tpcb-like", "tps", theirs),
               "report; aim >= 0.25", extra={"cycles": cycles, "pgbench_seconds": pgbench_seconds}).finish(),
    ]
