"""Runs the checks within a bound, whatever is locked.

Every check runs in its own transaction under its own ``statement_timeout`` and
``lock_timeout`` (``SET LOCAL``), each capped by what is left of the run's deadline
(``OPS_DB_HEALTH_TIMEOUT``, 10 s). While a check runs, a second connection watches who
blocks this run's sessions (``pg_blocking_pids``), so a check that times out names its
blocker. The whole run works in a thread the caller waits for until the deadline: even a
connection attempt or a server that stops answering cannot hold the answer back.
"""

from __future__ import annotations

import getpass
import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import class_row

from ops_db.core import settings
from ops_db.core.errors import ConfigurationError, OpsDbError
from ops_db.core.queries import q
from ops_db.ops.health.checks import APACHE_ONLY, CHECK_NAMES, CHECKS, TIMESCALE_ONLY, Context
from ops_db.ops.health.model import (
    DEFAULTS,
    CheckResult,
    HealthReport,
    Status,
    threshold,
)

APPLICATION_NAME = "ops-db health"
_MARGIN = 0.3  # seconds kept back from the deadline to write the answer


@dataclass(frozen=True)
class Budget:
    """Seconds: the whole run, and each check's statement and lock timeouts."""

    total: float = 10.0
    statement: float = 3.0
    lock: float = 1.0

    @classmethod
    def from_env(cls, total: float | None = None, statement: float | None = None,
                 lock: float | None = None) -> Budget:
        made = cls(
            total if total is not None else settings.env_quantity("OPS_DB_HEALTH_TIMEOUT", cls.total),
            statement
            if statement is not None
            else settings.env_quantity("OPS_DB_HEALTH_STATEMENT_TIMEOUT", cls.statement),
            lock if lock is not None else settings.env_quantity("OPS_DB_HEALTH_LOCK_TIMEOUT", cls.lock),
        )
        if min(made.total, made.statement, made.lock) <= 0:
            raise ConfigurationError("health timeouts must be positive (OPS_DB_HEALTH_TIMEOUT, _STATEMENT_TIMEOUT, "
                             "_LOCK_TIMEOUT)")
        return made

    @classmethod
    def parse(cls, total: str | None, statement: str | None, lock: str | None) -> Budget:
        """From option texts such as ``10``, ``10s`` or ``1m``; those not given from the environment."""
        def seconds(raw: str | None, what: str) -> float | None:
            return settings.parse_quantity(raw, what) if raw else None

        return cls.from_env(seconds(total, "--timeout"), seconds(statement, "--statement-timeout"),
                            seconds(lock, "--lock-timeout"))


def database_name(conninfo: str) -> str:
    """The database a conninfo names, as libpq would pick it; never the password."""
    try:
        params = conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError:
        params = {}
    for candidate in (params.get("dbname"), os.environ.get("PGDATABASE"), params.get("user"),
                      os.environ.get("PGUSER")):
        if candidate:
            return str(candidate)
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "?"


def with_timeouts(conninfo: str, statement: float, lock: float, connect: int) -> str:
    """``conninfo`` whose sessions start with these timeouts (added to options already given)."""
    params = conninfo_to_dict(conninfo)
    given = str(params.get("options") or os.environ.get("PGOPTIONS") or "")
    options = f"{given} -c statement_timeout={_ms(statement)} -c lock_timeout={_ms(lock)}".strip()
    return make_conninfo(conninfo, options=options, connect_timeout=str(connect))


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


@dataclass(frozen=True)
class Blocker:
    waiter: int
    pid: int
    who: str
    state: str
    query: str
    seconds: float
    wait_event: str

    @property
    def label(self) -> str:
        return f"pid {self.pid} ({self.who}, {self.state} for {self.seconds:.1f} s: {self.query or '?'})"


class Watcher:
    """A second connection that samples who blocks this run's sessions while a check runs."""

    def __init__(self, conninfo: str) -> None:
        self.conn = psycopg.connect(conninfo, autocommit=True, application_name=f"{APPLICATION_NAME} watcher")
        self.pids: list[int] = []
        self._lock = threading.Lock()
        self._active = threading.Event()
        self._stopped = threading.Event()
        self._generation = 0
        self._seen: list[Blocker] = []
        self.broken = ""
        self._thread = threading.Thread(target=self._loop, name="ops-db-health-watcher", daemon=True)
        self._thread.start()

    @contextmanager
    def watching(self, pids: list[int]) -> Iterator[Callable[[], list[Blocker]]]:
        with self._lock:
            self._generation += 1
            self._seen = []
            self.pids = list(pids)
        self._active.set()
        try:
            yield self.seen
        finally:
            self._active.clear()

    def seen(self) -> list[Blocker]:
        with self._lock:
            return list(self._seen)

    def _loop(self) -> None:
        while not self._stopped.is_set():
            if not self._active.wait(0.2):
                continue
            generation = self._generation
            if self._stopped.wait(0.15):  # most checks are done long before
                return
            while self._active.is_set() and generation == self._generation and not self._stopped.is_set():
                try:
                    with self.conn.cursor(row_factory=class_row(Blocker)) as cur:
                        rows = cur.execute(q("health_blockers"), {"pids": self.pids}).fetchall()
                except psycopg.Error as exc:
                    self.broken = (exc.diag.message_primary or str(exc)).strip() or type(exc).__name__
                    return
                with self._lock:
                    if rows and generation == self._generation:
                        self._seen = rows
                self._stopped.wait(0.1)

    def close(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=1.0)
        if not self._thread.is_alive():
            self.conn.close()


class _Run:
    """The state of one health run, shared by the worker thread and the caller."""

    def __init__(self, conninfo: str, wanted: set[str], budget: Budget) -> None:
        self.conninfo = conninfo
        self.wanted = wanted
        self.budget = budget
        self.started = time.monotonic()
        self.deadline = self.started + budget.total - _MARGIN
        self.lock = threading.Lock()
        self.results: list[CheckResult] = []
        self.current = "connection"
        self.database = database_name(conninfo)
        self.edition = "?"
        self.connected = False
        self.watcher: Watcher | None = None
        self.done = threading.Event()

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def add(self, result: CheckResult) -> None:
        with self.lock:
            self.results.append(result)

    def connect_timeout(self) -> int:
        # libpq counts whole seconds and takes at least 2.
        return max(2, min(settings.connect_timeout(), math.floor(self.remaining())))

    def work(self) -> None:
        try:
            self._work()
        except Exception as exc:  # never lose the answer to an unexpected error
            self.add(CheckResult(self.current, Status.UNKNOWN, f"check failed: {_reason(exc)}"))
        finally:
            self.done.set()

    def _work(self) -> None:
        session = with_timeouts(self.conninfo, self.budget.statement, self.budget.lock, self.connect_timeout())
        began = time.perf_counter()
        try:
            conn = psycopg.connect(session, application_name=APPLICATION_NAME)
        except psycopg.Error as exc:  # libpq's text never holds the password
            self.add(CheckResult("connection", Status.CRITICAL,
                                 f"cannot connect to {settings.redact(self.conninfo)}: {_reason(exc)}"))
            return
        connect_ms = (time.perf_counter() - began) * 1000
        with conn:
            try:
                row = conn.execute(q("server_facts")).fetchone()
                conn.rollback()
            except psycopg.Error as exc:  # e.g. the connection dropped right away
                self.add(CheckResult("connection", Status.CRITICAL, _reason(exc)))
                return
            assert row is not None
            self.edition, self.database, self.connected = str(row[2]), str(row[3]), True
            try:
                self.watcher = Watcher(with_timeouts(self.conninfo, 1.0, 0.5, self.connect_timeout()))
            except psycopg.Error as exc:
                self.watcher = None
                watcher_down = _reason(exc)
            else:
                watcher_down = ""
            try:
                self._checks(conn, connect_ms, watcher_down)
            finally:
                if self.watcher is not None:
                    self.watcher.close()

    def _checks(self, conn: psycopg.Connection[Any], connect_ms: float, watcher_down: str) -> None:
        own = [conn.info.backend_pid] + ([self.watcher.conn.info.backend_pid] if self.watcher else [])
        ctx = Context(conn, self.conninfo, self.edition, settings.backup_dir(), own)
        for name in CHECK_NAMES:
            if name not in self.wanted or (name in TIMESCALE_ONLY and self.edition != "timescale"):
                continue
            if name in APACHE_ONLY and self.edition != "apache":
                continue
            self.current = name
            left = self.remaining()
            if left < 0.05:
                self.add(not_run(name, self.budget.total))
                continue
            statement = min(self.budget.statement, left)
            lock = min(self.budget.lock, statement)
            ctx.conninfo = with_timeouts(self.conninfo, statement, lock, self.connect_timeout())
            ctx.budget = statement
            self.add(self._one(name, ctx, statement, lock, connect_ms, watcher_down))
            if conn.closed:
                self.add(CheckResult("connection", Status.CRITICAL, f"the connection was lost during {name}"))
                return

    def _one(self, name: str, ctx: Context, statement: float, lock: float, connect_ms: float,
             watcher_down: str) -> CheckResult:
        blockers: Callable[[], list[Blocker]] = list
        with self.watcher.watching(ctx.own_pids) if self.watcher else _no_watch() as seen:
            blockers = seen
            try:
                with ctx.conn.transaction():
                    ctx.conn.execute(q("health_set_timeouts"),
                                     {"statement_ms": str(_ms(statement)), "lock_ms": str(_ms(lock))})
                    result = CHECKS[name](ctx)
            except Exception as exc:
                timeout = _timeout_error(exc)
                if timeout is not None:
                    return _blocked(name, timeout, blockers(), statement, lock,
                                    watcher_down or (self.watcher.broken if self.watcher else ""))
                return CheckResult(name, Status.UNKNOWN, f"check failed: {_reason(exc)}")
        if name == "connection":
            return CheckResult(name, result.status, f"connected in {connect_ms:.1f} ms, {result.summary}",
                               result.value, result.threshold, result.figures)
        return result

    def report(self) -> HealthReport:
        """What is known now; a check still running and those not reached are reported as such."""
        with self.lock:
            results = list(self.results)
            finished = self.done.is_set()
        if not finished:
            done = {r.name for r in results}
            if not self.connected:
                results.append(CheckResult("connection", Status.CRITICAL,
                                           f"no connection to {settings.redact(self.conninfo)} within "
                                           f"{self.budget.total:g} s (OPS_DB_HEALTH_TIMEOUT)"))
            else:
                seen = self.watcher.seen() if self.watcher else []
                text = f"did not finish within the health deadline of {self.budget.total:g} s"
                if seen:
                    text += "; blocked by " + ", ".join(b.label for b in _distinct(seen))
                results.append(CheckResult(self.current, Status.CRITICAL, text))
                results += [not_run(n, self.budget.total) for n in CHECK_NAMES
                            if n in self.wanted and n not in done and n != self.current
                            and not (n in TIMESCALE_ONLY and self.edition != "timescale")
                            and not (n in APACHE_ONLY and self.edition != "apache")]
        return HealthReport(self.database, self.edition, tuple(results), self.connected,
                            time.monotonic() - self.started)


@contextmanager
def _no_watch() -> Iterator[Callable[[], list[Blocker]]]:
    yield list


def _timeout_error(exc: BaseException) -> psycopg.Error | None:
    """The lock or statement timeout behind ``exc`` (also when ops_db wrapped it in its own error)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, (pg_errors.LockNotAvailable, pg_errors.QueryCanceled)):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _distinct(blockers: list[Blocker]) -> list[Blocker]:
    out: dict[int, Blocker] = {}
    for b in blockers:
        out.setdefault(b.pid, b)
    return list(out.values())


def _blocked(name: str, exc: psycopg.Error, blockers: list[Blocker], statement: float, lock: float,
             watcher_down: str) -> CheckResult:
    th = threshold(name) if name in DEFAULTS else None
    if isinstance(exc, pg_errors.LockNotAvailable):
        text = f"could not finish: waited {lock:g} s for a lock (lock_timeout)"
    else:
        text = f"could not finish within its statement timeout of {statement:g} s"
    if blockers:
        return CheckResult(name, Status.CRITICAL,
                           text + "; blocked by " + ", ".join(b.label for b in _distinct(blockers)), None, th)
    if watcher_down:
        text += f"; blocker unknown (no watcher connection: {watcher_down})"
    status = Status.CRITICAL if isinstance(exc, pg_errors.LockNotAvailable) else Status.WARNING
    return CheckResult(name, status, text, None, th)


def not_run(name: str, total: float) -> CheckResult:
    return CheckResult(name, Status.UNKNOWN, f"not run: the health deadline of {total:g} s was reached")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, psycopg.Error) and exc.diag.message_primary:
        return " ".join(exc.diag.message_primary.split())
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def check_names(only: set[str] | None, skip: set[str] | None) -> set[str]:
    wanted = set(only or CHECK_NAMES) - set(skip or ())
    unknown = (set(only or ()) | set(skip or ())) - set(CHECK_NAMES)
    if unknown:
        raise OpsDbError(f"unknown check(s) {', '.join(sorted(unknown))}; known: {', '.join(CHECK_NAMES)}")
    return wanted


def run_checks(explicit_url: str | None, only: set[str] | None = None, skip: set[str] | None = None,
               budget: Budget | None = None) -> HealthReport:
    """Every applicable check, answered within ``budget.total`` seconds; never raises for a check's failure."""
    wanted = check_names(only, skip)
    budget = budget or Budget.from_env()
    for name in wanted & set(DEFAULTS):
        threshold(name)  # a bad threshold is a usage error, before anything runs
    try:
        source = settings.resolve(explicit_url)
    except OpsDbError as exc:
        return HealthReport(database_name(""), "?", (CheckResult("connection", Status.UNKNOWN, str(exc)),), False)
    run = _Run(source.conninfo, wanted, budget)
    worker = threading.Thread(target=run.work, name="ops-db-health", daemon=True)
    worker.start()
    worker.join(timeout=max(0.0, run.remaining() + _MARGIN / 2))
    return run.report()
