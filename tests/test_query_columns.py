"""Every named query that declares its row type (``-- row: ClassName``) returns exactly that
type's fields, by name and in order (issue 12).

The statements are described by the server (prepared, never run) on a migrated database, so a
column the type does not know, a missing one, or a reordered list fails here rather than in
production. A bare ``*`` in a select list or a RETURNING clause of such a query is refused outright:
it would return any column an additive migration adds, and the row type would refuse it.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import re
from collections import defaultdict
from typing import Any

import psycopg
from psycopg import pq, sql

import ops_db
from ops_db.core import queries
from ops_db.core.rows import fields_of

# Queries whose SQL is a template filled by the caller (psycopg.sql): what to fill it with here.
TEMPLATES: dict[str, dict[str, sql.Composable]] = {
    "top_queries": {"schema": sql.Identifier("public")},  # where the test installs pg_stat_statements
}

# The staging tables COPY fills inside an ingest transaction (ON COMMIT DROP): created before describing.
STAGING_TABLES = ("create_price_stage", "create_option_stage", "create_event_stage")

# `*` as a whole select list item or RETURNING list item: SELECT *, SELECT DISTINCT ON (x) *, t.*, RETURNING *.
_STAR = re.compile(
    r"(?:\bSELECT(?:\s+DISTINCT(?:\s+ON\s*\([^)]*\))?)?|\bRETURNING|,)\s*(?:[A-Za-z_][A-Za-z0-9_]*\s*\.\s*)?\*",
    re.IGNORECASE,
)
_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")

def row_types() -> dict[str, list[type[Any]]]:
    """Every frozen dataclass and NamedTuple defined in the ops_db package, by class name."""
    found: dict[str, list[type[Any]]] = defaultdict(list)
    for info in pkgutil.walk_packages(ops_db.__path__, "ops_db."):
        if info.name.rsplit(".", 1)[-1] == "__main__":
            continue  # running it is the CLI
        module = importlib.import_module(info.name)
        for obj in vars(module).values():
            if not inspect.isclass(obj) or obj.__module__ != module.__name__:
                continue
            if dataclasses.is_dataclass(obj) or (issubclass(obj, tuple) and hasattr(obj, "_fields")):
                found[obj.__name__].append(obj)
    return found


def row_type(types: dict[str, list[type[Any]]], name: str) -> type[Any]:
    """The one class of that name (row type names are unique: the test below says so)."""
    (cls,) = types[name]
    return cls


def declared() -> dict[str, queries.Query]:
    return {name: query for name, query in queries.all_queries().items() if query.row is not None}


def _without_comments(text: str) -> str:
    return re.sub(r"--[^\n]*", "", text)


def _numbered(text: str) -> str:
    """psycopg's %(name)s placeholders as $n (one number per name), %% as %."""
    numbers: dict[str, int] = {}

    def replace(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return "%"
        return f"${numbers.setdefault(match.group(1), len(numbers) + 1)}"

    return _PLACEHOLDER.sub(replace, text)


def test_declared_row_types_exist_and_are_unique() -> None:
    types = row_types()
    wanted = {query.row for query in declared().values() if query.row is not None}
    missing = sorted(name for name in wanted if name not in types)
    ambiguous = {name: [f"{c.__module__}.{c.__qualname__}" for c in types[name]]
                 for name in wanted if len(types.get(name, [])) > 1}
    assert not missing, f"-- row: names no dataclass or NamedTuple of ops_db: {missing}"
    assert not ambiguous, f"-- row: names more than one class (row types need unique names): {ambiguous}"
    for name in wanted:
        row_type(types, name)  # exactly one candidate each
    assert len(declared()) >= 90, "the row declarations were lost"


def test_no_star_reaches_a_row_type() -> None:
    starred = sorted(name for name, query in declared().items() if _STAR.search(_without_comments(query.sql)))
    assert not starred, f"queries with a row type must name their columns, not *: {starred}"


def test_the_star_pattern_sees_every_form() -> None:
    for text in ("SELECT * FROM t", "SELECT DISTINCT ON (a) *\n FROM t", "SELECT t.* FROM t",
                 "UPDATE t SET a = 1 RETURNING *", "SELECT a, o.* FROM f() AS o", "select *"):
        assert _STAR.search(text), text
    for text in ("SELECT count(*) FROM t", "SELECT a * b FROM t", "SELECT count(*) FILTER (WHERE x) AS n",
                 "SELECT 100.0 * x", "RETURNING id"):
        assert not _STAR.search(text), text


def _describe(conn: psycopg.Connection[Any], name: str, query: queries.Query) -> tuple[str, ...]:
    text = query.sql
    if name in TEMPLATES:
        text = sql.SQL(text).format(**TEMPLATES[name]).as_string(conn)
    pgconn = conn.pgconn
    prepared = pgconn.prepare(b"", _numbered(text).encode())
    if prepared.status != pq.ExecStatus.COMMAND_OK:
        raise AssertionError(f"{name}: the server refused to prepare it: {prepared.error_message.decode()}")
    described = pgconn.describe_prepared(b"")
    if described.status != pq.ExecStatus.COMMAND_OK:
        raise AssertionError(f"{name}: the server refused to describe it: {described.error_message.decode()}")
    return tuple((described.fname(i) or b"").decode() for i in range(described.nfields))


def test_every_declared_query_returns_its_row_type_fields_in_order(fresh_db: str) -> None:
    types = row_types()
    mismatched: dict[str, str] = {}
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements SCHEMA public")
        with conn.transaction():  # the ingest queries read transaction-local staging tables
            for stage in STAGING_TABLES:
                conn.execute(queries.q(stage))
            for name, query in sorted(declared().items()):
                assert query.row is not None
                cls = row_type(types, query.row)
                columns = _describe(conn, name, query)
                fields = fields_of(cls)
                if columns != fields:
                    mismatched[name] = f"{query.row} has {fields}, the query returns {columns}"
    report = "\n".join(f"  {name}: {why}" for name, why in mismatched.items())
    assert not mismatched, f"{len(mismatched)} queries do not return their row type's fields:\n{report}"

