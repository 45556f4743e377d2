"""The core's read routing (ops_db.core.db and its async twin) against real streaming standbys.

tests/test_read_routing.py stands a read-only database in for a standby; here the reader is a hot
standby made with pg_basebackup -R (ops_db.ops.replicas): reads reach it, the writer pool refuses
it, a standby whose replay is paused falls behind the lag bound and is skipped (reads go to the
primary) until it catches up, and a restarted standby serves reads again once it streams, however
long ago the primary last committed, while a standby cut off from its primary is skipped once its
last replayed commit is older than the bound, however idle the primary. The primary is a test
cluster without TimescaleDB background workers, so nothing commits on it unless the test does:
the idle case.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from ops_db.aio.core import db as aio_db
from ops_db.core import db
from ops_db.core.errors import DatabaseUnavailable
from ops_db.ops.cluster import LocalCluster, free_port
from ops_db.ops.replicas import ReplicaSet, Standby
from tests.ha_helpers import assert_nothing_left, cli, eventually, scratch_home

pytestmark = pytest.mark.ha

MAX_LAG = 2.0


@pytest.fixture(scope="module")
def replica_set() -> Iterator[ReplicaSet]:
    with scratch_home("routing") as base:
        primary = LocalCluster(base / "primary", free_port(), fast=True)
        replicas = ReplicaSet(primary)
        try:
            primary.up()
            migrated = cli("migrate", "--url", primary.url())  # the lag function read routing calls (0560)
            assert migrated.returncode == 0, migrated.stderr
            with psycopg.connect(primary.conninfo(), autocommit=True) as conn:
                conn.execute("CREATE TABLE routing_probe (n int NOT NULL)")
            replicas.up(1)
            yield replicas
        finally:
            try:
                replicas.remove()
            finally:
                primary.destroy()
        assert_nothing_left(base)


@pytest.fixture()
def pools(replica_set: ReplicaSet) -> Iterator[db.Pools]:
    found = db.create_pools(replica_set.primary.conninfo(), [replica_set.standbys()[0].conninfo()],
                            max_lag=MAX_LAG, timeout=10)
    try:
        yield found
    finally:
        found.close()


def _reads_from_standby(pools: db.Pools) -> bool:
    with db.read_connection(pools, wait=2) as conn:
        row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
        conn.rollback()
    return bool(row and row[0])


def _write(pools: db.Pools, n: int) -> None:
    with db.write_connection(pools) as conn:
        conn.execute("INSERT INTO routing_probe VALUES (%s)", (n,))
        conn.commit()


def _standby(replica_set: ReplicaSet) -> Standby:
    return replica_set.standbys()[0]


def test_reads_go_to_the_standby_and_see_what_the_primary_wrote(replica_set: ReplicaSet, pools: db.Pools) -> None:
    _write(pools, 1)
    assert eventually(lambda: _reads_from_standby(pools) or None, 30, "a read served by the standby")
    with db.read_connection(pools) as conn:
        eventually(lambda: conn.execute("SELECT 1 FROM routing_probe WHERE n = 1").fetchone(), 30,
                   "the row on the standby")
        conn.rollback()
    with db.write_connection(pools) as conn:
        assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (False,)
        conn.rollback()


def test_the_writer_pool_refuses_a_real_standby(replica_set: ReplicaSet) -> None:
    with pytest.raises(DatabaseUnavailable):
        db.create_pool(_standby(replica_set).conninfo(), timeout=3)


def test_a_standby_behind_the_lag_bound_is_skipped_until_it_catches_up(
    replica_set: ReplicaSet, pools: db.Pools
) -> None:
    standby = _standby(replica_set)
    _write(pools, 2)
    eventually(lambda: _reads_from_standby(pools) or None, 30, "a read served by the standby")
    with psycopg.connect(standby.conninfo(), autocommit=True) as conn:
        conn.execute("SELECT pg_wal_replay_pause()")
        try:
            _write(pools, 3)  # received by the standby, not replayed: its lag grows from now on
            time.sleep(MAX_LAG + 1.5)
            _write(pools, 4)
            assert not _reads_from_standby(pools), "a standby 3 s behind was used with a 2 s bound"
        finally:
            conn.execute("SELECT pg_wal_replay_resume()")
    assert eventually(lambda: _reads_from_standby(pools) or None, 30, "reads back on the standby after it caught up")


def test_async_reads_go_to_the_standby(replica_set: ReplicaSet) -> None:
    async def run() -> bool:
        found = await aio_db.create_pools(replica_set.primary.conninfo(), [_standby(replica_set).conninfo()],
                                          max_lag=30, timeout=10)
        try:
            deadline = time.monotonic() + 30
            while True:
                async with aio_db.read_connection(found) as conn:
                    cur = await conn.execute("SELECT pg_is_in_recovery()")
                    row = await cur.fetchone()
                    await conn.rollback()
                if (row and row[0]) or time.monotonic() > deadline:
                    return bool(row and row[0])
                await asyncio.sleep(0.2)
        finally:
            await found.close()

    assert asyncio.run(run())


def test_a_restarted_up_to_date_standby_of_an_idle_primary_serves_reads(
    replica_set: ReplicaSet, pools: db.Pools
) -> None:
    standby = _standby(replica_set)
    _write(pools, 5)
    eventually(lambda: _reads_from_standby(pools) or None, 30, "a read served by the standby")
    standby.cluster.down()
    standby.cluster.start()
    replica_set.up(1)  # waits until it streams again
    # Nothing is committed on the primary from here on: the last replayed commit ages past the
    # bound, but a streaming standby that replayed all it received is not late.
    time.sleep(MAX_LAG + 1)
    deadline = time.monotonic() + 10
    served = False
    while not served and time.monotonic() < deadline:
        served = _reads_from_standby(pools)
        time.sleep(0.5)
    assert served, "an up-to-date standby was skipped for 10 s after its restart"
    # Until it streams again, a restarted standby cannot tell whether it is behind (its receive
    # position restarts at the segment it streams from): read_connection skips it meanwhile.


def test_a_prefer_standby_reader_that_fell_back_to_the_primary_returns_to_the_standby(
    replica_set: ReplicaSet,
) -> None:
    """libpq picks a standby only when it connects: a reader pool on a prefer-standby URL that
    connected while no standby was up (or whose standby was promoted) holds primary connections.
    read_connection drains such a pool (at most once per READER_RETRY), so reads go back to a
    standby once one streams, within READER_RETRY seconds."""
    standby = _standby(replica_set)
    standby.cluster.down()
    found = db.create_pools(replica_set.primary.conninfo(), [replica_set.read_url()], max_lag=30, timeout=10)
    try:
        for _ in range(3):  # no standby up: the reader falls back to the primary, and serves
            assert not _reads_from_standby(found)
        assert list(found.drained_at) == [0]
        drained = found.drained_at[0]
        assert not _reads_from_standby(found)
        assert found.drained_at[0] == drained, "drained again within READER_RETRY"
        standby.cluster.start()
        replica_set.up(1)  # streams again
        started = time.monotonic()
        eventually(lambda: _reads_from_standby(found) or None, db.READER_RETRY + 10,
                   "reads back on the standby after it came up")
        back_after = time.monotonic() - started
        assert back_after <= db.READER_RETRY + 10
        for _ in range(5):  # and they stay there: the pool no longer holds primary connections
            assert _reads_from_standby(found)
    finally:
        found.close()
        if not standby.cluster.is_running():
            standby.cluster.start()
            replica_set.up(1)


def test_a_standby_cut_off_from_its_primary_is_skipped_once_its_data_is_older_than_the_bound(
    replica_set: ReplicaSet, pools: db.Pools,
) -> None:
    """It has replayed all it received, as an up-to-date standby of an idle primary has, but its WAL
    receiver no longer streams: what the primary commits meanwhile is not there, so it is late."""
    standby = _standby(replica_set)
    _write(pools, 6)
    eventually(lambda: _reads_from_standby(pools) or None, 30, "a read served by the standby")
    with psycopg.connect(standby.conninfo(), autocommit=True) as conn:
        row = conn.execute("SHOW primary_conninfo").fetchone()
        assert row is not None and row[0]
        upstream = str(row[0])
        conn.execute("ALTER SYSTEM SET primary_conninfo = ''")
        conn.execute("SELECT pg_reload_conf()")
        try:
            eventually(lambda: conn.execute("SELECT count(*) = 0 FROM pg_stat_wal_receiver").fetchone()[0] or None,
                       30, "the standby's WAL receiver to stop")
            _write(pools, 7)  # not on the standby
            time.sleep(MAX_LAG + 1.5)
            assert not _reads_from_standby(pools), "a standby cut off for 3 s was used with a 2 s bound"
            health = cli("health", "--only", "replication", "--url", standby.url(),
                         env={"OPS_DB_HEALTH_REPLICATION_WARN": "1s", "OPS_DB_HEALTH_REPLICATION_CRIT": "1h"})
            assert health.returncode == 1 and "this replica's replay lag" in health.stdout, health.stdout
        finally:
            conn.execute(sql.SQL("ALTER SYSTEM SET primary_conninfo = {}").format(sql.Literal(upstream)))
            conn.execute("SELECT pg_reload_conf()")
    replica_set.up(1)  # streams again
    assert eventually(lambda: _reads_from_standby(pools) or None, 30, "reads back on the standby once it streams")
    with db.read_connection(pools) as conn:
        assert conn.execute("SELECT count(*) FROM routing_probe WHERE n = 7").fetchone() == (1,)
        conn.rollback()
