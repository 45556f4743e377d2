"""ops-db demo: load deterministic synthetic market data, then show a few analytics."""

from __future__ import annotations

import time as clock
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import psycopg
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from ops_db import market
from ops_db.cli import ledger_cmds
from ops_db.cli.app import UrlOption, app, conninfo, console, flag
from ops_db.core import db
from ops_db.core.error_map import map_errors
from ops_db.core.errors import ValidationError
from ops_db.core.queries import q
from ops_db.demo import trading as trading_demo
from ops_db.demo.market import DEFAULT_SYMBOLS, generate
from ops_db.ops import rollups
from ops_db.ops.system import server_facts
from ops_db.signals import record_signals


@app.command()
def demo(
    url: UrlOption = None,
    seed: Annotated[int, typer.Option("--seed", envvar="OPS_DB_DEMO_SEED", help="Random seed.")] = 7,
    symbols: Annotated[
        str, typer.Option("--symbols", envvar="OPS_DB_DEMO_SYMBOLS", help="Comma-separated symbols.")
    ] = ",".join(DEFAULT_SYMBOLS),
    days: Annotated[int, typer.Option("--days", envvar="OPS_DB_DEMO_DAYS", min=1, max=60, help="Sessions.")] = 2,
    reset: Annotated[bool, flag("--reset", "OPS_DB_DEMO_RESET", "Delete the demo symbols' data and reload.")] = False,
) -> None:
    """Load synthetic prices (GBM), option chains (Black-Scholes), events and signals; show analytics."""
    names = [s.strip().upper() for s in symbols.split(",") if s.strip()]
    if not names:
        raise ValidationError("--symbols names no symbol")
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    target = conninfo(url)
    with db.connect(target) as conn:
        edition = server_facts(conn).edition
        with map_errors():
            loaded = conn.execute(q("demo_loaded"), {"symbols": names}).fetchone()
        conn.rollback()
        if loaded and loaded[0] and not reset:
            console.print(f"demo data for {', '.join(names)} already loaded: nothing changed (--reset reloads)")
        else:
            _load(conn, seed=seed, symbols=names, days=days, now=now, reset=reset)
            _refresh(conn, target, edition)
        _show(conn, names, now)
        ledger_cmds.print_positions(conn, console)
        conn.rollback()


def _load(conn: psycopg.Connection[Any], *, seed: int, symbols: list[str], days: int, now: datetime,
          reset: bool) -> None:
    started = clock.monotonic()
    data = generate(seed=seed, symbols=symbols, days=days, now=now)
    with conn.transaction():
        if reset:
            with map_errors():
                for name in ("demo_delete_signals", "demo_delete_events", "demo_delete_options", "demo_delete_prices"):
                    conn.execute(q(name), {"symbols": symbols})
        with Progress(TextColumn("{task.description:<14}"), BarColumn(), MofNCompleteColumn(), console=console,
                      transient=True) as bar:
            steps: list[tuple[str, Sequence[Any], Callable[..., market.IngestResult]]] = [
                ("prices", data.ticks, market.ingest_prices),
                ("option quotes", data.quotes, market.ingest_options),
                ("market events", data.events, market.ingest_events),
            ]
            for label, rows, ingest in steps:
                task = bar.add_task(label, total=len(rows))
                ingest(conn, rows, progress=lambda n, task=task: bar.advance(task, n))
        record_signals(conn, data.signals)
        extra = trading_demo.load(conn, seed=seed, symbols=symbols, now=now)
    counts = {"prices": len(data.ticks), "option quotes": len(data.quotes), "market events": len(data.events),
              "signals": len(data.signals), **extra}
    console.print(
        "loaded " + ", ".join(f"{n} {what}" for what, n in counts.items())
        + f" (seed {seed}, {days} session(s)) in {clock.monotonic() - started:.1f}s"
    )


def _refresh(conn: psycopg.Connection[Any], target: str, edition: str) -> None:
    if edition == "timescale":
        # Policies would catch up within minutes; materialize now so the bars are there at once.
        with db.connect(target, autocommit=True) as auto:
            rollups.refresh_continuous_aggregates(auto)
    else:
        actions = rollups.refresh_rollups(conn)
        conn.commit()
        console.print(f"refreshed rollup tables: {len(actions)} range(s)")


def _show(conn: psycopg.Connection[Any], symbols: list[str], now: datetime) -> None:
    latest = market.latest_prices(conn, symbols)
    table = Table(title="latest prices")
    for col in ("symbol", "time (UTC)", "close", "volume"):
        table.add_column(col)
    for p in latest:
        table.add_row(p.symbol, f"{p.timestamp:%Y-%m-%d %H:%M:%S}", str(p.close_price), str(p.volume))
    console.print(table)

    first = symbols[0]
    recent = market.bars(conn, first, "5m", now - timedelta(days=3), now + timedelta(minutes=5))[-6:]
    bars = Table(title=f"{first} 5-minute bars (last 6)")
    for col in ("bucket (UTC)", "open", "high", "low", "close", "volume", "vwap", "ticks"):
        bars.add_column(col)
    for b in recent:
        bars.add_row(f"{b.bucket:%m-%d %H:%M}", str(b.open), str(b.high), str(b.low), str(b.close), str(b.volume),
                     str(b.vwap), str(b.trade_count))
    console.print(bars)

    rsi = Table(title="RSI(14) on 5-minute bars, latest")
    for col in ("symbol", "bucket (UTC)", "close", "RSI"):
        rsi.add_column(col)
    for symbol in symbols:
        points = [p for p in market.rsi(conn, symbol, since=now - timedelta(days=3)) if p.rsi is not None]
        if points:
            last = points[-1]
            rsi.add_row(symbol, f"{last.timestamp:%m-%d %H:%M}", str(last.close), f"{last.rsi:.2f}")
    console.print(rsi)

    pcr = Table(title="put/call volume ratio, last 3 days")
    for col in ("underlying", "put volume", "call volume", "put/call"):
        pcr.add_column(col)
    for r in market.put_call_ratios(conn, now - timedelta(days=3), now + timedelta(minutes=1)):
        if r.underlying_symbol in symbols:
            pcr.add_row(r.underlying_symbol, str(r.put_volume), str(r.call_volume),
                        f"{r.put_call_ratio:.3f}" if r.put_call_ratio is not None else "-")
    console.print(pcr)
