"""Migrations that wait politely: a bounded lock wait per statement, retries, and who blocked.

A DDL statement that waits for its lock keeps its place in the lock queue, and every
session that comes after it waits behind it, even plain readers. So every migration
statement runs under ``lock_timeout`` (OPS_DB_MIGRATE_LOCK_WAIT, default 5 s): it gives its
place up after that, the migration is rolled back, and it is tried again after an
exponential backoff with jitter, until OPS_DB_MIGRATE_RETRY_DEADLINE. Meanwhile a watcher
on a second connection records which sessions block it, so the final error names them.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg

from ops_db.core import settings
from ops_db.core.errors import ConfigurationError, MigrationBlocked

T = TypeVar("T")

BLOCKERS_SQL = """
SELECT a.pid, coalesce(a.usename, ''), coalesce(a.application_name, ''), coalesce(a.state, ''),
       extract(epoch FROM now() - coalesce(a.xact_start, a.query_start, a.backend_start))::float8,
       left(regexp_replace(coalesce(a.query, ''), '\\s+', ' ', 'g'), 200),
       (SELECT string_agg(DISTINCT l.relation::regclass::text, ', ')
          FROM pg_locks l WHERE l.pid = %(pid)s AND NOT l.granted AND l.relation IS NOT NULL)
  FROM pg_stat_activity a
 WHERE a.pid = ANY (pg_blocking_pids(%(pid)s))
 ORDER BY a.xact_start NULLS LAST
"""


@dataclass(frozen=True)
class LockPolicy:
    lock_wait: float  # seconds one statement may wait for a lock (lock_timeout)
    deadline: float  # seconds a migration keeps retrying
    statement_timeout: float  # seconds; 0 = none

    @classmethod
    def from_env(
        cls, lock_wait: float | None = None, deadline: float | None = None, statement_timeout: float | None = None
    ) -> LockPolicy:
        policy = cls(
            lock_wait if lock_wait is not None else settings.env_float("OPS_DB_MIGRATE_LOCK_WAIT", 5.0),
            deadline if deadline is not None else settings.env_float("OPS_DB_MIGRATE_RETRY_DEADLINE", 120.0),
            statement_timeout
            if statement_timeout is not None
            else settings.env_float("OPS_DB_MIGRATE_STATEMENT_TIMEOUT", 0.0),
        )
        if policy.lock_wait <= 0:
            raise ConfigurationError("OPS_DB_MIGRATE_LOCK_WAIT must be more than 0 seconds")
        if policy.deadline < 0 or policy.statement_timeout < 0:
            raise ConfigurationError("OPS_DB_MIGRATE_RETRY_DEADLINE and _STATEMENT_TIMEOUT must not be negative")
        return policy

    def apply(self, conn: psycopg.Connection[Any]) -> None:
        """Session settings for every statement the runner sends on ``conn``."""
        conn.execute(
            "SELECT set_config('lock_timeout', %s, false), set_config('statement_timeout', %s, false)",
            (f"{int(self.lock_wait * 1000)}ms", f"{int(self.statement_timeout * 1000)}ms"),
        )


@dataclass(frozen=True)
class LockBlocker:
    pid: int
    user: str
    application: str
    state: str
    seconds: float
    query: str
    waited_on: str | None

    def describe(self) -> str:
        app = f" ({self.application})" if self.application else ""
        # Another session's text may carry a secret (ALTER ROLE ... PASSWORD): never repeat that.
        query = "(query withheld: it mentions a password)" if "password" in self.query.lower() else self.query
        return f"pid {self.pid} {self.user}{app}, {self.state} for {self.seconds:.0f}s: {query}"


class BlockerWatch:
    """Samples, from its own connection, which sessions block the runner's backend."""

    def __init__(self, conninfo: str, pid: int, every: float = 0.25) -> None:
        self.conninfo = conninfo
        self.pid = pid
        self.every = every
        self.last: list[LockBlocker] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ops-db blocker watch", daemon=True)

    def _run(self) -> None:
        with suppress(psycopg.Error), psycopg.connect(
            self.conninfo, autocommit=True, application_name="ops-db migrate (watch)"
        ) as conn:
            while not self._stop.wait(self.every):
                found = [LockBlocker(*row) for row in conn.execute(BLOCKERS_SQL, {"pid": self.pid}).fetchall()]
                if found:
                    self.last = found

    def start(self) -> BlockerWatch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


@contextmanager
def watching(conninfo: str, conn: psycopg.Connection[Any]) -> Iterator[BlockerWatch]:
    watch = BlockerWatch(conninfo, conn.info.backend_pid).start()
    try:
        yield watch
    finally:
        watch.stop()


def backoff(attempt: int, base: float = 0.2, cap: float = 5.0) -> float:
    """Full jitter: a random pause in [0, min(cap, base * 2**attempt)], so retrying runs never march in step."""
    return random.uniform(0, min(cap, base * 2**attempt))  # noqa: S311  (timing jitter, not secrecy)


def with_lock_retries(
    policy: LockPolicy, what: str, attempt_once: Callable[[], T], watch: BlockerWatch, outcome: str = "applied"
) -> T:
    """Run ``attempt_once`` (which must roll itself back on failure) until it gets its locks or time runs out."""
    started = time.monotonic()
    attempt = 0
    while True:
        try:
            return attempt_once()
        except psycopg.errors.LockNotAvailable as exc:
            attempt += 1
            left = policy.deadline - (time.monotonic() - started)
            if left <= 0:
                raise blocked(policy, what, attempt, watch.last, outcome) from exc
            time.sleep(min(left, backoff(attempt)))


def blocked(
    policy: LockPolicy, what: str, attempts: int, blockers: list[LockBlocker], outcome: str = "applied"
) -> MigrationBlocked:
    on = next((b.waited_on for b in blockers if b.waited_on), None)
    head = (
        f"{what}: gave up after {policy.deadline:g}s (OPS_DB_MIGRATE_RETRY_DEADLINE), {attempts} attempt(s) "
        f"each waiting at most {policy.lock_wait:g}s (OPS_DB_MIGRATE_LOCK_WAIT) for a lock"
        + (f" on {on}" if on else "")
    )
    who = "; ".join(b.describe() for b in blockers) if blockers else "the blocking session was not seen"
    tail = f"nothing of it {outcome}" if outcome in {"applied", "undone"} else outcome
    return MigrationBlocked(f"{head}; blocked by {who}; {tail}")
