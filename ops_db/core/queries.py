"""Named queries from sql/queries/*.sql, loaded once.

Each block starts with ``-- name: some_query`` and an optional ``-- description`` line;
the SQL runs to the next ``-- name:`` line. Python code refers to queries by name only,
so SQL never lives in f-strings.
"""

from __future__ import annotations

import functools
import re
from typing import LiteralString, cast

from ops_db.core import paths

_NAME = re.compile(r"^-- name: ([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)


def parse(text: str) -> dict[str, LiteralString]:
    found: dict[str, LiteralString] = {}
    parts = _NAME.split(text)
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in found:
            raise ValueError(f"query {name!r} defined twice")
        found[name] = cast(LiteralString, body.strip().rstrip(";"))
    return found


@functools.cache
def _all() -> dict[str, LiteralString]:
    found: dict[str, LiteralString] = {}
    for path in sorted((paths.sql_dir() / "queries").glob("*.sql")):
        for name, sql in parse(path.read_text()).items():
            if name in found:
                raise ValueError(f"query {name!r} defined twice (again in {path.name})")
            found[name] = sql
    return found


def q(name: str) -> LiteralString:
    """The SQL of the named query."""
    try:
        return _all()[name]
    except KeyError:
        raise KeyError(f"no query named {name!r} in sql/queries/") from None
