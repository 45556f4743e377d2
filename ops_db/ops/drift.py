"""Schema drift: the live catalog against what the migrations and sql/schema build.

``ops-db verify`` builds the reference in a scratch database (``ops_drift_<epoch>_<hex>``)
with the same Runner, the same files and the same login as ``ops-db migrate``, snapshots
both catalogs with the queries of sql/queries/drift.sql and prints every difference on one
line. The scratch database is dropped on success, failure, Ctrl-C and SIGTERM; one left by
a SIGKILL is dropped by a later run once it is ten minutes old and nobody is connected.

Only what is legitimately different between two databases built from the same files is
normalised away: OIDs (names are used), TimescaleDB's internal ids (hypertable, chunk and
materialization names, hypertable ids in job configs), job ids and run times, the database
name. Roles are shared by every database of a cluster, so their attributes are compared with
what the migrations' CREATE ROLE / ALTER ROLE / GRANT role statements say, not with the
scratch database.
"""

from __future__ import annotations

import re
import signal
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import class_row
from yoyo.migrations import topological_sort

from ops_db.core import db, settings
from ops_db.core.error_map import map_errors, translate
from ops_db.core.errors import DatabaseUnavailable, MigrationError, ReferenceUnavailable
from ops_db.core.queries import q
from ops_db.ops.migrations import Runner

SCRATCH_PREFIX = "ops_drift_"
STALE_AFTER_SECONDS = 600  # a scratch database older than this, with nobody connected, is a leftover

CATALOG_SECTIONS = {
    "schemas": "drift_schemas",
    "relations": "drift_relations",
    "columns": "drift_columns",
    "constraints": "drift_constraints",
    "indexes": "drift_indexes",
    "triggers": "drift_triggers",
    "functions": "drift_functions",
    "policies": "drift_policies",
    "types": "drift_types",
    "default_privileges": "drift_default_privileges",
    "extensions": "drift_extensions",
}
TIMESCALEDB_SECTIONS = {
    "hypertables": "drift_hypertables",
    "dimensions": "drift_dimensions",
    "compression": "drift_compression",
    "continuous_aggregates": "drift_continuous_aggregates",
    "jobs": "drift_jobs",
}

# TimescaleDB names and numbers that depend on the order objects were created in, not on the files.
_INTERNAL_IDS = [
    (re.compile(r"_hyper_\d+_\d+_chunk"), "_hyper_N_N_chunk"),
    (re.compile(r"_(materialized_hypertable|compressed_hypertable|partial_view|direct_view)_\d+"), r"_\1_N"),
    (re.compile(r"cagg_watermark\(\d+\)"), "cagg_watermark(N)"),
    (re.compile(r"continuous_agg_invalidation_trigger\('\d+'\)"), "continuous_agg_invalidation_trigger('N')"),
]
_LONG_TEXT = {"definition", "body"}
_PRIVILEGES = {
    "r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE", "D": "TRUNCATE", "x": "REFERENCES",
    "t": "TRIGGER", "X": "EXECUTE", "U": "USAGE", "C": "CREATE", "c": "CONNECT", "T": "TEMPORARY",
    "s": "SET", "A": "ALTER SYSTEM", "m": "MAINTAIN",
}


@dataclass(frozen=True)
class CatalogRow:
    kind: str
    name: str
    parent: str | None
    attrs: dict[str, Any]


@dataclass(frozen=True)
class Entry:
    """One catalog object: attributes flattened to comparable text."""

    kind: str
    name: str
    parent: str | None
    attrs: tuple[tuple[str, str | None], ...]

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}"


Snapshot = dict[str, dict[str, Entry]]  # section -> "kind name" -> entry


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)  # each a line; any means exit 5
    notes: list[str] = field(default_factory=list)  # said on stderr, never a failure


# -- snapshots --------------------------------------------------------------------------
def normalise(text: str) -> str:
    for pattern, replacement in _INTERNAL_IDS:
        text = pattern.sub(replacement, text)
    return text


def _grantee_privileges(acl: list[str]) -> dict[str, str]:
    """aclitem texts (``role=arw*/grantor``) as role -> "INSERT, SELECT, UPDATE WITH GRANT OPTION"."""
    out: dict[str, list[str]] = {}
    for item in acl:
        if item.startswith('"'):
            end = 1
            while True:
                end = item.index('"', end)
                if item[end + 1 : end + 2] == '"':
                    end += 2
                    continue
                break
            grantee, rest = item[1:end].replace('""', '"'), item[end + 2 :]
        else:
            grantee, _, rest = item.partition("=")
        letters = rest.split("/", 1)[0]
        privileges = out.setdefault(grantee or "PUBLIC", [])
        for i, letter in enumerate(letters):
            if letter == "*":
                continue
            name = _PRIVILEGES.get(letter, letter)
            privileges.append(name + (" WITH GRANT OPTION" if letters[i + 1 : i + 2] == "*" else ""))
    return {grantee: ", ".join(sorted(privs)) for grantee, privs in out.items() if privs}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return normalise(str(value))


def _entry(row: CatalogRow) -> Entry:
    flat: dict[str, str | None] = {}
    for key, value in row.attrs.items():
        if key == "acl":
            if value is not None:
                for grantee, privileges in _grantee_privileges(value).items():
                    flat[f"privileges of {grantee}"] = privileges
            continue
        flat[key] = _text(value)
    return Entry(row.kind, normalise(row.name), row.parent and normalise(row.parent), tuple(sorted(flat.items())))


def snapshot(conn: psycopg.Connection[Any]) -> Snapshot:
    """Every catalog object of trading and ops_internal that the comparison covers."""
    out: Snapshot = {}
    with map_errors(), conn.transaction():
        conn.execute(q("drift_session"))
        found = conn.execute(q("drift_has_timescaledb")).fetchone()
        sections = dict(CATALOG_SECTIONS)
        if found and found[0]:
            sections.update(TIMESCALEDB_SECTIONS)
        for section, query in sections.items():
            with conn.cursor(row_factory=class_row(CatalogRow)) as cur:
                rows = cur.execute(q(query)).fetchall()
            found_entries = sorted((_entry(row) for row in rows), key=lambda e: (e.label, repr(e.attrs)))
            entries: dict[str, Entry] = {}
            for entry in found_entries:
                label, n = entry.label, 1
                while label in entries:  # e.g. two jobs of one procedure on one hypertable: numbered in a stable order
                    n += 1
                    label = f"{entry.label} #{n}"
                entries[label] = entry
            out[section] = entries
        for section in TIMESCALEDB_SECTIONS:
            out.setdefault(section, {})
    return out


def snapshot_of(conninfo: str) -> Snapshot:
    with db.connect(conninfo) as conn:
        return snapshot(conn)


# -- comparing --------------------------------------------------------------------------
def _show(value: str | None) -> str:
    return "none" if value is None or value == "" else value


def _first_difference(live: str, reference: str) -> str:
    """Where two texts part, for a human: around the first differing character, blank lines and indentation aside."""
    a = [line.strip() for line in live.splitlines() if line.strip()]
    b = [line.strip() for line in reference.splitlines() if line.strip()]
    if a == b:
        return "whitespace only"
    for x, y in zip(a, b, strict=False):
        if x != y:
            at = next((i for i, (c, d) in enumerate(zip(x, y, strict=False)) if c != d), min(len(x), len(y)))
            start = max(0, at - 20)
            return f"{_excerpt(x, start)!r} here, {_excerpt(y, start)!r} in the migrations"
    return f"{len(a)} lines here, {len(b)} in the migrations"


def _excerpt(line: str, start: int) -> str:
    return ("..." if start else "") + line[start : start + 60] + ("..." if len(line) > start + 60 else "")


def compare(live: Snapshot, reference: Snapshot) -> list[str]:
    """One line per difference; the objects of a table that is missing or extra are not repeated."""
    lines: list[str] = []
    whole: set[str] = set()  # schemas and relations on one side only
    for section in ("schemas", "relations"):
        here, there = live.get(section, {}), reference.get(section, {})
        whole.update((here.get(label) or there[label]).name for label in here.keys() ^ there.keys())
    for section in [*CATALOG_SECTIONS, *TIMESCALEDB_SECTIONS]:
        here, there = live.get(section, {}), reference.get(section, {})
        for label in sorted(here.keys() | there.keys()):
            mine, theirs = here.get(label), there.get(label)
            entry = mine or theirs
            assert entry is not None
            if entry.parent in whole:
                continue  # the table itself is reported missing or extra
            if section != "schemas" and entry.name.split(".", 1)[0] in whole:
                continue  # a missing or extra schema says it all
            if theirs is None:
                lines.append(f"{label}: not built by the migrations")
            elif mine is None:
                lines.append(f"{label}: missing (the migrations build it)")
            else:
                lines.extend(_attribute_lines(label, dict(mine.attrs), dict(theirs.attrs)))
    return lines


def _attribute_lines(label: str, mine: dict[str, str | None], theirs: dict[str, str | None]) -> list[str]:
    lines = []
    for key in sorted(mine.keys() | theirs.keys()):
        a, b = mine.get(key), theirs.get(key)
        if a == b:
            continue
        if key in _LONG_TEXT and a is not None and b is not None:
            lines.append(f"{label}: {key} differs from the migrations' ({_first_difference(a, b)})")
        else:
            verb = "are" if key.startswith("privileges") else "is"
            lines.append(f"{label}: {key} {verb} {_show(a)}, the migrations give {_show(b)}")
    return lines


# -- roles ------------------------------------------------------------------------------
_ROLE_DEFAULTS = {
    "superuser": False, "inherit": True, "createrole": False, "createdb": False, "login": False,
    "replication": False, "bypassrls": False, "connection_limit": -1,
}
_ROLE_FLAGS = {
    "SUPERUSER": ("superuser", True), "NOSUPERUSER": ("superuser", False),
    "CREATEDB": ("createdb", True), "NOCREATEDB": ("createdb", False),
    "CREATEROLE": ("createrole", True), "NOCREATEROLE": ("createrole", False),
    "INHERIT": ("inherit", True), "NOINHERIT": ("inherit", False),
    "LOGIN": ("login", True), "NOLOGIN": ("login", False),
    "REPLICATION": ("replication", True), "NOREPLICATION": ("replication", False),
    "BYPASSRLS": ("bypassrls", True), "NOBYPASSRLS": ("bypassrls", False),
}
_COMMENT = re.compile(r"--[^\n]*")
_ROLE_STATEMENT = re.compile(
    r"\b(CREATE|ALTER)\s+(ROLE|USER)\s+(\"[^\"]+\"|\w+)\b((?:'(?:[^']|'')*'|[^;'])*);", re.IGNORECASE
)
_GRANT_ROLE = re.compile(r"\bGRANT\s+([\w\s,\"]+?)\s+TO\s+([\w\s,\"]+?)\s*(?:WITH\s+\w+\s+\w+\s*)?;", re.IGNORECASE)
_TOKEN = re.compile(r"'(?:[^']|'')*'|\"[^\"]+\"|-?\d+|\w+|,")


@dataclass
class ExpectedRoles:
    attributes: dict[str, dict[str, Any]] = field(default_factory=dict)
    memberships: set[tuple[str, str]] = field(default_factory=set)  # (member, role)


def _names(tokens: list[str], i: int) -> tuple[list[str], int]:
    names = [tokens[i].strip('"')]
    i += 1
    while i + 1 < len(tokens) and tokens[i] == ",":
        names.append(tokens[i + 1].strip('"'))
        i += 2
    return names, i


def _apply_role_options(expected: ExpectedRoles, role: str, options: str) -> None:
    tokens = _TOKEN.findall(options)
    attrs = expected.attributes[role]
    i = 0
    while i < len(tokens):
        word = tokens[i].upper()
        if word in _ROLE_FLAGS:
            key, value = _ROLE_FLAGS[word]
            attrs[key] = value
            i += 1
        elif word == "CONNECTION" and i + 2 < len(tokens):
            attrs["connection_limit"] = int(tokens[i + 2])
            i += 3
        elif word in {"PASSWORD", "SYSID"}:
            i += 2
        elif word == "VALID":
            i += 3
        elif word == "IN" and i + 2 < len(tokens):
            names, i = _names(tokens, i + 2)
            expected.memberships.update((role, name) for name in names)
        elif word in {"ROLE", "USER", "ADMIN"} and i + 1 < len(tokens):
            names, i = _names(tokens, i + 1)
            expected.memberships.update((name, role) for name in names)
        else:
            i += 1  # WITH, ENCRYPTED, and what does not change attributes


def expected_roles(migration_files: list[Path]) -> ExpectedRoles:
    """The roles, attributes and memberships the migrations' statements create, in order."""
    expected = ExpectedRoles()
    for path in migration_files:
        text = _COMMENT.sub("", path.read_text())
        for verb, noun, quoted, options in _ROLE_STATEMENT.findall(text):
            role = quoted.strip('"')
            if verb.upper() == "CREATE":
                expected.attributes[role] = dict(_ROLE_DEFAULTS, login=noun.upper() == "USER")
                _apply_role_options(expected, role, options)
            elif role in expected.attributes and not re.match(r"\s*(SET|RESET|RENAME|IN\s+DATABASE)\b", options, re.I):
                _apply_role_options(expected, role, options)
        for granted, grantees in _GRANT_ROLE.findall(text):
            if re.search(r"\bON\b", granted, re.IGNORECASE):
                continue  # a privilege on an object, not a role membership
            for role in (r.strip().strip('"') for r in granted.split(",")):
                if role.startswith("pg_"):
                    continue  # a predefined role: granted only where the migrating role may (0560), not compared
                for member in (m.strip().strip('"') for m in grantees.split(",")):
                    expected.memberships.add((member, role))
    return expected


@dataclass(frozen=True)
class _Role:
    name: str
    superuser: bool
    inherit: bool
    createrole: bool
    createdb: bool
    login: bool
    replication: bool
    bypassrls: bool
    connection_limit: int


@dataclass(frozen=True)
class _Membership:
    member: str
    role: str


def role_problems(conn: psycopg.Connection[Any], expected: ExpectedRoles) -> list[str]:
    names = sorted(expected.attributes)
    with map_errors():
        with conn.cursor(row_factory=class_row(_Role)) as cur:
            live = {r.name: r for r in cur.execute(q("drift_roles"), {"names": names})}
        with conn.cursor(row_factory=class_row(_Membership)) as cur:
            memberships = {(m.member, m.role) for m in cur.execute(q("drift_role_memberships"), {"names": names})
                           if not m.role.startswith("pg_")}  # predefined roles: granted where allowed (0560)
    lines = []
    for name in names:
        role = live.get(name)
        if role is None:
            lines.append(f"role {name}: missing (the migrations create it)")
            continue
        for key, want in expected.attributes[name].items():
            have = getattr(role, key)
            if have != want:
                lines.append(f"role {name}: {key.replace('_', ' ')} is {_role_value(have)}, "
                             f"the migrations create {_role_value(want)}")
    wanted = {(m, r) for m, r in expected.memberships if m in expected.attributes}
    for member, granted in sorted(memberships - wanted):
        lines.append(f"role {member}: member of {granted}, which the migrations do not grant")
    for member, granted in sorted(wanted - memberships):
        if member in live:
            lines.append(f"role {member}: not a member of {granted}, which the migrations grant")
    return lines


def _role_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# -- the scratch database ---------------------------------------------------------------
@dataclass(frozen=True)
class _Scratch:
    name: str
    in_use: bool


@contextmanager
def _signals_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP raise KeyboardInterrupt meanwhile, so the scratch database is dropped."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = {s: signal.signal(s, interrupt) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


@dataclass(frozen=True)
class _Clock:
    epoch: int


def _server_epoch(conn: psycopg.Connection[Any]) -> int:
    with conn.cursor(row_factory=class_row(_Clock)) as cur:
        row = cur.execute(q("drift_server_clock")).fetchone()
    assert row is not None
    return row.epoch


@contextmanager
def _signals_deferred() -> Iterator[None]:
    """SIGTERM and SIGHUP wait until the scratch database is dropped (then interrupt as usual)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = {signal.SIGTERM, signal.SIGHUP}
    signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, held)


def _drop(conn: psycopg.Connection[Any], name: str) -> None:
    conn.execute(sql.SQL(q("drift_drop_database")).format(name=sql.Identifier(name)))


def drop_leftovers(conn: psycopg.Connection[Any], notes: list[str]) -> None:
    """Drop scratch databases of earlier runs that were killed before they could drop their own."""
    now = _server_epoch(conn)
    with conn.cursor(row_factory=class_row(_Scratch)) as cur:
        found = cur.execute(q("drift_scratch_databases")).fetchall()
    for scratch in found:
        stamp = re.match(rf"{SCRATCH_PREFIX}(\d+)_", scratch.name)
        if scratch.in_use or not stamp or now - int(stamp.group(1)) < STALE_AFTER_SECONDS:
            continue
        try:
            _drop(conn, scratch.name)
            notes.append(f"dropped {scratch.name}, left behind by an earlier verify run")
        except psycopg.Error as exc:
            notes.append(f"could not drop {scratch.name}, left behind by an earlier verify run: {translate(exc)}")


@contextmanager
def scratch_database(conninfo: str, notes: list[str]) -> Iterator[str]:
    """A new empty database on the same server, dropped again whatever happens; yields its conninfo."""
    with _signals_interrupt(), db.connect(conninfo, autocommit=True) as admin:
        drop_leftovers(admin, notes)
        name = f"{SCRATCH_PREFIX}{_server_epoch(admin)}_{uuid.uuid4().hex[:8]}"
        try:
            admin.execute(sql.SQL(q("drift_create_database")).format(name=sql.Identifier(name)))
        except psycopg.Error as exc:
            raise ReferenceUnavailable(
                f"cannot build the reference schema: CREATE DATABASE refused ({translate(exc)}); "
                "verify needs a login that may create databases (CREATEDB), or --files-only"
            ) from None
        try:
            yield settings.with_dbname(conninfo, name)
        finally:
            with _signals_deferred():
                try:
                    _drop(admin, name)
                except psycopg.Error as exc:
                    notes.append(
                        f"could not drop the scratch database {name}: {translate(exc)}; the next verify run drops it"
                    )


def reference_snapshot(conninfo: str, directory: Path, sql_directory: Path, notes: list[str]) -> Snapshot:
    """Build the migrations and sql/schema in a scratch database and snapshot its catalog."""
    with scratch_database(conninfo, notes) as scratch:
        try:
            Runner(scratch, directory=directory, sql_directory=sql_directory).migrate()
            return snapshot_of(scratch)
        except (MigrationError, DatabaseUnavailable) as exc:
            raise ReferenceUnavailable(f"cannot build the reference schema in a scratch database: {exc}") from None


# -- verify -----------------------------------------------------------------------------
def verify(
    conninfo: str, directory: Path | None = None, sql_directory: Path | None = None, *, catalog: bool = True
) -> Report:
    """The migration-file checks of Runner.verify(), then the catalog against a fresh build."""
    runner = Runner(conninfo, directory=directory, sql_directory=sql_directory)
    report = Report(problems=runner.verify())
    if not catalog:
        return report
    if any(s.missing or s.applied_at is None for s in runner.status()):
        report.problems.append("catalog not compared: migrations are pending or missing (run 'ops-db migrate')")
        return report
    reference = reference_snapshot(conninfo, runner.directory, runner.sql_directory, report.notes)
    with db.connect(conninfo) as conn:
        live = snapshot(conn)
        ordered = topological_sort(runner.migrations())
        report.problems.extend(role_problems(conn, expected_roles([Path(m.path) for m in ordered])))
    report.problems.extend(compare(live, reference))
    return report
