"""Alerts and reconciliation: raise and resolve alerts, log and resolve differences between our
books and the broker's. A resolution is final: resolving twice is refused, naming who resolved."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from ops_db.aio.core.db import fetch_all, fetch_one, fetch_optional
from ops_db.core.contract import api
from ops_db.core.errors import ValidationError
from ops_db.model.ledger import Alert, AlertType, ReconciliationIssue, ReconciliationIssueType, Severity

__all__: list[str] = [  # annotated: the generator (unasyncd) rewrites a plain `__all__ =` assignment
    "Alert", "AlertType", "ReconciliationIssue", "ReconciliationIssueType", "Severity", "log_reconciliation_issue",
    "raise_alert", "resolve_alert", "resolve_reconciliation_issue", "unresolved_alerts",
    "unresolved_reconciliation_issues",
]


@api
async def raise_alert(
    conn: psycopg.AsyncConnection[Any],
    alert_type: AlertType,
    severity: Severity,
    message: str,
    *,
    source: str | None = None,
    symbol: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> Alert:
    """A new alert; ``alert_type`` is a lower-case key such as 'drawdown'."""
    values = {
        "alert_type": alert_type,
        "severity": severity,
        "message": message,
        "source": source,
        "symbol": symbol,
        "details": Jsonb(dict(details or {})),
    }
    return await fetch_one(conn, Alert, "raise_alert", values, missing="the alert was not raised")


@api
async def resolve_alert(conn: psycopg.AsyncConnection[Any], alert_id: int, resolved_by: str, resolution: str) -> Alert:
    """Resolve an unresolved alert."""
    values = {"alert_id": alert_id, "resolved_by": resolved_by, "resolution": resolution}
    resolved = await fetch_optional(conn, Alert, "resolve_alert", values)
    if resolved is not None:
        return resolved
    existing = await fetch_one(conn, Alert, "alert_by_id", values, missing=f"no alert with id {alert_id}")
    raise ValidationError(f"alert {alert_id} was already resolved by {existing.resolved_by}")


@api
async def unresolved_alerts(conn: psycopg.AsyncConnection[Any]) -> list[Alert]:
    """Unresolved alerts, most severe and newest first."""
    return await fetch_all(conn, Alert, "unresolved_alerts")


@api
async def log_reconciliation_issue(
    conn: psycopg.AsyncConnection[Any],
    symbol: str,
    issue_type: ReconciliationIssueType,
    *,
    our_quantity: Decimal | None = None,
    broker_quantity: Decimal | None = None,
    our_price: Decimal | None = None,
    broker_price: Decimal | None = None,
    order_id: int | None = None,
    details: Mapping[str, Any] | None = None,
) -> ReconciliationIssue:
    """Record a difference between our books and the broker's."""
    values = {
        "symbol": symbol,
        "issue_type": issue_type,
        "our_quantity": our_quantity,
        "broker_quantity": broker_quantity,
        "our_price": our_price,
        "broker_price": broker_price,
        "order_id": order_id,
        "details": Jsonb(dict(details or {})),
    }
    return await fetch_one(
        conn, ReconciliationIssue, "log_reconciliation_issue", values, missing="the issue was not logged"
    )


@api
async def resolve_reconciliation_issue(
    conn: psycopg.AsyncConnection[Any], issue_id: int, resolved_by: str, resolution: str
) -> ReconciliationIssue:
    """Resolve an open reconciliation issue."""
    values = {"issue_id": issue_id, "resolved_by": resolved_by, "resolution": resolution}
    resolved = await fetch_optional(conn, ReconciliationIssue, "resolve_reconciliation_issue", values)
    if resolved is not None:
        return resolved
    existing = await fetch_one(
        conn,
        ReconciliationIssue,
        "reconciliation_issue_by_id",
        values,
        missing=f"no reconciliation issue with id {issue_id}",
    )
    raise ValidationError(f"reconciliation issue {issue_id} was already resolved by {existing.resolved_by}")


@api
async def unresolved_reconciliation_issues(conn: psycopg.AsyncConnection[Any]) -> list[ReconciliationIssue]:
    """Open issues, oldest first."""
    return await fetch_all(conn, ReconciliationIssue, "unresolved_reconciliation_issues")
