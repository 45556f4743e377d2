"""The kill switch: while active the database refuses new orders, approvals and submissions;
cancels, rejections, expiries and fills of orders already at the broker still go through, so risk
can be taken off and the books keep matching the broker (docs/trading-ledger.md).

A halt waits (at most 10 s, then RetryableConflict) for the sessions that staged, approved or
submitted under the old state; ``kill_switch_blockers`` names them, ``terminate_session`` ends one.
"""

from __future__ import annotations

from typing import Any

import psycopg

from ops_db.aio.core.db import fetch_all, fetch_one, fetch_optional, fetch_value
from ops_db.core.contract import api
from ops_db.model.ledger import KillSwitchBlocker, KillSwitchState

__all__: list[str] = [  # annotated: the generator (unasyncd) rewrites a plain `__all__ =` assignment
    "KillSwitchBlocker", "KillSwitchState", "activate_kill_switch", "deactivate_kill_switch",
    "kill_switch_blockers", "kill_switch_state", "terminate_session",
]


async def _set(conn: psycopg.AsyncConnection[Any], active: bool, reason: str, actor: str) -> KillSwitchState:
    values = {"active": active, "reason": reason, "actor": actor}
    return await fetch_one(conn, KillSwitchState, "set_kill_switch", values, missing="the kill switch was not set")


@api
async def activate_kill_switch(conn: psycopg.AsyncConnection[Any], reason: str, actor: str) -> KillSwitchState:
    """Halt trading: no new orders, approvals or submissions until deactivated."""
    return await _set(conn, True, reason, actor)


@api
async def deactivate_kill_switch(conn: psycopg.AsyncConnection[Any], reason: str, actor: str) -> KillSwitchState:
    """Resume trading."""
    return await _set(conn, False, reason, actor)


@api
async def kill_switch_state(conn: psycopg.AsyncConnection[Any]) -> KillSwitchState:
    """The kill switch now (off, never switched, when the state row is missing)."""
    state = await fetch_optional(conn, KillSwitchState, "kill_switch_state")
    return state or KillSwitchState(active=False, reason=None, actor=None, changed_at=None)


@api
async def kill_switch_blockers(conn: psycopg.AsyncConnection[Any]) -> list[KillSwitchBlocker]:
    """The sessions a halt is waiting for, oldest transaction first."""
    return await fetch_all(conn, KillSwitchBlocker, "kill_switch_blockers")


@api
async def terminate_session(conn: psycopg.AsyncConnection[Any], pid: int) -> bool:
    """End a session (its transaction rolls back); needs superuser or pg_signal_backend."""
    return bool(await fetch_value(conn, "terminate_session", {"pid": pid}))
