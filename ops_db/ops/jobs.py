"""TimescaleDB's scheduled jobs as ops-db sees them: ``ops-db health`` grades them,
``ops-db maintain`` runs the overdue ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import class_row

from ops_db.core import settings
from ops_db.core.queries import q


@dataclass(frozen=True)
class JobState:
    job_id: int
    application_name: str
    proc: str
    target: str
    schedule_interval: timedelta
    last_run_started_at: datetime | None
    last_run_status: str | None
    next_start: datetime | None
    total_failures: int
    last_error: str | None

    @property
    def label(self) -> str:
        return f"{self.job_id} {self.proc.split('.')[-1]}" + (f" on {self.target}" if self.target else "")

    def overdue(self, now: datetime, grace: timedelta) -> bool:
        if self.next_start is None:
            return self.last_run_started_at is None  # never ran although scheduled
        return self.next_start < now - grace


def job_states(conn: psycopg.Connection[Any]) -> list[JobState]:
    with conn.cursor(row_factory=class_row(JobState)) as cur:
        return cur.execute(q("job_states")).fetchall()


def job_grace() -> timedelta:
    """How late a job may start before it counts as overdue (OPS_DB_JOB_OVERDUE_GRACE, default 300 s)."""
    return timedelta(seconds=settings.env_quantity("OPS_DB_JOB_OVERDUE_GRACE", 300))
