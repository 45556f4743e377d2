"""A comparable picture of a database's schema, for up/down/up and equality tests.

The catalog queries are `ops-db verify`'s (ops_db.ops.drift), so the tests compare exactly
what verify compares: a difference either would report, these tests see too.
"""

from __future__ import annotations

from typing import Any

from ops_db.ops.drift import snapshot_of


def snapshot(conninfo: str) -> dict[str, list[tuple[Any, ...]]]:
    return {
        section: sorted((label, entry.attrs) for label, entry in entries.items())
        for section, entries in snapshot_of(conninfo).items()
    }


def diff(a: dict[str, list[tuple[Any, ...]]], b: dict[str, list[tuple[Any, ...]]]) -> dict[str, Any]:
    """Only the sections that differ, with what each side has that the other lacks."""
    out = {}
    for key in a.keys() | b.keys():
        left, right = set(a.get(key, [])), set(b.get(key, []))
        if left != right:
            out[key] = {"only_first": sorted(left - right, key=str), "only_second": sorted(right - left, key=str)}
    return out
