"""Facts about the server: versions and the TimescaleDB edition."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import class_row

from ops_db.core.contract import api
from ops_db.core.error_map import map_errors
from ops_db.core.errors import ReadOnlyServer, ValidationError
from ops_db.core.queries import q


@dataclass(frozen=True)
class ServerFacts:
    postgres_version: str
    timescaledb_version: str | None
    edition: str
    database: str


@api
def server_facts(conn: psycopg.Connection[Any]) -> ServerFacts:
    with map_errors(), conn.transaction(), conn.cursor(row_factory=class_row(ServerFacts)) as cur:
        row = cur.execute(q("server_facts")).fetchone()
    assert row is not None
    return row


@api
def capabilities(edition: str) -> dict[str, str]:
    """How each TimescaleDB capability is provided on this edition (README, "TimescaleDB editions")."""
    if edition not in ("timescale", "apache"):
        raise ValidationError(f"edition must be 'timescale' or 'apache', got {edition[:40]!r}")
    if edition == "timescale":
        return {
            "continuous aggregates": "native, refresh policies, real-time aggregation",
            "compression": "columnstore after 7 days (policies)",
            "retention": "retention policies",
            "scheduled jobs": "TimescaleDB jobs",
        }
    return {
        "continuous aggregates": "rollup tables refreshed incrementally by 'ops-db maintain'",
        "compression": "unavailable on the apache edition (skipped)",
        "retention": "'ops-db maintain' drops old chunks",
        "scheduled jobs": "'ops-db maintain' from cron",
    }


@api
def refuse_read_only(conn: psycopg.Connection[Any], command: str) -> None:
    """ReadOnlyServer unless ``conn``'s server takes writes: ``command`` is refused on a standby (in
    recovery) or a read-only server before it does anything, instead of failing on its first write."""
    if not 1 <= len(command.strip()) <= 200:
        raise ValidationError("command must name the command refused (1 to 200 characters)")
    with map_errors():
        row = conn.execute(q("server_read_only")).fetchone()
    if row is None or not (row[0] or row[1]):
        return
    what = "a standby (in recovery)" if row[0] else "read-only (default_transaction_read_only)"
    raise ReadOnlyServer(
        f"{command}: this server is {what}, nothing done; run it against the primary (with several hosts, "
        "a URL with target_session_attrs=read-write reaches whichever one leads)"
    )
