"""Backups: manifests, checksums, restoring into a fresh database, and `ops-db backup verify`.

scripts/backup.sh calls `ops-db backup dump` (take_dump): pg_dump and the manifest's row
counts read one exported snapshot, so the manifest says exactly what the dump holds.
scripts/restore.sh calls `ops-db backup restore` (restore); it and `ops-db backup verify`
share `restore_into_new_database()`.

A backup set is three files side by side:
``<db>_<mode>_<YYYYmmddTHHMMSSZ>.dump`` (pg_dump custom format), ``.manifest.json`` and
``.sha256`` (sha256sum format over the dump and the manifest; written last, so a set
without it is incomplete).
"""

from __future__ import annotations

import ctypes
import fcntl
import hashlib
import json
import os
import re
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import pq, sql
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import class_row

from ops_db.core import db, settings
from ops_db.core.error_map import map_errors
from ops_db.core.errors import (
    BackupError,
    ChecksumMismatch,
    ConfigurationError,
    CountMismatch,
    DumpFailed,
    DumpUnreadable,
    RestoredUnverified,
    RestoreFailed,
    RestoreLocked,
    RestoreUsageError,
    TargetNotEmpty,
    VersionMismatch,
)
from ops_db.core.queries import q
from ops_db.ops.catalog import data_relations, row_counts
from ops_db.ops.system import server_facts

MANIFEST_FORMAT = 1
MODES = ("full", "schema", "data")
SET_NAME = re.compile(r"^(?P<db>.+)_(?P<mode>full|schema|data)_(?P<stamp>\d{8}T\d{6}Z)\.dump$")


# -- connection settings for the PostgreSQL client programs ----------------------------
# Client-side options libpq has no environment variable for and that do not change
# which server or role is used: dropped rather than refused.
_DROPPABLE = {"fallback_application_name", "keepalives", "keepalives_idle", "keepalives_interval",
              "keepalives_count", "tcp_user_timeout"}


def libpq_environment(conninfo: str) -> dict[str, str]:
    """PG* variables equivalent to ``conninfo``, for pg_dump/pg_restore/psql.

    A password becomes PGPASSWORD in the child's environment only: never a command line,
    the output or a file, so a process killed at any point leaves no secret on disk (on
    Linux a process's environment is readable by its own user only). Without a password,
    ~/.pgpass (or an existing PGPASSFILE) applies as usual.
    """
    if not conninfo:
        return {}
    try:
        params = conninfo_to_dict(conninfo)
    except Exception:
        raise ConfigurationError("the connection string is not valid") from None
    envvars = {o.keyword.decode(): o.envvar.decode() for o in pq.Conninfo.get_defaults() if o.envvar}
    env: dict[str, str] = {}
    for key, value in params.items():
        if value is None or key in _DROPPABLE:
            continue
        if key not in envvars:
            raise ConfigurationError(f"connection parameter {key!r} cannot be passed to the PostgreSQL tools")
        env[envvars[key]] = str(value)
    return env


# -- manifests --------------------------------------------------------------------------
@dataclass(frozen=True)
class AppliedMigration:
    id: str
    applied_at: datetime


@dataclass(frozen=True)
class Manifest:
    database: str
    mode: str
    created_at: str
    dump_file: str
    dump_bytes: int
    dump_sha256: str
    postgres_version: str
    timescaledb_version: str | None
    edition: str
    pg_dump_version: str
    migrations: tuple[dict[str, str], ...]
    migration_problems: tuple[str, ...]
    row_counts: dict[str, int]
    tables: tuple[str, ...] = ()
    verified_with: str = "pg_restore --list"
    format: int = MANIFEST_FORMAT

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def load(cls, path: Path) -> Manifest:
        try:
            raw: dict[str, Any] = json.loads(path.read_text())
            if raw.get("format") != MANIFEST_FORMAT:
                raise BackupError(f"{path.name}: manifest format {raw.get('format')!r} is not supported")
            raw["migrations"] = tuple(raw["migrations"])
            raw["migration_problems"] = tuple(raw["migration_problems"])
            raw["tables"] = tuple(raw.get("tables", ()))
            raw["row_counts"] = {str(k): int(v) for k, v in raw["row_counts"].items()}
            return cls(**raw)
        except FileNotFoundError:
            raise ChecksumMismatch(f"manifest {path} is missing") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise BackupError(f"{path.name} is not a valid manifest: {exc}") from None


def manifest_path(dump: Path) -> Path:
    return dump.with_name(dump.name.removesuffix(".dump") + ".manifest.json")


def checksum_path(dump: Path) -> Path:
    return dump.with_name(dump.name.removesuffix(".dump") + ".sha256")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class NewDump:
    """A dump, its manifest and sha256 in the work directory, not yet in place under ``name``."""

    name: str
    dump: Path
    manifest: Path


def take_dump(conninfo: str, *, mode: str, tables: tuple[str, ...], work: Path, backup_dir: Path) -> NewDump:
    """pg_dump into ``work`` and write its manifest and checksums, reading one exported snapshot.

    The row counts, migrations and server facts are read in the snapshot's own transaction
    while pg_dump runs, so they are exactly what the dump holds and cost no extra wall time.
    The dump must read back with ``pg_restore --list`` before the manifest is written.
    """
    from ops_db.ops.migrations import Runner

    if mode not in MODES:
        raise ConfigurationError(f"unknown backup mode {mode!r}")
    level = compression_level()
    env = {**os.environ, **libpq_environment(conninfo)}
    dump, log = work / "dump", work / "pg_dump.log"
    with db.connect(conninfo) as conn, map_errors():
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        snapshot = str(_one(conn, q("export_snapshot")))
        args = ["pg_dump", "--format=custom", f"--compress={level}", "--no-password", f"--snapshot={snapshot}",
                f"--file={dump}"]
        if mode == "schema":
            # Not --schema-only: that leaves out TimescaleDB's catalog (hypertables would come back
            # as plain tables) and the migration bookkeeping. Only the rows of user tables stay out.
            args += ["--exclude-table-data=trading.*", "--exclude-table-data=_timescaledb_internal.*"]
        elif mode == "data":
            chunks = [row[0] for row in conn.execute(q("chunks_of"), {"tables": list(tables)})]
            args += ["--data-only", "--strict-names", *(f"--table={t}" for t in (*tables, *chunks))]
        try:
            with log.open("wb") as err:
                proc = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=err, preexec_fn=_die_with_parent)
        except FileNotFoundError:
            raise ConfigurationError("pg_dump is not installed (PostgreSQL's client programs)") from None
        try:
            facts = server_facts(conn)
            name = _free_name(backup_dir, facts.database, mode)
            with conn.cursor(row_factory=class_row(AppliedMigration)) as cur:
                applied = cur.execute(q("migration_rows")).fetchall()
            if mode == "schema":
                counts = {rel.qualified: 0 for rel in data_relations(conn)}
            else:
                counts = row_counts(conn, set(tables) if mode == "data" else None)
            problems = tuple(Runner(conninfo).verify())
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        returncode = proc.wait()
    if returncode != 0:
        raise DumpFailed(f"pg_dump failed (exit {returncode}): {_tail(log)}; no backup written")
    listing = subprocess.run(["pg_restore", "--list", str(dump)], env=env, capture_output=True, text=True,
                             check=False, preexec_fn=_die_with_parent)
    made_by = _DUMPED_BY.search(listing.stdout)
    if listing.returncode != 0 or "; Archive created at" not in listing.stdout or not made_by:
        raise DumpUnreadable(f"pg_restore --list cannot read the dump: {listing.stderr.strip()[-300:]}; "
                             "no backup written")
    manifest = Manifest(
        database=facts.database,
        mode=mode,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        dump_file=f"{name}.dump",
        dump_bytes=dump.stat().st_size,
        dump_sha256=sha256_file(dump),
        postgres_version=facts.postgres_version,
        timescaledb_version=facts.timescaledb_version,
        edition=facts.edition,
        pg_dump_version=f"pg_dump (PostgreSQL) {made_by.group(1)}",
        migrations=tuple({"id": m.id, "applied_at": m.applied_at.isoformat()} for m in applied),
        migration_problems=problems,
        row_counts=counts,
        tables=tables,
    )
    (work / "manifest").write_text(manifest.to_json())
    # sha256sum's format, over the files' final names: `sha256sum -c` checks a set in place.
    (work / "sha256").write_text(f"{manifest.dump_sha256}  {name}.dump\n"
                                 f"{sha256_file(work / 'manifest')}  {name}.manifest.json\n")
    return NewDump(name, dump, work / "manifest")


# zlib level 1, not pg_dump's default 6: most of pg_dump's own CPU is compressing, and level 1 needs
# half of it for a dump ~18% larger (1 M price rows: 1.24 -> 0.56 s user, 9.6 -> 11.3 MB).
# BACKUP_COMPRESS=6 or 9 trades time for bytes; 0 stores the rows uncompressed.
DEFAULT_COMPRESSION = 1


def compression_level() -> int:
    """BACKUP_COMPRESS: pg_dump's zlib level, 0 to 9 (default 1)."""
    level = settings.env_int("BACKUP_COMPRESS", DEFAULT_COMPRESSION)
    if level > 9:
        raise ConfigurationError("BACKUP_COMPRESS must be a zlib level from 0 to 9")
    return level


def _one(conn: psycopg.Connection[Any], query: str) -> object:
    row = conn.execute(query).fetchone()
    assert row is not None
    return row[0]


def _free_name(backup_dir: Path, database: str, mode: str) -> str:
    """``<db>_<mode>_<UTC stamp>``, waiting for the next second if a set of that name exists."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", database)
    while True:
        name = f"{safe}_{mode}_{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
        if not (backup_dir / f"{name}.dump").exists():
            return name
        time.sleep(1.05 - datetime.now(UTC).microsecond / 1e6)


# The dump's own record of the pg_dump that wrote it, in `pg_restore --list`'s header.
_DUMPED_BY = re.compile(r"^;\s+Dumped by pg_dump version: (.+)$", re.MULTILINE)


def _tail(log: Path, lines: int = 3) -> str:
    text = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return " / ".join(text[-lines:]) or "no message"


def _die_with_parent() -> None:
    """In a child before exec (Linux): SIGKILL when this process dies, so a killed backup
    leaves no pg_dump writing on."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def verify_checksums(dump: Path) -> Manifest:
    """Check the dump and manifest against the .sha256 file; the manifest when they match."""
    sums = checksum_path(dump)
    if not dump.is_file():
        raise ChecksumMismatch(f"{dump} does not exist")
    if not sums.is_file():
        raise ChecksumMismatch(f"{sums.name} is missing: the backup is incomplete or not one of ours")
    expected: dict[str, str] = {}
    for line in sums.read_text().splitlines():
        digest, _, name = line.partition("  ")
        if digest and name:
            expected[name.lstrip("*")] = digest
    mpath = manifest_path(dump)
    for path in (dump, mpath):
        if path.name not in expected:
            raise ChecksumMismatch(f"{sums.name} has no checksum for {path.name}")
        if not path.is_file():
            raise ChecksumMismatch(f"{path.name} is missing")
        if sha256_file(path) != expected[path.name]:
            raise ChecksumMismatch(f"{path.name} does not match its sha256: the file is corrupt, refusing it")
    return Manifest.load(mpath)


# -- restoring --------------------------------------------------------------------------
@dataclass(frozen=True)
class TimescaledbAvailable:
    default_version: str
    versions: list[str]
    edition: str


def check_server_can_restore(conn: psycopg.Connection[Any], manifest: Manifest) -> None:
    """Stop with a clear message when the server cannot host this backup's TimescaleDB."""
    if manifest.timescaledb_version is None:
        return
    with map_errors(), conn.cursor(row_factory=class_row(TimescaledbAvailable)) as cur:
        found = cur.execute(q("timescaledb_available")).fetchone()
    if found is None:
        raise VersionMismatch("TimescaleDB is not installed on the target server; install it first")
    wanted = manifest.timescaledb_version
    if wanted not in found.versions:
        raise VersionMismatch(
            f"the backup needs TimescaleDB {wanted}; this server offers {found.default_version}. "
            f"Install TimescaleDB {wanted} beside it, restore, then ALTER EXTENSION timescaledb UPDATE"
        )
    if manifest.edition == "timescale" and found.edition != "timescale":
        raise VersionMismatch(
            "the backup was taken on the timescale edition (continuous aggregates, columnstore, jobs); "
            "this server runs the apache edition: set timescaledb.license = 'timescale' first"
        )


def _admin(conninfo: str) -> str:
    return settings.with_dbname(conninfo, settings.admin_database())


def database_exists(conninfo: str, name: str) -> bool:
    with db.connect(_admin(conninfo), autocommit=True) as conn, map_errors():
        row = conn.execute(q("database_exists"), {"name": name}).fetchone()
    return bool(row and row[0])


@dataclass(frozen=True)
class _Count:
    n: int


def user_table_count(conninfo: str, name: str) -> int:
    with db.connect(settings.with_dbname(conninfo, name)) as conn, map_errors():
        row = conn.cursor(row_factory=class_row(_Count)).execute(q("user_table_count")).fetchone()
    return row.n if row else 0


def drop_database(conninfo: str, name: str) -> None:
    with db.connect(_admin(conninfo), autocommit=True) as conn, map_errors():
        conn.execute(sql.SQL(q("drop_database")).format(name=sql.Identifier(name)))


def stale_restores(conninfo: str, target: str) -> list[str]:
    with db.connect(_admin(conninfo), autocommit=True) as conn, map_errors():
        return [str(row[0]) for row in conn.execute(q("stale_restores"), {"prefix": f"{target}__restoring_"})]


def rename_database(conninfo: str, old: str, new: str) -> None:
    with db.connect(_admin(conninfo), autocommit=True) as conn, map_errors():
        conn.execute(sql.SQL(q("rename_database")).format(old=sql.Identifier(old), new=sql.Identifier(new)))


def restore_into_new_database(
    conninfo: str, dump: Path, manifest: Manifest, dbname: str, *, schema_only: bool = False, jobs: int = 1
) -> None:
    """Create ``dbname`` (it must not exist) and restore ``dump`` into it, TimescaleDB's way.

    timescaledb_pre_restore() runs before pg_restore and timescaledb_post_restore() after
    it, even when pg_restore fails; on failure the new database is dropped.
    """
    if manifest.mode == "data":
        raise BackupError("a data backup is a table export: restore it with pg_restore --data-only by hand")
    with db.connect(_admin(conninfo), autocommit=True) as admin, map_errors():
        check_server_can_restore(admin, manifest)
        admin.execute(sql.SQL(q("create_database")).format(name=sql.Identifier(dbname)))
    target = settings.with_dbname(conninfo, dbname)
    try:
        with db.connect(target, autocommit=True) as conn, map_errors():
            if manifest.timescaledb_version:
                conn.execute(sql.SQL(q("create_timescaledb")).format(version=sql.Literal(manifest.timescaledb_version)))
                conn.execute(q("timescaledb_pre_restore"))
            try:
                _pg_restore(target, dbname, dump, schema_only=schema_only, jobs=jobs)
            finally:
                if manifest.timescaledb_version:
                    conn.execute(q("timescaledb_post_restore"))
    except BaseException:
        drop_database(conninfo, dbname)
        raise


def _pg_restore(target: str, dbname: str, dump: Path, *, schema_only: bool, jobs: int = 1) -> None:
    """pg_restore ``dump`` into ``dbname``; with ``jobs`` > 1 in two passes (see _CATALOG_DATA)."""
    env = {**os.environ, **libpq_environment(target), "PGDATABASE": dbname}
    base = ["pg_restore", "--exit-on-error", "--no-password", "--dbname", dbname]
    passes: list[tuple[list[str], list[str] | None]] = [([], None)]  # options, --use-list entries
    entries = _listing(dump, env) if schema_only or jobs > 1 else []
    if schema_only:
        entries = [line for line in entries if not _USER_DATA.match(line)]
        passes = [([], entries)]
    if jobs > 1:
        first = [line for line in entries if _CATALOG_DATA.match(line) or not _DATA.match(line)]
        rest = [line for line in entries if not _CATALOG_DATA.match(line)]
        passes = [
            ([_ONE_TRANSACTION, "--section=pre-data", "--section=data"], first),
            ([f"--jobs={jobs}", "--section=data", "--section=post-data"], rest),
        ]
    with tempfile.TemporaryDirectory(prefix="ops-db-restore.") as tmp:
        for number, (options, listed) in enumerate(passes, 1):
            args = [*base, *options]
            if listed is not None:
                use_list = Path(tmp) / f"pass{number}.list"
                use_list.write_text("".join(line + "\n" for line in listed))
                args += ["--use-list", str(use_list)]
            args.append(str(dump))
            result = _run(args, env)
            if result.returncode != 0 and _ONE_TRANSACTION in args and "max_locks_per_transaction" in result.stderr:
                # More tables than the server's lock table holds in one transaction: it rolled back
                # whole, so the pass runs again as a statement per transaction.
                options = [o for o in options if o != _ONE_TRANSACTION]
                result = _run([a for a in args if a != _ONE_TRANSACTION], env)
            if result.returncode != 0:
                lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
                step = f" (pass {number} of {len(passes)}: {' '.join(options)})" if len(passes) > 1 else ""
                raise RestoreFailed(f"pg_restore failed{step}: "
                                    f"{' / '.join(lines[-3:]) or 'exit ' + str(result.returncode)}")


# The first pass of a parallel restore is hundreds of small statements (every table, chunk,
# function, the catalog's rows); as one transaction it waits for one WAL flush, not one per
# statement (881 entries, 1 M price rows: 2.7 s -> 0.6 s).
_ONE_TRANSACTION = "--single-transaction"


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, capture_output=True, text=True, check=False,
                          stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)


# pg_restore --schema-only would drop TimescaleDB's catalog rows (hypertables would come back as
# plain tables) and the migration bookkeeping; a schema restore leaves out user rows only.
_USER_DATA = re.compile(r"^\d+; \d+ \d+ TABLE DATA (trading|_timescaledb_internal) ")

# TimescaleDB's catalog tables are extension tables created with their foreign keys in place
# (chunk_index -> chunk -> hypertable ...). A single-job pg_restore loads them in dependency
# order; `pg_restore -j N` loads them concurrently, chunk_index's COPY fails on its foreign key,
# and the hypertables come back without chunks. So a parallel restore runs in two passes:
# pre-data and the catalog's rows single-job (one pg_restore: the list keeps the dump's order),
# then the other rows and post-data with N jobs. An entry of the data section missing from _DATA
# would be loaded twice and fail the second pass (a key) or the row-count check: never pass unseen.
_CATALOG_DATA = re.compile(r"^\d+; \d+ \d+ TABLE DATA (_timescaledb_catalog|_timescaledb_config) ")
_DATA = re.compile(r"^\d+; \d+ \d+ (TABLE DATA|SEQUENCE SET|BLOBS) ")
MAX_JOBS = 32


def _listing(dump: Path, env: dict[str, str]) -> list[str]:
    listing = subprocess.run(["pg_restore", "--list", str(dump)], env=env, capture_output=True, text=True,
                             check=False, stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
    if listing.returncode != 0:
        raise RestoreFailed(f"pg_restore cannot read {dump.name}: {listing.stderr.strip()[-300:]}")
    return listing.stdout.splitlines()


@dataclass(frozen=True)
class Comparison:
    expected: dict[str, int]
    found: dict[str, int]
    differences: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.differences


def compare_with_manifest(conn: psycopg.Connection[Any], manifest: Manifest) -> Comparison:
    """Row counts of the restored relations against the manifest (schema backups: presence only)."""
    found = row_counts(conn, set(manifest.row_counts))
    differences = []
    for name, expected in sorted(manifest.row_counts.items()):
        if name not in found:
            differences.append(f"{name}: missing after restore")
        elif manifest.mode != "schema" and found[name] != expected:
            differences.append(f"{name}: {found[name]} rows, manifest says {expected}")
    return Comparison(dict(manifest.row_counts), found, tuple(differences))


def check_restored(conninfo: str, manifest: Manifest) -> Comparison:
    with db.connect(conninfo) as conn:
        comparison = compare_with_manifest(conn, manifest)
    if not comparison.ok:
        raise CountMismatch("restored database differs from the manifest: " + "; ".join(comparison.differences))
    return comparison


# -- scripts/restore.sh: one process from checksum to verify --------------------------------
TARGET_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,40}$")


def restore(
    conninfo: str,
    dump: Path,
    target: str | None,
    *,
    schema_only: bool = False,
    force: bool = False,
    jobs: int = 1,
    say: Callable[[str], None] = lambda _: None,
) -> str:
    """Restore ``dump`` as database ``target`` (default: the configured one); the target's name.

    Checksums first; a target holding tables only with ``force``; the restore goes into a new
    database that replaces the target only after its row counts match the manifest; last the
    migrations are verified against this checkout.
    """
    from ops_db.ops.migrations import Runner

    target = target or str(conninfo_to_dict(conninfo).get("dbname") or os.environ.get("PGDATABASE") or "")
    if not target:
        raise RestoreUsageError("name TARGET_DB (no database is configured to default to)")
    if not TARGET_NAME.match(target):
        raise RestoreUsageError(f"TARGET_DB {target!r}: use letters, digits, _ and - (at most 41 characters)")
    if dump.suffix != ".dump":
        raise RestoreUsageError(f"{dump.name}: FILE must be a .dump made by backup.sh")
    if not 1 <= jobs <= MAX_JOBS:
        raise RestoreUsageError(f"--jobs {jobs}: give 1 to {MAX_JOBS} parallel pg_restore jobs")
    base = dump.name.removesuffix(".dump")
    with _restore_lock(target):
        manifest = verify_checksums(dump)
        say(f"checksums of {base} verified")
        for stale in stale_restores(conninfo, target):  # under the lock no live restore owns one
            say(f"dropping {stale}, left by a restore into {target} that was killed")
            drop_database(conninfo, stale)
        exists = database_exists(conninfo, target)
        if exists and not force and user_table_count(conninfo, target):
            raise TargetNotEmpty(f"database {target} already holds tables: pass --force to replace it "
                                 "(nothing touched)")
        if schema_only:
            manifest = replace(manifest, mode="schema")
        scratch = f"{target}__restoring_{os.getpid()}"
        how = (f" with {jobs} jobs (pre-data and TimescaleDB's catalog first, single-job)" if jobs > 1 else "")
        say(f"restoring into new database {scratch}{how}")
        restore_into_new_database(conninfo, dump, manifest, scratch, schema_only=schema_only, jobs=jobs)
        try:
            check_restored(settings.with_dbname(conninfo, scratch), manifest)
            if exists:
                drop_database(conninfo, target)
            rename_database(conninfo, scratch, target)
        except BaseException:
            drop_database(conninfo, scratch)
            raise
    say(f"database {target} restored from {base}")
    problems = Runner(settings.with_dbname(conninfo, target)).verify()
    if problems:
        raise RestoredUnverified(f"{target} is restored, but ops-db verify reports problems: "
                                 f"{'; '.join(problems)} (pending migrations: run ops-db migrate)")
    return target


@contextmanager
def _restore_lock(target: str) -> Iterator[None]:
    path = settings.restore_lock_dir() / f"ops-db-restore.{target}.lock"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    except OSError as exc:
        raise ConfigurationError(f"cannot open lock file {path}: {exc.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RestoreLocked(f"another restore into {target} is running (lock {path})") from None
        yield
    finally:
        os.close(fd)


# -- ops-db backup verify ---------------------------------------------------------------
@dataclass(frozen=True)
class VerifyReport:
    dump: str
    mode: str
    scratch_database: str
    relations: int
    rows: int
    seconds: float


def verify_backup(conninfo: str, dump: Path) -> VerifyReport:
    """Checksums, a restore into a scratch database, the manifest comparison; the scratch DB is dropped."""
    started = time.monotonic()
    manifest = verify_checksums(dump)
    if manifest.mode == "data":
        _pg_restore_list(dump)
        return VerifyReport(str(dump), manifest.mode, "", len(manifest.row_counts),
                            sum(manifest.row_counts.values()), time.monotonic() - started)
    scratch = f"ops_verify_{uuid.uuid4().hex[:12]}"
    restore_into_new_database(conninfo, dump, manifest, scratch, schema_only=manifest.mode == "schema")
    try:
        comparison = check_restored(settings.with_dbname(conninfo, scratch), manifest)
    finally:
        drop_database(conninfo, scratch)
    return VerifyReport(str(dump), manifest.mode, scratch, len(comparison.found),
                        sum(comparison.found.values()), time.monotonic() - started)


def _pg_restore_list(dump: Path) -> None:
    result = subprocess.run(["pg_restore", "--list", str(dump)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RestoreFailed(f"pg_restore cannot read {dump.name}: {result.stderr.strip()[-300:]}")


# -- the backup directory ---------------------------------------------------------------
@dataclass(frozen=True)
class BackupSet:
    dump: Path
    database: str
    mode: str
    taken_at: datetime

    @property
    def complete(self) -> bool:
        return checksum_path(self.dump).is_file() and manifest_path(self.dump).is_file()


def backup_sets(directory: Path, database: str | None = None, mode: str | None = None) -> list[BackupSet]:
    """Backup sets in ``directory``, newest first (by the UTC timestamp in their names)."""
    found = []
    if not directory.is_dir():
        return []
    for path in directory.glob("*.dump"):
        m = SET_NAME.match(path.name)
        if not m or (database and m["db"] != database) or (mode and m["mode"] != mode):
            continue
        taken = datetime.strptime(m["stamp"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        found.append(BackupSet(path, m["db"], m["mode"], taken))
    return sorted(found, key=lambda s: s.taken_at, reverse=True)


def newest_complete_backup(directory: Path, database: str) -> BackupSet | None:
    """The newest full backup of ``database`` whose checksum file and manifest exist."""
    return next((s for s in backup_sets(directory, database, "full") if s.complete), None)
