"""Point-in-time recovery with a real pgBackRest repository (scripts/pitr.sh, ops_db.ops.pitr).

A migrated local cluster archives its WAL to pgBackRest (ops-db pitr configure --archive); a full
backup, orders and ticks, a differential backup, more orders and ticks, then the time T, then
orders and ticks after T. Restored to T into a new data directory, the copy holds exactly what was
committed before T, its audit trail matches its orders, and `ops-db verify` passes on it. The
health-style check reports the newest backup and archiving; `pitr.sh verify` reads what pgbackrest
verify says (it exits 0 even on invalid checksums) and fails on a corrupted repository.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from ops_db import market
from ops_db.ledger import orders, strategies
from ops_db.ops.cluster import LocalCluster, free_port, pg_bindir
from ops_db.ops.health.model import Status
from ops_db.ops.nodes import run_as_server
from ops_db.ops.pitr import Layout, backup_health
from tests.ha_helpers import ROOT, assert_nothing_left, cli, need, scratch_home

pytestmark = [pytest.mark.slow, pytest.mark.ha]

PITR = str(ROOT / "scripts" / "pitr.sh")


@dataclass
class Setup:
    base: Path
    primary: LocalCluster
    layout: Layout

    def pitr(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "PITR_"))}
        env["PGBACKREST_CONFIG"] = str(self.layout.config)
        env["PG_BINDIR"] = str(self.primary.bindir or pg_bindir())  # the restored copy runs what the primary runs
        return subprocess.run(["bash", PITR, *args], capture_output=True, text=True, env=env, timeout=timeout,
                              check=False)


@pytest.fixture()
def setup() -> Iterator[Setup]:
    need("pgbackrest")
    with scratch_home("pitr") as base:
        primary = LocalCluster(base / "primary", free_port())
        restored = base / "restored"
        try:
            primary.up()
            migrated = cli("migrate", "--url", primary.url())
            assert migrated.returncode == 0, migrated.stderr
            layout = Layout(base / "conf" / "pgbackrest.conf", base / "repo")
            configured = cli(
                "pitr", "configure", "--config", str(layout.config), "--repo", str(layout.repo),
                "--pg-path", str(primary.data_dir), "--pg-port", str(primary.port),
                "--pg-socket", str(primary.socket_dir), "--archive", "--url", primary.conninfo("postgres"),
            )
            assert configured.returncode == 0, configured.stdout + configured.stderr
            assert "restart" in configured.stdout  # archive_mode was off
            primary.down()
            primary.start()
            with psycopg.connect(primary.conninfo("postgres")) as conn:
                settings = dict(conn.execute(
                    "SELECT name, setting FROM pg_settings WHERE name IN ('archive_mode', 'archive_timeout',"
                    " 'archive_command')").fetchall())
            assert settings["archive_mode"] == "on" and settings["archive_timeout"] == "60"
            assert settings["archive_command"].endswith(f"--config={layout.config} --stanza=ops-db archive-push %p")
            yield Setup(base, primary, layout)
        finally:
            if (restored / "PG_VERSION").exists():
                run_as_server([str(primary.bindir / "pg_ctl" if primary.bindir else "pg_ctl"), "stop", "-D",
                               str(restored), "-m", "fast", "-w", "-t", "60"], cwd=base, check=False)
            primary.destroy()
        assert_nothing_left(base)


def _orders(conn: psycopg.Connection[object], strategy_id: int, prefix: str, n: int) -> list[str]:
    ids = []
    for i in range(n):
        client_id = f"{prefix}-{i}"
        orders.stage_order(conn, client_order_id=client_id, strategy_id=strategy_id, symbol="NVDA", side="sell",
                           order_type="limit", quantity=Decimal(2), limit_price=Decimal("120.5"), created_by="pitr")
        ids.append(client_id)
    conn.commit()
    return ids


def _ticks(conn: psycopg.Connection[object], start: datetime, n: int) -> list[datetime]:
    stamps = [start + timedelta(seconds=i) for i in range(n)]
    market.ingest_prices(conn, [market.PriceTick("PITR", s, Decimal(100) + i, 5) for i, s in enumerate(stamps)])
    conn.commit()
    return stamps


def test_restore_to_a_time_brings_back_exactly_what_was_before_it(setup: Setup) -> None:
    started = time.monotonic()
    ready = setup.pitr("setup")
    assert ready.returncode == 0, ready.stderr
    full = setup.pitr("full")
    assert full.returncode == 0, full.stderr
    tag = uuid.uuid4().hex[:8]
    market_start = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
    with psycopg.connect(setup.primary.conninfo()) as conn:
        strategy_id = strategies.create_strategy(conn, f"pitr-{tag}", max_order_quantity=Decimal(1000)).id
        conn.commit()
        before = _orders(conn, strategy_id, f"{tag}-a", 20)
        ticks_before = _ticks(conn, market_start, 50)
    diff = setup.pitr("diff")
    assert diff.returncode == 0, diff.stderr
    with psycopg.connect(setup.primary.conninfo()) as conn:
        before += _orders(conn, strategy_id, f"{tag}-b", 15)
        ticks_before += _ticks(conn, market_start + timedelta(minutes=5), 30)
        time.sleep(1.1)
        row = conn.execute("SELECT clock_timestamp()").fetchone()
        assert row is not None
        target: datetime = row[0]
        conn.commit()
        time.sleep(1.1)
        after = _orders(conn, strategy_id, f"{tag}-c", 25)
        _ticks(conn, market_start + timedelta(minutes=10), 40)
        # A time target needs a commit after it in the archived WAL: switch WAL and wait for it in the repository.
        conn.execute("SELECT pg_switch_wal()")
        conn.commit()
    checked = setup.pitr("check")
    assert checked.returncode == 0, checked.stderr

    restored = setup.base / "restored"
    port = free_port()
    restore_started = time.monotonic()
    result = setup.pitr("restore", target.isoformat(sep=" "), str(restored), str(port))
    restore_seconds = time.monotonic() - restore_started
    assert result.returncode == 0, result.stdout + result.stderr
    assert "password" not in (result.stdout + result.stderr).lower()

    copy = make_conninfo(host=str(restored), port=str(port), user="postgres", dbname="ops_db")
    with psycopg.connect(copy, autocommit=True) as conn:
        assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (False,)
        assert conn.execute("SELECT current_setting('archive_mode')").fetchone() == ("off",)
        present = {r[0] for r in conn.execute(
            "SELECT client_order_id FROM trading.staged_orders WHERE client_order_id LIKE %s", (f"{tag}-%",))}
        assert present == set(before)
        assert not present & set(after)
        stamps = [r[0] for r in conn.execute(
            "SELECT \"timestamp\" FROM trading.stock_prices WHERE symbol = 'PITR' ORDER BY 1")]
        assert stamps == ticks_before
        audit = conn.execute(
            "SELECT o.client_order_id, e.event_type, e.to_status FROM trading.order_events e"
            " JOIN trading.staged_orders o ON o.id = e.order_id WHERE o.client_order_id LIKE %s", (f"{tag}-%",),
        ).fetchall()
        assert sorted(audit) == sorted((cid, "created", "staged") for cid in before)
        assert orders.get_order_by_client_id(conn, before[-1]).status == "staged"
    verified = cli("verify", "--url", copy)
    assert verified.returncode == 0, verified.stdout + verified.stderr

    # The original is untouched and still archiving; the health-style check sees both backups.
    health = backup_health(setup.layout.config, conninfo=setup.primary.conninfo())
    assert health.status == Status.OK, health.line()
    assert health.backups == 2
    assert health.newest_backup is not None and health.newest_backup["type"] == "diff"
    assert health.result.value is not None and health.result.value < 600
    # Graded by age: a day and more without a new backup warns, two days is critical (26 h / 50 h defaults).
    later = time.time() + 27 * 3600
    assert backup_health(setup.layout.config, now=later).status == Status.WARNING
    assert backup_health(setup.layout.config, now=later + 24 * 3600).status == Status.CRITICAL
    shown = cli("pitr", "check", "--config", str(setup.layout.config), "--url", setup.primary.url(), "--json")
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert json.loads(shown.stdout)["status"] == "OK"
    # ops-db health runs the same grading when PGBACKREST_CONFIG is set, Prometheus output too.
    env = {"PGBACKREST_CONFIG": str(setup.layout.config)}
    reported = cli("health", "--only", "pgbackrest,wal_archiver", "--url", setup.primary.url(), "--json", env=env)
    assert reported.returncode == 0, reported.stdout + reported.stderr
    checks = {c["name"]: c for c in json.loads(reported.stdout)["checks"]}
    assert checks["pgbackrest"]["status"] == "OK" and "(diff)" in checks["pgbackrest"]["summary"], checks
    assert checks["pgbackrest"]["figures"] == {"pgbackrest_backups": 2.0}
    metrics = cli("health", "--only", "pgbackrest", "--url", setup.primary.url(), "--prometheus", env=env)
    assert "ops_db_health_pgbackrest_backup_age_seconds" in metrics.stdout, metrics.stdout
    stale = cli("health", "--only", "pgbackrest", "--url", setup.primary.url(),
                env={**env, "OPS_DB_HEALTH_PGBACKREST_WARN": "0s"})
    assert stale.returncode == 1, stale.stdout  # WARNING: the threshold is the health convention's
    figures = {"restore_s": round(restore_seconds, 2), "total_s": round(time.monotonic() - started, 2)}
    print("\npitr figures:", json.dumps(figures))


def test_verify_reads_what_pgbackrest_says(setup: Setup) -> None:
    assert setup.pitr("setup").returncode == 0
    assert setup.pitr("full").returncode == 0
    good = setup.pitr("verify")
    assert good.returncode == 0, good.stderr
    # Corrupt one file of the backup: pgbackrest verify still exits 0, pitr.sh must not.
    victim = next(p for p in sorted((setup.layout.repo / "backup").rglob("*.gz")) if "/base/" in str(p))
    with victim.open("r+b") as f:
        f.seek(20)
        f.write(b"garbage")
    bad = setup.pitr("verify")
    assert bad.returncode == 20, bad.stdout + bad.stderr  # ExitCode.CHECKSUM_MISMATCH
    assert "checksum" in bad.stderr


def test_the_check_reports_a_missing_stanza_and_failing_archiving(setup: Setup) -> None:
    # No stanza yet: nothing backed up, and every archive-push fails until the stanza exists.
    with psycopg.connect(setup.primary.conninfo("postgres"), autocommit=True) as conn:
        conn.execute("SELECT pg_switch_wal()")
        conn.execute("CREATE TABLE IF NOT EXISTS pitr_probe (x int)")
        conn.execute("SELECT pg_switch_wal()")
    deadline = time.monotonic() + 30
    health = backup_health(setup.layout.config, conninfo=setup.primary.conninfo())
    while "archiving failing" not in health.result.summary and time.monotonic() < deadline:
        time.sleep(0.5)
        health = backup_health(setup.layout.config, conninfo=setup.primary.conninfo())
    assert health.status == Status.CRITICAL
    assert "no backup" in health.result.summary
    assert "archiving failing" in health.result.summary
    reported = cli("health", "--only", "pgbackrest", "--url", setup.primary.url(),
                   env={"PGBACKREST_CONFIG": str(setup.layout.config)})
    assert reported.returncode == 2 and "no backup" in reported.stdout, reported.stdout  # CRITICAL
    usage = setup.pitr("restore", "yesterday", str(setup.base / "x"))
    assert usage.returncode == 2
    taken = setup.pitr("restore", "2026-01-02 03:04:05+00", str(setup.primary.home))  # not empty
    assert taken.returncode == 21, taken.stderr
    locked_env = dict(os.environ, PGBACKREST_CONFIG=str(setup.layout.config))
    lock = setup.layout.config.parent / ".pitr-ops-db.lock"
    with subprocess.Popen(["flock", str(lock), "sleep", "20"], env=locked_env) as holder:
        try:
            time.sleep(0.5)
            assert setup.pitr("info").returncode == 10
        finally:
            holder.kill()
