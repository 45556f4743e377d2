"""ops-db kill-switch on|off|status, ops-db expire-orders, ops-db positions: the ledger for operators."""

from __future__ import annotations

import dataclasses
import getpass
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from ops_db.cli.app import UrlOption, app, conninfo, console, flag, print_json, sub_app
from ops_db.core.errors import KillSwitchBlocked, RetryableConflict

if TYPE_CHECKING:
    import psycopg
    from rich.console import Console

kill_app = sub_app("The kill switch: while on, the database refuses new orders, approvals and submissions.")
app.add_typer(kill_app, name="kill-switch")

# Each command its own variables (OPS_DB_<COMMAND>_<OPTION>): a reason exported to switch the
# kill switch on never becomes the reason it is switched off with.
OnReason = Annotated[str, typer.Option("--reason", envvar="OPS_DB_KILL_SWITCH_ON_REASON", help="Why (recorded).")]
OffReason = Annotated[str, typer.Option("--reason", envvar="OPS_DB_KILL_SWITCH_OFF_REASON", help="Why (recorded).")]


def _actor_option(envvar: str) -> Any:
    return typer.Option("--actor", envvar=envvar, show_default=False, help="Who (default: the OS user).")


OnActor = Annotated[str | None, _actor_option("OPS_DB_KILL_SWITCH_ON_ACTOR")]
OffActor = Annotated[str | None, _actor_option("OPS_DB_KILL_SWITCH_OFF_ACTOR")]
ExpireActor = Annotated[str | None, _actor_option("OPS_DB_EXPIRE_ORDERS_ACTOR")]
StatusJson = Annotated[bool, flag("--json", "OPS_DB_KILL_SWITCH_STATUS_JSON", "Machine-readable output.")]
ExpireJson = Annotated[bool, flag("--json", "OPS_DB_EXPIRE_ORDERS_JSON", "Machine-readable output.")]


def _actor(actor: str | None) -> str:
    return actor or getpass.getuser()


@kill_app.command("status")
def kill_status(url: UrlOption = None, json_out: StatusJson = False) -> None:
    """Whether trading is halted. Exit 0 either way; --json for scripts."""
    from ops_db.core import db
    from ops_db.ledger import kill_switch

    with db.connect(conninfo(url)) as conn:
        state = kill_switch.kill_switch_state(conn)
    if json_out:
        print_json(dataclasses.asdict(state))
        return
    if state.active:
        console.print(f"kill switch ON since {state.changed_at:%Y-%m-%d %H:%M:%S %Z} by {state.actor}: {state.reason}")
    elif state.changed_at is None:
        console.print("kill switch off (never switched)")
    else:
        console.print(f"kill switch off since {state.changed_at:%Y-%m-%d %H:%M:%S %Z} by {state.actor}: {state.reason}")


TerminateBlockers = Annotated[
    bool,
    flag(
        "--terminate-blockers",
        "OPS_DB_KILL_SWITCH_ON_TERMINATE_BLOCKERS",
        "End the open transactions the halt waits for (their orders roll back), then halt.",
    ),
]


def _blocked(blockers: list[Any]) -> KillSwitchBlocked:
    named = "; ".join(
        f"pid {b.pid} ({b.login_role or '?'}"
        + (f", {b.application_name}" if b.application_name else "")
        + f", {b.state or '?'}"
        + (f", transaction open {b.transaction_seconds:.0f} s" if b.transaction_seconds is not None else "")
        + ")"
        for b in blockers
    )
    return KillSwitchBlocked(
        "kill switch NOT switched: it waited 10 s behind open transaction(s) that staged, approved or "
        f"submitted orders: {named or 'they ended meanwhile: run it again'}; "
        "end them (--terminate-blockers) or have them commit"
    )


def _switch(url: str | None, active: bool, reason: str, actor: str, terminate: bool) -> Any:
    from ops_db.core import db
    from ops_db.ledger import kill_switch

    change = kill_switch.activate_kill_switch if active else kill_switch.deactivate_kill_switch
    with db.connect(conninfo(url), autocommit=True) as conn:
        try:
            return change(conn, reason, actor)
        except RetryableConflict:
            blockers = kill_switch.kill_switch_blockers(conn)
            if not (terminate and blockers):
                raise _blocked(blockers) from None
        for blocker in blockers:
            kill_switch.terminate_session(conn, blocker.pid)
            console.print(f"ended pid {blocker.pid} ({blocker.login_role or '?'}): its transaction rolled back")
        try:
            return change(conn, reason, actor)
        except RetryableConflict:
            raise _blocked(kill_switch.kill_switch_blockers(conn)) from None


@kill_app.command("on")
def kill_on(
    reason: OnReason, actor: OnActor = None, url: UrlOption = None, terminate_blockers: TerminateBlockers = False
) -> None:
    """Halt trading: no new orders, approvals or submissions. Cancels and fills still go through.

    Waits at most 10 s for transactions that staged or submitted orders under the old state;
    exit 7 naming them when they do not end."""
    state = _switch(url, True, reason, _actor(actor), terminate_blockers)
    console.print(f"kill switch ON by {state.actor}: {state.reason}")


@kill_app.command("off")
def kill_off(reason: OffReason, actor: OffActor = None, url: UrlOption = None) -> None:
    """Resume trading."""
    state = _switch(url, False, reason, _actor(actor), False)
    console.print(f"kill switch off by {state.actor}: {state.reason}")


@app.command("expire-orders")
def expire_orders(actor: ExpireActor = None, url: UrlOption = None, json_out: ExpireJson = False) -> None:
    """Expire every open order whose expires_at has passed (cron-safe; run every minute)."""
    from ops_db.core import db
    from ops_db.ledger import orders

    with db.connect(conninfo(url)) as conn:  # the call is a transaction of its own, committed
        expired = orders.expire_due_orders(conn, actor=_actor(actor) if actor else "system")
    if json_out:
        print_json([{"id": o.id, "client_order_id": o.client_order_id, "symbol": o.symbol} for o in expired])
        return
    console.print(f"expired {len(expired)} order(s)" + "".join(f"\n  {o.id} {o.client_order_id}" for o in expired))


@app.command("positions")
def show_positions(url: UrlOption = None) -> None:
    """Open positions and today's P&L."""
    from ops_db.core import db

    with db.connect(conninfo(url), autocommit=True) as conn:
        print_positions(conn, console)


def print_positions(conn: psycopg.Connection[Any], out: Console) -> None:
    """Open positions, today's P&L and today's orders by status, as tables (ledger reads only)."""
    from ops_db.ledger import orders, positions

    held = Table(title="open positions")
    for column in ("symbol", "side", "quantity", "avg cost", "mark", "market value", "unrealized P&L"):
        held.add_column(column, justify="left" if column in ("symbol", "side") else "right")
    for p in positions.open_positions(conn):
        held.add_row(
            p.symbol,
            p.direction,
            f"{p.quantity.normalize():f}",
            f"{p.avg_cost:,.2f}",
            f"{p.current_price:,.2f}" if p.current_price is not None else "-",
            f"{p.market_value:,.2f}" if p.market_value is not None else "-",
            f"{p.unrealized_pnl:,.2f}" if p.unrealized_pnl is not None else "-",
        )
    out.print(held)

    pnl = positions.today_pnl(conn)
    ratio = positions.order_to_trade_ratio(conn)
    today = Table(title="today's P&L")
    today.add_column("measure")
    today.add_column("value", justify="right")
    for label, value in (
        ("realized P&L", pnl.realized_pnl),
        ("commissions and fees", -pnl.costs),
        ("net realized (get_today_pnl)", pnl.net_realized_pnl),
        ("unrealized on open positions", pnl.unrealized_pnl),
        ("total", pnl.total),
    ):
        today.add_row(label, f"{value:,.2f}")
    today.add_row("fills today", str(pnl.fills))
    today.add_row("order-to-trade ratio", f"{ratio}" if ratio is not None else "-")
    out.print(today)

    statuses = Table(title="today's orders by status")
    statuses.add_column("status")
    statuses.add_column("orders", justify="right")
    for row in orders.today_status_counts(conn):
        statuses.add_row(row.status, str(row.orders))
    out.print(statuses)
