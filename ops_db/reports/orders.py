"""`ops-db report orders`: the order review a risk manager reads.

Orders by status and strategy; the approval queue with its reasons and age; the risk score
distribution; compliance failures; rejection reasons; fills with slippage against the limit
and the arrival price; the order-to-trade ratio; realized P&L over time by strategy and by
symbol, unrealized P&L from the portfolio snapshots; open positions. The queue, the ratio and
the positions come from the typed functions the application uses, so the page shows what they
return.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg

from ops_db.core import db
from ops_db.ledger import orders, positions, strategies
from ops_db.reports import svg
from ops_db.reports.html import Page, cards, snapshot, table

QUEUE_ROWS = 500  # the oldest orders awaiting approval shown one by one; the card counts them all


@dataclass(frozen=True)
class ReportStatusCount:
    strategy: str
    status: str
    orders: int


@dataclass(frozen=True)
class ReportRiskBucket:
    bucket_start: int
    orders: int


@dataclass(frozen=True)
class ReportComplianceFailure:
    order_id: int
    client_order_id: str
    strategy: str
    symbol: str
    check_name: str
    status: str
    created_at: datetime


@dataclass(frozen=True)
class ReportReason:
    reason: str
    orders: int


@dataclass(frozen=True)
class ReportFill:
    fill_id: int
    client_order_id: str
    strategy: str
    symbol: str
    side: str
    quantity: Decimal
    price: Decimal
    limit_price: Decimal | None
    arrival_price: Decimal | None
    slippage_limit_bps: Decimal | None
    slippage_arrival_bps: Decimal | None
    executed_at: datetime


@dataclass(frozen=True)
class ReportPnlPoint:
    label: str
    at: datetime
    cumulative: Decimal


@dataclass(frozen=True)
class ReportOrderTotals:
    orders: int
    open_orders: int
    fills: int
    realized_pnl: Decimal


@dataclass(frozen=True)
class OrderReview:
    """Everything the page shows, read in one repeatable-read snapshot."""

    since: datetime
    generated_at: datetime
    totals: ReportOrderTotals
    by_status: list[ReportStatusCount]
    queue: list[orders.Order]
    risk_buckets: list[ReportRiskBucket]
    compliance: list[ReportComplianceFailure]
    rejections: list[ReportReason]
    fills: list[ReportFill]
    order_to_trade: Decimal | None
    pnl_by_strategy: list[ReportPnlPoint]
    pnl_by_symbol: list[ReportPnlPoint]
    snapshots: list[positions.PortfolioSnapshot]
    open_positions: list[positions.Position]
    strategy_names: dict[int, str]


def _queue(conn: psycopg.Connection[Any], since: datetime) -> list[orders.Order]:
    found: list[orders.Order] = []
    after = None
    while True:
        page = orders.list_orders(conn, statuses=["pending_approval"], since=since, after=after, limit=1000)
        found.extend(page.orders)
        if page.next_cursor is None:
            return sorted(found, key=lambda o: (o.created_at, o.id))
        after = page.next_cursor


def collect(conn: psycopg.Connection[Any], since: datetime, *, fills: int = 200) -> OrderReview:
    """Read the review; one snapshot, so the sections agree with each other."""
    with snapshot(conn):
        generated_at = db.fetch_value(conn, "report_now")
        params = {"since": since}
        return OrderReview(
            since=since,
            generated_at=generated_at,
            totals=db.fetch_one(conn, ReportOrderTotals, "report_order_totals", params, missing="no totals"),
            by_status=db.fetch_all(conn, ReportStatusCount, "report_orders_by_status", params),
            queue=_queue(conn, since),
            risk_buckets=db.fetch_all(conn, ReportRiskBucket, "report_risk_buckets", params),
            compliance=db.fetch_all(conn, ReportComplianceFailure, "report_compliance_failures", params),
            rejections=db.fetch_all(conn, ReportReason, "report_rejection_reasons", params),
            fills=db.fetch_all(conn, ReportFill, "report_fills", {"since": since, "limit": fills}),
            order_to_trade=positions.order_to_trade_ratio(conn),
            pnl_by_strategy=db.fetch_all(conn, ReportPnlPoint, "report_pnl_by_strategy", params),
            pnl_by_symbol=db.fetch_all(conn, ReportPnlPoint, "report_pnl_by_symbol", params),
            snapshots=positions.portfolio_history(conn, since, generated_at + timedelta(seconds=1)),
            open_positions=positions.open_positions(conn),
            strategy_names={s.id: s.name for s in strategies.list_strategies(conn)},
        )


def _pnl_chart(points: list[ReportPnlPoint], title: str) -> str:
    """Cumulative P&L per label over time; when every fill falls within a minute (a replay, the
    demo), over the fills in the order they were recorded instead, so the lines stay readable."""
    times = [p.at.timestamp() for p in points]
    by_fill = bool(times) and max(times) - min(times) < 60
    by_label: dict[str, list[tuple[float, float]]] = {}
    for index, point in enumerate(points, start=1):
        x = float(index) if by_fill else point.at.timestamp()
        by_label.setdefault(point.label, []).append((x, float(point.cumulative)))
    series = [svg.Series(label, values) for label, values in sorted(by_label.items())]
    if by_fill:
        return svg.line_chart(series, title=f"{title} (by fill)", zero_line=True, x_format=lambda x: f"fill {x:.0f}")
    return svg.line_chart(series, title=title, zero_line=True)


def _age(since: datetime, now: datetime) -> str:
    seconds = max(int((now - since).total_seconds()), 0)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h {rest // 60:02d}m" if hours else f"{rest // 60}m {rest % 60:02d}s"


def render(review: OrderReview) -> str:
    page = Page("Order review", f"orders staged since {review.since:%Y-%m-%d %H:%M %Z}; "
                                f"generated {review.generated_at:%Y-%m-%d %H:%M:%S %Z}")
    unrealized = sum((p.unrealized_pnl or Decimal(0) for p in review.open_positions), Decimal(0))
    page.section("summary", "Summary", cards([
        ("orders", review.totals.orders),
        ("open orders", review.totals.open_orders),
        ("awaiting approval", len(review.queue)),
        ("fills", review.totals.fills),
        ("realized P&L (net)", review.totals.realized_pnl),
        ("unrealized P&L", unrealized),
        ("order-to-trade ratio", review.order_to_trade),
    ]))
    statuses = sorted({c.status for c in review.by_status})
    strategies = sorted({c.strategy for c in review.by_status})
    grid = {(c.strategy, c.status): c.orders for c in review.by_status}
    page.section(
        "by-status", "Orders by status and strategy",
        table(["strategy", *statuses, "total"],
              [[s, *[grid.get((s, st), 0) for st in statuses], sum(grid.get((s, st), 0) for st in statuses)]
               for s in strategies], empty="no orders in this period", name="by-status"),
        svg.bar_chart([(st, float(sum(grid.get((s, st), 0) for s in strategies))) for st in statuses],
                      title="orders by status"),
    )
    page.section(
        "approval-queue", "Approval queue",
        table(["order", "strategy", "symbol", "side", "quantity", "risk score", "reasons", "staged by", "age"],
              [[o.client_order_id, review.strategy_names.get(o.strategy_id, str(o.strategy_id)), o.symbol, o.side,
                o.quantity, o.risk_score, "; ".join(o.approval_reasons) or "—", o.created_by,
                _age(o.created_at, review.generated_at)]
               for o in review.queue[:QUEUE_ROWS]], empty="nothing awaits approval", name="approval-queue"),
        *([f'<p class="empty" data-more="{len(review.queue) - QUEUE_ROWS}">and {len(review.queue) - QUEUE_ROWS:,} '
           "more awaiting approval, newer than these</p>"] if len(review.queue) > QUEUE_ROWS else []),
    )
    page.section(
        "risk", "Risk score distribution",
        svg.bar_chart([(f"{b.bucket_start}-{b.bucket_start + 10}", float(b.orders)) for b in review.risk_buckets],
                      title="orders by risk score"),
    )
    page.section(
        "compliance", "Compliance failures",
        table(["order", "strategy", "symbol", "check", "status", "staged"],
              [[c.client_order_id, c.strategy, c.symbol, c.check_name, c.status, c.created_at]
               for c in review.compliance], empty="no compliance check failed", name="compliance"),
    )
    page.section(
        "rejections", "Rejection reasons",
        table(["reason", "orders"], [[r.reason, r.orders] for r in review.rejections],
              empty="no order was rejected", name="rejections"),
    )
    page.section(
        "fills", "Fills and slippage",
        table(["order", "strategy", "symbol", "side", "quantity", "price", "limit", "arrival",
               "vs limit (bps)", "vs arrival (bps)", "executed"],
              [[f.client_order_id, f.strategy, f.symbol, f.side, f.quantity, f.price, f.limit_price, f.arrival_price,
                f.slippage_limit_bps, f.slippage_arrival_bps, f.executed_at] for f in review.fills],
              empty="no fills in this period", name="fills"),
    )
    page.section(
        "pnl", "P&L over time",
        _pnl_chart(review.pnl_by_strategy, "realized P&L net of costs, by strategy"),
        _pnl_chart(review.pnl_by_symbol, "realized P&L net of costs, by symbol"),
        svg.line_chart([svg.Series("unrealized", [(s.snapshot_at.timestamp(), float(s.unrealized_pnl))
                                                  for s in review.snapshots]),
                        svg.Series("realized today", [(s.snapshot_at.timestamp(), float(s.realized_pnl_today))
                                                      for s in review.snapshots], dashed=True)],
                       title="portfolio snapshots: unrealized and realized P&L", zero_line=True),
    )
    page.section(
        "positions", "Open positions",
        table(["symbol", "quantity", "average cost", "mark", "market value", "unrealized", "realized", "opened"],
              [[p.symbol, p.quantity, p.avg_cost, p.current_price, p.market_value, p.unrealized_pnl, p.realized_pnl,
                p.opened_at] for p in review.open_positions], empty="no open positions", name="positions"),
    )
    return page.render()
