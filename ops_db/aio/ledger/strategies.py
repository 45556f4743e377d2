"""Strategies and their order limits (an inactive strategy cannot stage orders; the limits and the
approval rules are the database's, migration 0200)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from ops_db.aio.core.db import fetch_all, fetch_one, fetch_optional
from ops_db.core.contract import api
from ops_db.model.ledger import Strategy, StrategyMode, StrategyType

__all__: list[str] = [  # annotated: the generator (unasyncd) rewrites a plain `__all__ =` assignment
    "Strategy", "StrategyMode", "StrategyType", "create_strategy", "get_strategy", "list_strategies",
    "set_strategy_active", "strategy_by_name",
]


@api
async def create_strategy(
    conn: psycopg.AsyncConnection[Any],
    name: str,
    *,
    strategy_type: StrategyType = "manual",
    mode: StrategyMode = "PAPER",
    active: bool = True,
    requires_approval: bool = False,
    max_order_quantity: Decimal | None = None,
    max_order_value: Decimal | None = None,
    description: str | None = None,
    params: Mapping[str, Any] | None = None,
) -> Strategy:
    """A new strategy with its order limits (names are unique)."""
    values = {
        "name": name,
        "strategy_type": strategy_type,
        "mode": mode,
        "active": active,
        "requires_approval": requires_approval,
        "max_order_quantity": max_order_quantity,
        "max_order_value": max_order_value,
        "description": description,
        "params": Jsonb(dict(params or {})),
    }
    return await fetch_one(conn, Strategy, "create_strategy", values, missing=f"strategy {name} was not created")


@api
async def get_strategy(conn: psycopg.AsyncConnection[Any], strategy_id: int) -> Strategy:
    return await fetch_one(
        conn, Strategy, "strategy_by_id", {"strategy_id": strategy_id}, missing=f"no strategy with id {strategy_id}"
    )


@api
async def strategy_by_name(conn: psycopg.AsyncConnection[Any], name: str) -> Strategy | None:
    return await fetch_optional(conn, Strategy, "strategy_by_name", {"name": name})


@api
async def list_strategies(conn: psycopg.AsyncConnection[Any], *, active_only: bool = False) -> list[Strategy]:
    """Strategies by name, optionally only the active ones."""
    return await fetch_all(conn, Strategy, "list_strategies", {"active_only": active_only})


@api
async def set_strategy_active(conn: psycopg.AsyncConnection[Any], strategy_id: int, active: bool) -> Strategy:
    """Switch a strategy on or off."""
    return await fetch_one(
        conn,
        Strategy,
        "set_strategy_active",
        {"strategy_id": strategy_id, "active": active},
        missing=f"no strategy with id {strategy_id}",
    )
