"""Local streaming replicas against real standbys made with pg_basebackup -R (ops_db.ops.replicas).

One primary (a LocalCluster, migrated) and two hot standbys on 127.0.0.1: what the primary commits
reaches both; a standby refuses writes, through the API and in plain SQL; role and replay lag are
reported by every node; `ops-db health` answers on a standby; `ops-db migrate` aimed at a standby
changes nothing there.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest

from ops_db import market
from ops_db.ledger import orders, strategies
from ops_db.ops.cluster import LocalCluster, free_port
from ops_db.ops.nodes import node_role_of
from ops_db.ops.replicas import ReplicaSet
from tests.ha_helpers import assert_nothing_left, cli, eventually, scratch_home

pytestmark = pytest.mark.ha


@pytest.fixture(scope="module")
def replica_set() -> Iterator[ReplicaSet]:
    with scratch_home("replicas") as base:
        primary = LocalCluster(base / "primary", free_port(), fast=True)
        replicas = ReplicaSet(primary)
        try:
            primary.up()
            migrated = cli("migrate", "--url", primary.url())
            assert migrated.returncode == 0, migrated.stderr
            replicas.up(2)
            yield replicas
        finally:
            try:
                replicas.remove()
            finally:
                primary.destroy()
        assert_nothing_left(base)


def _stage(conn: psycopg.Connection[object], strategy_id: int) -> orders.Order:
    return orders.stage_order(
        conn, client_order_id=f"rep-{uuid.uuid4().hex[:12]}", strategy_id=strategy_id, symbol="AAPL", side="buy",
        order_type="limit", quantity=Decimal(10), limit_price=Decimal("101.5"), created_by="alice",
    )


def test_what_the_primary_commits_reaches_every_standby(replica_set: ReplicaSet) -> None:
    standbys = replica_set.standbys()
    assert [s.name for s in standbys] == ["replica-1", "replica-2"]
    stamp = datetime.now(UTC).replace(microsecond=0)
    with psycopg.connect(replica_set.primary.conninfo()) as conn:
        strategy = strategies.create_strategy(conn, f"rep-{uuid.uuid4().hex[:8]}", max_order_quantity=Decimal(1000))
        order = _stage(conn, strategy.id)
        ticks = [market.PriceTick("REPL", stamp + timedelta(seconds=i), Decimal(100 + i), 10) for i in range(5)]
        market.ingest_prices(conn, ticks)
        conn.commit()
    # Order and ticks are separate commits: wait for both.
    for standby in standbys:
        with psycopg.connect(standby.conninfo(), autocommit=True) as conn:
            def seen(c: psycopg.Connection[object] = conn) -> bool | None:
                row = c.execute(
                    "SELECT (SELECT count(*) FROM trading.order_events WHERE order_id = %s AND event_type = 'created'),"
                    " (SELECT count(*) FROM trading.stock_prices WHERE symbol = 'REPL')", (order.id,)).fetchone()
                return True if row == (1, 5) else None

            eventually(seen, 30, f"order {order.id} and 5 ticks on {standby.name}")
            assert orders.get_order(conn, order.id).client_order_id == order.client_order_id


def test_a_standby_refuses_writes(replica_set: ReplicaSet) -> None:
    standby = replica_set.standbys()[0]
    with psycopg.connect(replica_set.primary.conninfo()) as conn:
        strategy_id = strategies.create_strategy(conn, f"ro-{uuid.uuid4().hex[:8]}").id
        conn.commit()
    with psycopg.connect(standby.conninfo(), autocommit=True) as conn:
        eventually(lambda: conn.execute("SELECT 1 FROM trading.strategies WHERE id = %s", (strategy_id,)).fetchone(),
                   30, "the strategy on the standby")
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("INSERT INTO trading.order_events (order_id, event_type, to_status, actor) "
                         "VALUES (1, 'created', 'staged', 'x')")
        with pytest.raises(Exception, match="read-only") as refused:
            _stage(conn, strategy_id)
        assert "read-only" in str(refused.value)
        assert conn.execute("SELECT current_setting('transaction_read_only')").fetchone() == ("on",)


def test_every_node_reports_its_role_and_lag(replica_set: ReplicaSet) -> None:
    primary = node_role_of(replica_set.primary.conninfo())
    assert primary.role == "primary"
    assert primary.replicas == 2
    assert not primary.read_only
    for standby in replica_set.standbys():
        role = node_role_of(standby.conninfo())
        assert role.role == "standby"
        assert role.read_only
        assert 0 <= role.lag_seconds < 30
        assert role.lag_bytes >= 0
    status = replica_set.status()
    assert [(n["name"], n["role"], n["running"]) for n in status] == [
        ("primary", "primary", True), ("replica-1", "standby", True), ("replica-2", "standby", True)]
    # The health command's replication check, asked of a standby, reports that standby's own lag.
    health = cli("health", "--only", "replication", "--url", replica_set.standbys()[1].url())
    assert health.returncode == 0, health.stdout + health.stderr
    assert "this replica's replay lag" in health.stdout
    # And asked of the primary, the worst lag of its two standbys.
    health = cli("health", "--only", "replication", "--url", replica_set.primary.url())
    assert health.returncode == 0, health.stdout + health.stderr
    assert "of 2 replica(s)" in health.stdout


def test_the_read_url_reaches_a_standby(replica_set: ReplicaSet) -> None:
    with psycopg.connect(replica_set.read_url(), autocommit=True) as conn:
        assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)
        assert conn.info.port in {s.port for s in replica_set.standbys()}


def test_migrate_aimed_at_a_standby_changes_nothing(replica_set: ReplicaSet) -> None:
    standby = replica_set.standbys()[0]
    before = cli("status", "--url", standby.url())
    for command in (("migrate",), ("rollback", "--steps", "1")):
        result = cli(*command, "--url", standby.url())
        assert result.returncode == 3, result.stdout + result.stderr  # ExitCode.CONFIG: refused up front
        assert "this server is a standby (in recovery), nothing done" in result.stderr, result.stderr
        assert "password" not in (result.stdout + result.stderr).lower()
    after = cli("status", "--url", standby.url())
    assert before.stdout == after.stdout


@pytest.mark.parametrize("dry_run", [False, True])
def test_maintain_aimed_at_a_standby_is_refused_up_front(replica_set: ReplicaSet, dry_run: bool) -> None:
    standby = replica_set.standbys()[0]
    result = cli("maintain", "--url", standby.url(), *(["--dry-run"] if dry_run else []))
    assert result.returncode == 3, result.stdout + result.stderr
    assert "ops-db maintain: this server is a standby (in recovery)" in result.stderr, result.stderr
    assert "target_session_attrs=read-write" in result.stderr
    done = cli("maintain", "--url", replica_set.primary.url())
    assert done.returncode == 0, done.stdout + done.stderr
