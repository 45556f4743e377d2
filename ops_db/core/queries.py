"""Named queries from sql/queries/*.sql, loaded once.

Each block starts with ``-- name: some_query``, then optional comment lines: ``-- row: Order``
names the row type its result columns are (the fetch helpers refuse any other type, and
tests/test_query_columns.py checks the columns against the type's fields). The SQL runs to the
next ``-- name:`` line. Python code refers to queries by name only, so SQL never lives in f-strings.
"""

from __future__ import annotations

import functools
import re
from typing import LiteralString, NamedTuple, cast

from ops_db.core import paths

_NAME = re.compile(r"^-- name: ([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)
_ROW = re.compile(r"^-- row: ([A-Za-z_][A-Za-z0-9_]*)\s*$", re.MULTILINE)


class Query(NamedTuple):
    sql: LiteralString
    row: str | None  # the row type its columns are, from ``-- row:``


def parse(text: str) -> dict[str, Query]:
    found: dict[str, Query] = {}
    parts = _NAME.split(text)
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in found:
            raise ValueError(f"query {name!r} defined twice")
        rows = _ROW.findall(body)
        if len(rows) > 1:
            raise ValueError(f"query {name!r} declares more than one row type")
        found[name] = Query(cast(LiteralString, body.strip().rstrip(";")), rows[0] if rows else None)
    return found


@functools.cache
def all_queries() -> dict[str, Query]:
    found: dict[str, Query] = {}
    for path in sorted((paths.sql_dir() / "queries").glob("*.sql")):
        for name, query in parse(path.read_text()).items():
            if name in found:
                raise ValueError(f"query {name!r} defined twice (again in {path.name})")
            found[name] = query
    return found


def _query(name: str) -> Query:
    try:
        return all_queries()[name]
    except KeyError:
        raise KeyError(f"no query named {name!r} in sql/queries/") from None


def q(name: str) -> LiteralString:
    """The SQL of the named query."""
    return _query(name).sql


def row_of(name: str) -> str | None:
    """The row type the named query declares (``-- row:``), or None."""
    return _query(name).row
