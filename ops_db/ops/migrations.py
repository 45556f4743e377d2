"""The migration runner: yoyo-migrations underneath, with what a deploy needs on top.

- One session-level advisory lock per database: a second run waits (bounded) and then
  finds nothing to do; a crashed run's lock dies with its connection.
- A migration and its bookkeeping commit together: a failing migration leaves no trace.
- A sha256 of each migration file (and its rollback) is stored when it is applied, so
  ``verify`` can tell when an applied migration was edited afterwards.
- SQL under ``sql/schema/`` (functions, views) is re-applied whenever its text changes.
- Every statement runs under ``lock_timeout``; a migration that cannot get its locks is rolled
  back and retried with backoff until a deadline (ops_db.ops.migration_locks), so a waiting
  migration never holds the desk's sessions up for longer than that timeout.
- ``rollback`` never undoes the foundation (extension, roles, schemas) unless asked to.

The files stay plain yoyo migrations: ``yoyo apply --database URL migrations/`` works too.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from yoyo import read_migrations
from yoyo.backends.core.postgresql import PostgresqlPsycopgBackend
from yoyo.connections import parse_uri
from yoyo.migrations import topological_sort

from ops_db.core import paths, settings
from ops_db.core.error_map import translate
from ops_db.core.errors import DatabaseUnavailable, MigrationError, MigrationLockTimeout, RollbackRefused
from ops_db.ops.migration_locks import BlockerWatch, LockPolicy, watching, with_lock_retries
from ops_db.ops.system import refuse_read_only

# The migrations everything else stands on: the extension, the cluster-wide roles, the schemas.
# Undoing them drops every object of the database (and roles other databases may use), so
# `rollback` refuses to unless told --all.
FOUNDATION = ("0001_timescaledb", "0002_roles", "0003_schemas")
LOCK_KEY = 0x6F70_7364_62  # "opsdb": one advisory lock key for every migration run
MIGRATION_TABLE = "_yoyo_migration"
BOOKKEEPING_SQL = """
CREATE TABLE IF NOT EXISTS public._ops_db_checksum (
    migration_id text PRIMARY KEY,
    sha256 text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS public._ops_db_reapplied (
    path text PRIMARY KEY,
    sha256 text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
"""
GRANT_BOOKKEEPING_SQL = """
GRANT SELECT, INSERT, UPDATE, DELETE ON public._yoyo_migration, public._yoyo_log, public._yoyo_version,
    public.yoyo_lock, public._ops_db_checksum, public._ops_db_reapplied TO ops_owner;
GRANT SELECT ON public._yoyo_migration, public._ops_db_checksum, public._ops_db_reapplied TO ops_app, ops_readonly;
"""


@dataclass(frozen=True)
class MigrationState:
    id: str
    applied_at: datetime | None
    changed: bool  # applied, and the file differs from what was applied
    missing: bool  # applied, and the file is gone
    transactional: bool

    @property
    def status(self) -> str:
        if self.missing:
            return "missing file"
        if self.applied_at is None:
            return "pending"
        return "changed" if self.changed else "applied"


@dataclass(frozen=True)
class ReappliedState:
    name: str
    status: str  # applied | changed | not applied | waiting (for its migrations) | file gone
    requires: tuple[str, ...]

    @property
    def problem(self) -> bool:
        """Not what `ops-db migrate` leaves behind (e.g. after a plain `yoyo apply`)."""
        return self.status in {"changed", "not applied", "file gone"}


@dataclass(frozen=True)
class RollbackStep:
    id: str
    drops: tuple[str, ...]  # what the rollback file drops or deletes, one statement a line


_DROPS = re.compile(
    r"\b(?:ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?\S+\s+DROP\b[^;]*?"
    r"|DROP\s+[A-Z ]*?(?:TABLE|VIEW|FUNCTION|PROCEDURE|SCHEMA|EXTENSION|INDEX|TRIGGER|TYPE|"
    r"SEQUENCE|ROLE|POLICY|DOMAIN|AGGREGATE)\b[^;]*?"
    r"|DELETE\s+FROM\b[^;]*?"
    r"|(?:SELECT|PERFORM)\s+(?:remove|drop|decompress)_\w+\s*\([^;]*?)(?=;|$)",
    re.IGNORECASE,
)


def rollback_drops(text: str) -> tuple[str, ...]:
    """DROP / DELETE / ALTER ... DROP statements of a rollback file, one line each (inside DO blocks too)."""
    body = "\n".join(line.split("--", 1)[0] for line in text.splitlines())
    found = []
    for match in _DROPS.finditer(body):
        statement = " ".join(match.group(0).split())
        if statement and statement not in found:
            found.append(statement)
    return tuple(found)


@dataclass(frozen=True)
class ReappliedFile:
    path: Path
    requires: tuple[str, ...]
    up: str
    drop: str

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def file_checksum(migration_path: Path) -> str:
    """sha256 over a migration and its rollback file, so editing either is noticed."""
    digest = hashlib.sha256(migration_path.read_bytes())
    rollback = migration_path.with_name(migration_path.stem + ".rollback.sql")
    if rollback.exists():
        digest.update(b"\0rollback\0")
        digest.update(rollback.read_bytes())
    return digest.hexdigest()


def read_reapplied(directory: Path) -> list[ReappliedFile]:
    """Files under sql/schema: ``-- requires: ID ...`` header, body, ``-- @drop`` section."""
    files = []
    for path in sorted(directory.glob("*.sql")):
        text = path.read_text()
        up, _, drop = text.partition("\n-- @drop\n")
        requires: tuple[str, ...] = ()
        for line in text.splitlines():
            if line.startswith("-- requires:"):
                requires = tuple(line.split(":", 1)[1].split())
                break
        files.append(ReappliedFile(path, requires, up, drop))
    return files


_TRANSACTIONAL = re.compile(r"^\s*--\s*transactional\s*:\s*(.*?)\s*$")


def transactional(path: Path) -> bool:
    """yoyo's ``-- transactional: false`` directive, read from the file's leading comments."""
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("--"):
            break
        found = _TRANSACTIONAL.match(line)
        if found:
            return found.group(1).lower() != "false"
    return True


def _quietly(step: Any, *args: Any) -> None:
    """Run a yoyo call without the result tables it prints for statements that return rows."""
    with contextlib.redirect_stdout(io.StringIO()):
        step(*args)


def _backend_class(conninfo: str) -> type[PostgresqlPsycopgBackend]:
    class Backend(PostgresqlPsycopgBackend):  # type: ignore[misc]
        """yoyo's psycopg 3 backend, connecting with our conninfo (never a URL with a password)."""

        # Set by the runner: a statement outside a transaction (non-transactional migrations)
        # that times out on a lock is retried by itself; inside one, the whole migration is.
        retry: Callable[[str, Callable[[], Any]], Any] | None = None

        def connect(self, dburi: Any) -> psycopg.Connection[Any]:
            try:
                return psycopg.connect(
                    conninfo,
                    autocommit=True,
                    application_name="ops-db migrate",
                    # A killed runner's statement is cancelled within seconds, releasing the lock.
                    options="-c search_path=public -c client_connection_check_interval=2000",
                )
            except psycopg.OperationalError as exc:
                raise unavailable(conninfo, exc) from None

        def cursor(self) -> Any:
            cursor = self.connection.cursor()
            if self.retry is None or self._in_transaction:
                return cursor
            return _RetryingCursor(cursor, self.retry)

    return Backend


class _RetryingCursor:
    """A cursor whose autocommit statements are retried when they time out on a lock."""

    def __init__(self, cursor: psycopg.Cursor[Any], retry: Callable[[str, Callable[[], Any]], Any]) -> None:
        self._cursor = cursor
        self._retry = retry

    def execute(self, statement: Any, *args: Any) -> Any:
        first_line = str(statement).strip().splitlines()[0][:80] if str(statement).strip() else "statement"
        return self._retry(f"statement {first_line!r}", lambda: self._cursor.execute(statement, *args))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


def unavailable(conninfo: str, exc: psycopg.OperationalError) -> DatabaseUnavailable:
    """The one-line connection failure every command prints: where (no password) and libpq's reason."""
    # libpq's text names host and port but never the password; its lines joined into one.
    detail = " ".join(line.strip() for line in str(exc).splitlines() if line.strip()) or "failed"
    return DatabaseUnavailable(f"cannot connect to {settings.redact(conninfo)}: {detail}")


class Runner:
    def __init__(
        self,
        conninfo: str,
        directory: Path | None = None,
        sql_directory: Path | None = None,
        lock_timeout: float | None = None,
        lock_wait: float | None = None,
        retry_deadline: float | None = None,
        statement_timeout: float | None = None,
    ) -> None:
        self.conninfo = conninfo
        self.directory = directory or paths.migrations_dir()
        self.sql_directory = sql_directory if sql_directory is not None else paths.sql_dir() / "schema"
        # lock_timeout: how long to wait for another run's advisory lock (the whole run).
        self.lock_timeout = (
            lock_timeout if lock_timeout is not None else settings.env_float("OPS_DB_MIGRATE_LOCK_TIMEOUT", 60.0)
        )
        # policy: how long each statement waits for a table lock, and how long to retry.
        self.policy = LockPolicy.from_env(lock_wait, retry_deadline, statement_timeout)

    # -- reading --------------------------------------------------------------------
    def migrations(self) -> Any:
        return read_migrations(str(self.directory))

    def _path(self, migration: Any) -> Path:
        return Path(migration.path)

    def _applied(self, conn: psycopg.Connection[Any]) -> dict[str, datetime]:
        exists = conn.execute("SELECT to_regclass('public._yoyo_migration') IS NOT NULL").fetchone()
        if not exists or not exists[0]:
            return {}
        rows = conn.execute(
            "SELECT migration_id, applied_at_utc FROM public._yoyo_migration ORDER BY applied_at_utc, migration_id"
        ).fetchall()
        return {row[0]: row[1] for row in rows}

    def _checksums(self, conn: psycopg.Connection[Any]) -> dict[str, str]:
        exists = conn.execute("SELECT to_regclass('public._ops_db_checksum') IS NOT NULL").fetchone()
        if not exists or not exists[0]:
            return {}
        return {row[0]: row[1] for row in conn.execute("SELECT migration_id, sha256 FROM public._ops_db_checksum")}

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            return psycopg.connect(self.conninfo, autocommit=True, application_name="ops-db migrate")
        except psycopg.OperationalError as exc:
            raise unavailable(self.conninfo, exc) from None

    def status(self) -> list[MigrationState]:
        """Every migration, applied (when) or pending; also applied ones whose file is gone."""
        with self._connect() as conn:
            applied = self._applied(conn)
            sums = self._checksums(conn)
        states = []
        known = set()
        for migration in self.migrations():  # not loaded: yoyo's statement parsing costs ~50 ms a file
            known.add(migration.id)
            when = applied.get(migration.id)
            stored = sums.get(migration.id)
            changed = bool(when and stored and stored != file_checksum(self._path(migration)))
            states.append(MigrationState(migration.id, when, changed, False, transactional(self._path(migration))))
        for mid, when in applied.items():
            if mid not in known:
                states.append(MigrationState(mid, when, False, True, True))
        return states

    def schema_status(self) -> list[ReappliedState]:
        """Each sql/schema file: applied, changed, not applied (plain yoyo never applies them) or waiting."""
        with self._connect() as conn:
            applied = set(self._applied(conn))
            stored = self._reapplied_rows(conn)
        states = []
        files = read_reapplied(self.sql_directory)
        for item in files:
            if item.name in stored:
                status = "applied" if stored[item.name] == item.sha256 else "changed"
            else:
                status = "not applied" if set(item.requires) <= applied else "waiting"
            states.append(ReappliedState(item.name, status, item.requires))
        for name in sorted(set(stored) - {f.name for f in files}):
            states.append(ReappliedState(name, "file gone", ()))
        return states

    def verify(self) -> list[str]:
        """Problems with the migration files and records; empty when all is well.

        The catalog comparison (drift) is ops_db.ops.drift.verify, which runs this first.
        """
        return self._bookkeeping_problems()

    def _bookkeeping_problems(self) -> list[str]:
        problems = []
        with self._connect() as conn:
            sums = self._checksums(conn)
        for state in self.status():
            if state.missing:
                problems.append(f"{state.id}: applied, but its migration file is missing")
            elif state.applied_at is None:
                problems.append(f"{state.id}: pending")
            elif state.changed:
                problems.append(f"{state.id}: file changed after it was applied (checksum differs)")
            elif state.id not in sums:
                problems.append(f"{state.id}: no checksum recorded (applied outside ops-db); run 'ops-db migrate'")
        for item in self.schema_status():
            if item.problem:
                problems.append(f"sql/schema/{item.name}: {item.status}; run 'ops-db migrate'")
        return problems

    def plan(self, to: str | None = None) -> list[Any]:
        with self._connect() as conn:
            applied = self._applied(conn)
        return self._pending(applied, to)

    def _pending(self, applied: dict[str, datetime], to: str | None) -> list[Any]:
        migrations = self.migrations()
        ids = [m.id for m in migrations]
        if to is not None and to not in ids:
            raise MigrationError(f"no migration named {to!r}")
        if to is not None and to in applied:
            return []
        pending = [m for m in topological_sort(m for m in migrations if m.id not in applied)]
        if to is not None:
            pending = pending[: [m.id for m in pending].index(to) + 1]
        return pending

    def dry_run(self, to: str | None = None) -> str:
        """The SQL `migrate` would run, changing nothing."""
        with self._connect() as conn:
            applied = self._applied(conn)
            reapplied = self._reapplied_rows(conn)
        out = []
        for migration in self._pending(applied, to):
            migration.load()
            kind = "" if migration.use_transactions else " (non-transactional)"
            out.append(f"-- migration {migration.id}{kind}\n{self._path(migration).read_text().rstrip()}\n")
        after = set(applied) | {m.id for m in self._pending(applied, to)}
        for item in read_reapplied(self.sql_directory):
            if set(item.requires) <= after and reapplied.get(item.name) != item.sha256:
                out.append(f"-- re-apply sql/schema/{item.name}\n{item.up.rstrip()}\n")
        return "\n".join(out)

    # -- changing -------------------------------------------------------------------
    @contextmanager
    def _locked_backend(self) -> Iterator[tuple[PostgresqlPsycopgBackend, BlockerWatch]]:
        backend = _backend_class(self.conninfo)(parse_uri("postgresql+psycopg:///ops_db"), MIGRATION_TABLE)
        conn = backend.connection
        try:
            refuse_read_only(conn, "ops-db migrate")
            deadline = time.monotonic() + self.lock_timeout
            while True:
                got = conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()
                if got and got[0]:
                    break
                if time.monotonic() >= deadline:
                    raise MigrationLockTimeout(
                        f"another migration run holds the lock; gave up after {self.lock_timeout:g}s "
                        "(OPS_DB_MIGRATE_LOCK_TIMEOUT)"
                    )
                time.sleep(0.2)
            self.policy.apply(conn)
            with watching(self.conninfo, conn) as watch:
                backend.retry = lambda what, once: with_lock_retries(
                    self.policy, what, once, watch, "the statements before it stay (non-transactional migration)"
                )
                self._retried("bookkeeping tables", watch, lambda: self._init_bookkeeping(backend))
                yield backend, watch
        finally:
            with suppress(psycopg.Error):
                conn.execute("SELECT pg_advisory_unlock_all()")
            conn.close()

    def _retried(self, what: str, watch: BlockerWatch, once: Callable[[], Any], undo: bool = False) -> Any:
        return with_lock_retries(self.policy, what, once, watch, outcome="undone" if undo else "applied")

    @staticmethod
    def _init_bookkeeping(backend: PostgresqlPsycopgBackend) -> None:
        backend.init_database()
        backend.ensure_internal_schema_updated()
        backend.connection.execute(BOOKKEEPING_SQL)

    def migrate(self, to: str | None = None) -> list[str]:
        """Apply pending migrations (up to and including ``to``), then changed re-applied SQL."""
        return self.migrate_report(to)[0]

    def migrate_report(self, to: str | None = None) -> tuple[list[str], list[str]]:
        """Like ``migrate``; also the sql/schema files it (re-)applied."""
        done: list[str] = []
        with self._locked_backend() as (backend, watch):
            conn = backend.connection
            applied = self._applied(conn)
            self._record_missing_checksums(conn, applied)
            for migration in self._pending(applied, to):
                self._apply_one(backend, watch, migration)
                done.append(migration.id)
            reapplied = self._reapply(conn, watch, set(self._applied(conn)), everything=bool(done))
            self._grant_bookkeeping(conn)
        return done, reapplied

    def _apply_one(self, backend: PostgresqlPsycopgBackend, watch: BlockerWatch, migration: Any) -> None:
        migration.load()
        checksum = file_checksum(self._path(migration))
        conn = backend.connection

        def once() -> None:
            try:
                if migration.use_transactions:
                    with backend.transaction():
                        _quietly(migration.process_steps, backend, "apply")
                        self._mark(backend, migration, checksum)
                else:
                    # Each statement retries its own lock waits (the backend's cursor); yoyo
                    # undoes the steps it ran when one fails; bookkeeping follows success only.
                    _quietly(migration.process_steps, backend, "apply")
                    with backend.transaction():
                        self._mark(backend, migration, checksum)
            except psycopg.Error:
                with suppress(psycopg.Error):
                    conn.execute("RESET ROLE")
                raise

        try:
            self._retried(f"migration {migration.id}", watch, once)
        except psycopg.Error as exc:
            raise MigrationError(f"migration {migration.id} failed, nothing of it applied: {translate(exc)}") from exc

    def _mark(self, backend: PostgresqlPsycopgBackend, migration: Any, checksum: str) -> None:
        backend.execute("RESET ROLE")
        backend.mark_one(migration)
        backend.execute(
            "INSERT INTO public._ops_db_checksum (migration_id, sha256) VALUES (:id, :sha) "
            "ON CONFLICT (migration_id) DO UPDATE SET sha256 = EXCLUDED.sha256, recorded_at = now()",
            {"id": migration.id, "sha": checksum},
        )

    def _record_missing_checksums(self, conn: psycopg.Connection[Any], applied: dict[str, datetime]) -> None:
        """Adopt migrations applied by plain yoyo: trust their current files once."""
        sums = self._checksums(conn)
        for migration in self.migrations():
            if migration.id in applied and migration.id not in sums:
                conn.execute(
                    "INSERT INTO public._ops_db_checksum (migration_id, sha256) VALUES (%s, %s)",
                    (migration.id, file_checksum(self._path(migration))),
                )

    # -- rolling back -------------------------------------------------------------------
    def _victims(
        self, applied: dict[str, datetime], steps: int | None, to: str | None, everything: bool,
        allow_foundation: bool = False,
    ) -> list[Any]:
        """The migrations a rollback undoes, newest first; refuses what it must not do."""
        migrations = self.migrations()
        if to is not None and to not in [m.id for m in migrations]:
            raise MigrationError(f"no migration named {to!r}")
        ordered = list(reversed(list(topological_sort(m for m in migrations if m.id in applied))))
        if everything:
            return ordered
        if to is not None:
            ids = [m.id for m in ordered]
            if to not in ids:
                raise MigrationError(f"{to} is not applied")
            victims = ordered[: ids.index(to)]
        else:
            wanted = 1 if steps is None else steps
            if wanted > len(ordered):
                raise RollbackRefused(
                    f"refusing to roll back {wanted} migration(s): only {len(ordered)} applied, nothing undone"
                )
            victims = ordered[:wanted]
        foundation = [m.id for m in victims if m.id in FOUNDATION]
        if foundation and not allow_foundation:
            raise RollbackRefused(
                f"refusing to undo {', '.join(foundation)} (extension, roles, schemas: every object goes with "
                "them) without --all; nothing undone"
            )
        return victims

    def rollback_plan(self, steps: int | None = None, to: str | None = None, everything: bool = False
                      ) -> list[RollbackStep]:
        """What ``rollback`` would undo, newest first, and what each rollback file drops; changes nothing."""
        with self._connect() as conn:
            applied = self._applied(conn)
        plan = []
        for migration in self._victims(applied, steps, to, everything):
            rollback_file = self._path(migration).with_name(self._path(migration).stem + ".rollback.sql")
            text = rollback_file.read_text() if rollback_file.exists() else ""
            plan.append(RollbackStep(migration.id, rollback_drops(text)))
        return plan

    def rollback(
        self, steps: int | None = None, to: str | None = None, everything: bool = False, allow_foundation: bool = False
    ) -> list[str]:
        """Undo the last ``steps`` migrations (default 1), every one applied after ``to``, or ``everything``.

        The foundation (FOUNDATION) is undone only with ``everything`` (``--all``) or ``allow_foundation``.
        """
        done: list[str] = []
        with self._locked_backend() as (backend, watch):
            conn = backend.connection
            victims = self._victims(self._applied(conn), steps, to, everything, allow_foundation)
            if not victims:
                return done
            self._retried("dropping sql/schema objects", watch, lambda: self._drop_reapplied(conn), undo=True)
            for migration in victims:
                migration.load()

                def once(migration: Any = migration) -> None:
                    with backend.transaction():
                        _quietly(migration.process_steps, backend, "rollback")
                        backend.execute("RESET ROLE")
                        backend.unmark_one(migration)
                        backend.execute(
                            "DELETE FROM public._ops_db_checksum WHERE migration_id = :id", {"id": migration.id}
                        )

                try:
                    self._retried(f"rollback of {migration.id}", watch, once, undo=True)
                except (psycopg.Error, MigrationError) as exc:
                    with suppress(psycopg.Error, MigrationError):
                        self._reapply(conn, watch, set(self._applied(conn)))
                    if isinstance(exc, MigrationError):
                        raise
                    raise MigrationError(
                        f"rollback of {migration.id} failed, nothing of it undone: {translate(exc)}"
                    ) from exc
                done.append(migration.id)
            self._reapply(conn, watch, set(self._applied(conn)))
        return done

    # -- re-applied SQL ---------------------------------------------------------------
    def _reapplied_rows(self, conn: psycopg.Connection[Any]) -> dict[str, str]:
        exists = conn.execute("SELECT to_regclass('public._ops_db_reapplied') IS NOT NULL").fetchone()
        if not exists or not exists[0]:
            return {}
        return {row[0]: row[1] for row in conn.execute("SELECT path, sha256 FROM public._ops_db_reapplied")}

    def _reapply(
        self, conn: psycopg.Connection[Any], watch: BlockerWatch, applied: set[str], everything: bool = False
    ) -> list[str]:
        """Apply each sql/schema file whose text changed (and whose migrations are applied); their names.

        A file may drop and recreate what a later file decorates (a view whose columns 900_comments
        describes), and a migration may do the same to what any file made: so once one file is
        re-applied, or when ``everything`` (migrations ran), every later file is re-applied too.
        """
        stored = self._reapplied_rows(conn)
        done: list[str] = []
        for item in read_reapplied(self.sql_directory):
            if not set(item.requires) <= applied:
                continue
            if not (everything or done) and stored.get(item.name) == item.sha256:
                continue

            def once(item: ReappliedFile = item) -> None:
                try:
                    with conn.transaction():
                        self._as_owner(conn)
                        conn.execute(item.up)  # trusted file from the package
                        conn.execute("RESET ROLE")
                        conn.execute(
                            "INSERT INTO public._ops_db_reapplied (path, sha256) VALUES (%s, %s) "
                            "ON CONFLICT (path) DO UPDATE SET sha256 = EXCLUDED.sha256, applied_at = now()",
                            (item.name, item.sha256),
                        )
                finally:
                    with suppress(psycopg.Error):
                        conn.execute("RESET ROLE")

            try:
                self._retried(f"sql/schema/{item.name}", watch, once)
            except psycopg.Error as exc:
                raise MigrationError(f"sql/schema/{item.name} failed, not applied: {translate(exc)}") from exc
            done.append(f"sql/schema/{item.name}")
        return done

    def _drop_reapplied(self, conn: psycopg.Connection[Any]) -> None:
        """Drop every re-applied object first, so rollbacks never trip over a dependent view."""
        stored = self._reapplied_rows(conn)
        for item in reversed(read_reapplied(self.sql_directory)):
            if item.name not in stored:
                continue
            with conn.transaction():
                if item.drop.strip():
                    self._as_owner(conn)
                    conn.execute(item.drop)  # trusted file from the package
                    conn.execute("RESET ROLE")
                conn.execute("DELETE FROM public._ops_db_reapplied WHERE path = %s", (item.name,))

    @staticmethod
    def _grant_bookkeeping(conn: psycopg.Connection[Any]) -> None:
        """Let ops_owner run later migrations, and the other roles read migration status."""
        roles = {r[0] for r in conn.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE 'ops\\_%'")}
        if not {"ops_owner", "ops_app", "ops_readonly"} <= roles:
            return
        with suppress(psycopg.errors.InsufficientPrivilege), conn.transaction():
            conn.execute(GRANT_BOOKKEEPING_SQL)

    @staticmethod
    def _as_owner(conn: psycopg.Connection[Any]) -> None:
        row = conn.execute(
            "SELECT pg_has_role(current_user, 'ops_owner', 'USAGE') FROM pg_roles WHERE rolname = 'ops_owner'"
        ).fetchone()
        if row and row[0]:
            conn.execute("SET ROLE ops_owner")

