"""migrate: a full `ops-db migrate` on an empty database, and a no-op `migrate` (seconds)."""

from __future__ import annotations

import time

from benchmarks.common import Result, Scratch, Side
from ops_db.ops.migrations import Runner


def run(scratch: Scratch, rounds: int, **_: object) -> list[Result]:
    full = Side("full migrate", "s")
    noop = Side("no-op migrate", "s")
    for _round in range(rounds):
        name = scratch.database(migrated=False)
        runner = Runner(scratch.conninfo(name))
        start = time.perf_counter()
        applied = runner.migrate()
        full.values.append(time.perf_counter() - start)
        assert applied and runner.verify() == [], "migrate did not apply everything"
        start = time.perf_counter()
        assert runner.migrate() == []
        noop.values.append(time.perf_counter() - start)
        scratch.drop(name)
    count = len(list(Runner(scratch.admin).migrations()))
    return [
        Result("migrate (full)", f"seconds to apply all {count} migrations to an empty database", full, None,
               "report").finish(),
        Result("migrate (no-op)", "seconds for a migrate with nothing pending", noop, None, "report").finish(),
    ]
