"""backup and restore: `scripts/backup.sh full` ÷ plain `pg_dump -Fc` of the same database, and
`scripts/restore.sh full` ÷ plain `pg_restore` into a new database (wall seconds, lower is better).

Each side as an operator would run it: backup.sh at its defaults (zlib level 1; the JSON records
both dumps' bytes), restore.sh at its defaults (two jobs) restoring its own dump, plain single-job
pg_dump and pg_restore at theirs.

The database: migrated, with generated prices (and their rollups). Plain pg_restore of a
TimescaleDB dump needs the documented minimum around it (CREATE EXTENSION, timescaledb_pre_restore()
and timescaledb_post_restore()), which the baseline includes. Both restores are checked to hold
every price row before a figure counts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from benchmarks.bench_bars import refresh
from benchmarks.common import Result, Scratch, Side, alternate
from benchmarks.data import ingest_in_child

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts"


def _env(conninfo: str) -> dict[str, str]:
    """The connection as libpq variables, with no URL variable that would take precedence."""
    params = psycopg.conninfo.conninfo_to_dict(conninfo)
    env = {k: v for k, v in os.environ.items() if k not in ("OPS_DB_URL", "DATABASE_URL") and not k.startswith("PG")}
    env.update(PGHOST=str(params["host"]), PGPORT=str(params["port"]), PGUSER=str(params["user"]),
               PGDATABASE=str(params["dbname"]))
    return env


def _rows(conninfo: str) -> int:
    with psycopg.connect(conninfo) as conn:
        row = conn.execute("SELECT count(*) FROM trading.stock_prices").fetchone()
    assert row is not None
    return int(row[0])


def _timed(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    out = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:2])} exit {out.returncode}: {(out.stderr or out.stdout).strip()[-800:]}")
    return seconds


def run(scratch: Scratch, rounds: int, *, backup_rows: int = 2_000_000, edition: str = "apache",
        **_: object) -> list[Result]:
    rounds = min(rounds, 3)  # a restore round takes seconds: three keep the default run inside 10 minutes
    source = scratch.database(prefix="bench_backup")
    conninfo = scratch.conninfo(source)
    ingest_in_child(conninfo, backup_rows, "B", 20, datetime.now(UTC).replace(second=0, microsecond=0))
    refresh(conninfo, edition)
    rows = _rows(conninfo)
    assert rows == backup_rows
    env = _env(conninfo)
    work = Path(tempfile.mkdtemp(prefix="ops-db-bench-backup-"))
    dumps: dict[str, Path] = {}
    try:
        def backup_sh() -> float:
            target = work / "ours"
            shutil.rmtree(target, ignore_errors=True)
            seconds = _timed(["bash", str(SCRIPTS / "backup.sh"), "full"], {**env, "BACKUP_DIR": str(target)})
            made = sorted(target.glob(f"{source}_full_*.dump"))
            assert len(made) == 1 and made[0].with_suffix(".sha256").exists(), "backup.sh wrote no complete backup"
            dumps["ours"] = made[0]
            return seconds

        def pg_dump() -> float:
            target = work / "plain.dump"
            target.unlink(missing_ok=True)
            seconds = _timed(["pg_dump", "-Fc", "-f", str(target)], env)
            assert target.stat().st_size > 0
            dumps["plain"] = target
            return seconds

        ours_b, base_b = alternate(rounds, backup_sh, pg_dump)
        sizes = {k: v.stat().st_size for k, v in dumps.items()}

        def restore_sh() -> float:
            target = f"{source}_r{time.monotonic_ns() % 10**8}"
            scratch.created.append(target)
            seconds = _timed(["bash", str(SCRIPTS / "restore.sh"), "full", str(dumps["ours"]), target], env)
            assert _rows(scratch.conninfo(target)) == rows, "restore.sh lost rows"
            scratch.drop(target)
            return seconds

        def pg_restore() -> float:
            target = scratch.database(migrated=False, prefix=f"{source}_p")
            target_env = {**env, "PGDATABASE": target}
            start = time.perf_counter()
            _timed(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", "CREATE EXTENSION timescaledb",
                    "-c", "SELECT timescaledb_pre_restore()"], target_env)
            _timed(["pg_restore", "--exit-on-error", "-d", target, str(dumps["plain"])], target_env)
            _timed(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", "SELECT timescaledb_post_restore()"],
                   target_env)
            seconds = time.perf_counter() - start
            assert _rows(scratch.conninfo(target)) == rows, "pg_restore lost rows"
            scratch.drop(target)
            return seconds

        ours_r, base_r = alternate(rounds, restore_sh, pg_restore)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        scratch.drop(source)
    extra = {"price_rows": rows, "dump_bytes": sizes}
    return [
        Result("backup", f"backup.sh full ÷ pg_dump -Fc, {rows:,} price rows", Side("backup.sh full", "s", ours_b),
               Side("pg_dump -Fc", "s", base_b), "<= 1.0", extra=extra).finish(),
        Result("restore", f"restore.sh full ÷ pg_restore into a new database, {rows:,} price rows",
               Side("restore.sh full", "s", ours_r), Side("pg_restore", "s", base_r), "<= 1.0",
               extra=extra).finish(),
    ]
