"""ops-db report orders|health|market: self-contained HTML pages (no script, no network fetch)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, get_args

import typer

from ops_db.cli.app import UrlOption, app, conninfo, console, sub_app
from ops_db.core.errors import ValidationError

report_app = sub_app("HTML reports: the order review, the desk health dashboard, a symbol's market page.")
app.add_typer(report_app, name="report")

_DURATION = re.compile(r"^(\d+)([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str, now: datetime) -> datetime:
    """A start time: a duration back from now (90m, 24h, 7d, 2w) or an ISO 8601 time with a zone."""
    found = _DURATION.match(text.strip())
    if found:
        try:
            return now - timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})
        except OverflowError:
            raise ValidationError(f"--since {text[:40]!r} reaches before the year 1") from None
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(f"--since {text[:40]!r}: give a duration (90m, 24h, 7d, 2w) or an ISO time") from None
    if when.tzinfo is None:
        raise ValidationError(f"--since {text[:40]!r} has no time zone (add +00:00 or Z)")
    return when


def _html_option(envvar: str) -> Any:
    return typer.Option("--html", envvar=envvar, help="The file to write (atomically: a reader never sees half).")


def _written(path: Path) -> None:
    console.print(f"wrote {path}")


@report_app.command("orders")
def orders_report(
    html: Annotated[Path, _html_option("OPS_DB_REPORT_ORDERS_HTML")],
    url: UrlOption = None,
    since: Annotated[str, typer.Option("--since", envvar="OPS_DB_REPORT_ORDERS_SINCE",
                                       help="Orders staged since: a duration back (24h, 7d) or an ISO time.")] = "7d",
) -> None:
    """The order review: status by strategy, approval queue, risk, compliance, rejections, fills and
    slippage, order-to-trade ratio, P&L over time, open positions."""
    from ops_db.core import db
    from ops_db.reports import orders
    from ops_db.reports.html import write_atomic

    with db.connect(conninfo(url)) as conn:
        start = parse_since(since, datetime.now().astimezone())
        page = orders.render(orders.collect(conn, start))
    _written(write_atomic(html, page))


@report_app.command("health")
def health_report(
    html: Annotated[Path, _html_option("OPS_DB_REPORT_HEALTH_HTML")],
    url: UrlOption = None,
    refresh: Annotated[int, typer.Option("--refresh", envvar="OPS_DB_REPORT_HEALTH_REFRESH", min=0,
                                         help="Seconds between reloads of the open page (0: never).")] = 60,
) -> None:
    """The desk health dashboard: every health check, jobs or maintain runs, rollup lag, backups,
    sizes, replication. Regenerate it from cron; the open page reloads itself."""
    from ops_db.core import db
    from ops_db.reports import health
    from ops_db.reports.html import write_atomic

    with db.connect(conninfo(url)) as conn:
        page = health.render(health.collect(conn, url), refresh=refresh or None)
    _written(write_atomic(html, page))


@report_app.command("market")
def market_report(
    symbol: Annotated[str, typer.Argument(help="The symbol, e.g. AAPL.")],
    html: Annotated[Path, _html_option("OPS_DB_REPORT_MARKET_HTML")],
    url: UrlOption = None,
    interval: Annotated[str, typer.Option("--interval", envvar="OPS_DB_REPORT_MARKET_INTERVAL",
                                          help="Bar interval: 1m, 5m, 1h or 1d.")] = "5m",
    since: Annotated[str | None, typer.Option("--since", envvar="OPS_DB_REPORT_MARKET_SINCE", show_default=False,
                                              help="Start: a duration back or an ISO time (default: ~200 bars "
                                                   "up to the newest tick).")] = None,
) -> None:
    """A symbol's page: candlesticks with volume, Bollinger bands, moving averages and RSI."""
    from ops_db import market
    from ops_db.core import db
    from ops_db.reports import market as market_report_
    from ops_db.reports.html import write_atomic

    allowed = get_args(market.BarInterval)
    if interval not in allowed:
        raise ValidationError(f"--interval must be one of {', '.join(allowed)}, not {interval[:10]!r}")
    with db.connect(conninfo(url)) as conn:
        start = parse_since(since, datetime.now().astimezone()) if since else None
        view = market_report_.collect(conn, symbol.upper(), interval=interval, since=start)  # type: ignore[arg-type]
        page = market_report_.render(view)
    _written(write_atomic(html, page))
