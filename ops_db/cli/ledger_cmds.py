"""ops-db kill-switch on|off|status, ops-db expire-orders, ops-db positions: the ledger for operators."""

from __future__ import annotations

import dataclasses
import getpass
from typing import Annotated, Any

import typer

from ops_db.cli.app import UrlOption, app, conninfo, console, flag, print_json, sub_app

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
    from ops_db import db, risk

    with db.connect(conninfo(url)) as conn:
        state = risk.kill_switch_state(conn)
    if json_out:
        print_json(dataclasses.asdict(state))
        return
    if state.active:
        console.print(f"kill switch ON since {state.changed_at:%Y-%m-%d %H:%M:%S %Z} by {state.actor}: {state.reason}")
    elif state.changed_at is None:
        console.print("kill switch off (never switched)")
    else:
        console.print(f"kill switch off since {state.changed_at:%Y-%m-%d %H:%M:%S %Z} by {state.actor}: {state.reason}")


@kill_app.command("on")
def kill_on(reason: OnReason, actor: OnActor = None, url: UrlOption = None) -> None:
    """Halt trading: no new orders, approvals or submissions. Cancels and fills still go through."""
    from ops_db import db, risk

    with db.connect(conninfo(url)) as conn:
        state = risk.activate_kill_switch(conn, reason, _actor(actor))
        conn.commit()
    console.print(f"kill switch ON by {state.actor}: {state.reason}")


@kill_app.command("off")
def kill_off(reason: OffReason, actor: OffActor = None, url: UrlOption = None) -> None:
    """Resume trading."""
    from ops_db import db, risk

    with db.connect(conninfo(url)) as conn:
        state = risk.deactivate_kill_switch(conn, reason, _actor(actor))
        conn.commit()
    console.print(f"kill switch off by {state.actor}: {state.reason}")


@app.command("expire-orders")
def expire_orders(actor: ExpireActor = None, url: UrlOption = None, json_out: ExpireJson = False) -> None:
    """Expire every open order whose expires_at has passed (cron-safe; run every minute)."""
    from ops_db import db, orders

    with db.connect(conninfo(url)) as conn:
        expired = orders.expire_due_orders(conn, actor=_actor(actor) if actor else "system")
        conn.commit()
    if json_out:
        print_json([{"id": o.id, "client_order_id": o.client_order_id, "symbol": o.symbol} for o in expired])
        return
    console.print(f"expired {len(expired)} order(s)" + "".join(f"\n  {o.id} {o.client_order_id}" for o in expired))


@app.command("positions")
def show_positions(url: UrlOption = None) -> None:
    """Open positions and today's P&L."""
    from ops_db import db
    from ops_db.demo.trading import show

    with db.connect(conninfo(url)) as conn:
        show(conn, console)
