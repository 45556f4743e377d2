"""The kill switch is decided by the database's own order of commits.

The state is one row changed only by trading.set_kill_switch(); the order guard holds it FOR
SHARE on every insert and every move to approved or submitted, so a halt waits for submissions in
flight, and a submission that comes after a committed halt is refused (READ COMMITTED: it waits
and reads the halt; REPEATABLE READ and SERIALIZABLE: a serialization failure).
"""

from __future__ import annotations

import random
import threading
import time
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from psycopg import errors

from ops_db.core.errors import KillSwitchActive, OpsDbError
from ops_db.ledger import kill_switch, orders
from tests.ledger_helpers import order_in, stage, strategy, unique

RUNS = 20
SUBMITTERS = 6
TIMEOUT = 30


def _as(conn: psycopg.Connection[Any], role: str, statement: str, params: Any = None) -> None:
    with conn.transaction(force_rollback=True):
        conn.execute(f"SET LOCAL ROLE {role}")  # type: ignore[arg-type]  # fixed role names only
        conn.execute(statement, params)  # type: ignore[arg-type]


def _waiting(observer: psycopg.Connection[Any], pid: int) -> bool:
    row = observer.execute("SELECT count(*) FROM pg_locks WHERE pid = %s AND NOT granted", (pid,)).fetchone()
    return row is not None and row[0] > 0


def _wait_until_blocked(observer: psycopg.Connection[Any], pid: int) -> None:
    while not _waiting(observer, pid):
        observer.execute("SELECT pg_sleep(0.01)")


def test_a_2099_dated_off_row_cannot_disable_the_switch(db: psycopg.Connection[Any]) -> None:
    forged = ("INSERT INTO trading.kill_switch_events (active, reason, actor, created_at)"
              " VALUES (false, 'forever', 'mallory', '2099-01-01')")
    for role in ("ops_app", "ops_readonly", "ops_risk"):
        with pytest.raises(errors.InsufficientPrivilege):
            _as(db, role, forged)
        with pytest.raises(errors.InsufficientPrivilege):
            _as(db, role, "UPDATE trading.kill_switch_state SET active = false")
        with pytest.raises(errors.InsufficientPrivilege):
            _as(db, role, "DELETE FROM trading.kill_switch_events")
    with pytest.raises(errors.InsufficientPrivilege):
        _as(db, "ops_readonly", "SELECT trading.set_kill_switch(false, 'x', 'mallory')")
    # The owner's 2099 row is refused by the time bound (0540); one it writes by hand inside the
    # bound changes nothing either: the state row decides, not created_at.
    with pytest.raises(errors.CheckViolation), db.transaction():
        db.execute(forged)
    db.execute(forged.replace("'2099-01-01'", "clock_timestamp() + interval '4 minutes'"))
    on = kill_switch.activate_kill_switch(db, "broker outage", "alice")
    assert on.active and kill_switch.kill_switch_state(db).active
    row = db.execute("SELECT trading.kill_switch_active()").fetchone()
    assert row == (True,)
    s = strategy(db)
    with pytest.raises(KillSwitchActive):
        stage(db, s.id)
    last = db.execute(
        "SELECT active, actor, login_role, created_at = %s FROM trading.kill_switch_events ORDER BY id DESC LIMIT 1",
        (on.changed_at,)).fetchone()
    assert last == (True, "alice", db.execute("SELECT session_user").fetchone()[0], True)  # type: ignore[index]


def test_the_app_switches_only_through_the_function(db: psycopg.Connection[Any]) -> None:
    with db.transaction(force_rollback=True):
        db.execute("SET LOCAL ROLE ops_app")
        state = kill_switch.activate_kill_switch(db, "desk halt", "alice")
        assert state.active
        # changed_at is the database's clock, not the client's
        row = db.execute("SELECT changed_at <= clock_timestamp() FROM trading.kill_switch_state").fetchone()
        assert row == (True,)
    with pytest.raises(OpsDbError, match="actor"):
        kill_switch.activate_kill_switch(db, "x", "bad actor!")


def test_a_submission_holding_its_share_lock_makes_the_halt_wait(fresh_db: str) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as a, psycopg.connect(fresh_db, autocommit=True) as h, \
            psycopg.connect(fresh_db, autocommit=True) as observer:
        s = strategy(a)
        approved = order_in(a, s.id, "approved")
        a.execute("BEGIN")
        submitted = orders.submit_order(a, approved.id, unique("B"))
        done: list[str] = []
        t = threading.Thread(
            target=lambda: done.append(kill_switch.activate_kill_switch(h, "halt", "risk").reason or "")
        )
        t.start()
        _wait_until_blocked(observer, h.info.backend_pid)
        assert done == []  # the halt waits for the submission in flight
        a.execute("COMMIT")
        t.join(TIMEOUT)
        assert done == ["halt"]
        assert orders.get_order(a, submitted.id).status == "submitted"
        # the submission's events all come before the halt's own time
        row = a.execute(
            "SELECT max(occurred_at) < (SELECT changed_at FROM trading.kill_switch_state)"
            " FROM trading.order_events WHERE order_id = %s", (submitted.id,)).fetchone()
        assert row == (True,)


@pytest.mark.parametrize("isolation", ["READ COMMITTED", "REPEATABLE READ", "SERIALIZABLE"])
@pytest.mark.parametrize("action", ["stage", "approve", "submit"])
def test_after_the_halt_commits_a_transaction_started_before_is_refused(
    fresh_db: str, isolation: str, action: str
) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as a, psycopg.connect(fresh_db, autocommit=True) as h:
        s = strategy(a)
        target = {"approve": "pending_approval", "submit": "approved"}.get(action)
        order = order_in(a, s.id, target) if target else None
        a.execute(f"BEGIN ISOLATION LEVEL {isolation}")  # type: ignore[arg-type]  # fixed values
        a.execute("SELECT count(*) FROM trading.staged_orders")  # the snapshot predates the halt
        kill_switch.activate_kill_switch(h, "halt", "risk")
        with pytest.raises(OpsDbError) as refused:
            if action == "stage":
                stage(a, s.id)
            elif action == "approve":
                assert order is not None
                orders.approve_order(a, order.id, "bob")
            else:
                assert order is not None
                orders.submit_order(a, order.id, unique("B"))
        if isolation == "READ COMMITTED":
            assert isinstance(refused.value, KillSwitchActive)
        else:
            assert isinstance(refused.value.__cause__, errors.SerializationFailure)
        a.execute("ROLLBACK")
        expected = 1 if action == "submit" else 0  # the approved order it started from
        assert a.execute(
            "SELECT count(*) FROM trading.staged_orders WHERE status IN ('approved', 'submitted')").fetchone() == (
            expected,)


def test_no_submission_commits_after_a_halt(fresh_db: str) -> None:
    """Races: submitters (stage, screen, submit in one transaction) against a halt, 20 runs. Every
    transaction that put an order in staged/approved/submitted must be visible to a snapshot the
    halt takes once its UPDATE went through (so it committed before the halt), or be refused."""
    conns = [psycopg.connect(fresh_db, autocommit=True) for _ in range(SUBMITTERS + 1)]
    try:
        halter, subs = conns[0], conns[1:]
        s = strategy(halter)
        rng = random.Random(12)
        committed_total = refused_total = 0
        for run in range(RUNS):
            kill_switch.deactivate_kill_switch(halter, f"run {run}", "risk")
            barrier = threading.Barrier(SUBMITTERS + 1)
            committed: list[int] = []
            refused: list[str] = []
            snapshot: list[str] = []

            def submit(conn: psycopg.Connection[Any], start: float, delay: float, barrier: threading.Barrier,
                       committed: list[int], refused: list[str]) -> None:
                barrier.wait()
                time.sleep(start)  # some submitters start before the halt lands, some after
                try:
                    conn.execute("BEGIN")
                    order = stage(conn, s.id, quantity=Decimal(1))
                    orders.screen_order(conn, order.id)
                    orders.submit_order(conn, order.id, unique("B"))
                    conn.execute("SELECT pg_sleep(%s)", (delay,))  # widen the window before commit
                    row = conn.execute("SELECT pg_current_xact_id()::text").fetchone()
                    conn.execute("COMMIT")
                    assert row is not None
                    committed.append(int(row[0]))
                except KillSwitchActive as exc:
                    conn.execute("ROLLBACK")
                    refused.append(str(exc))

            def halt(barrier: threading.Barrier, snapshot: list[str], delay: float) -> None:
                barrier.wait()
                time.sleep(delay)  # land the halt amid the submissions
                halter.execute("BEGIN")
                kill_switch.activate_kill_switch(halter, "halt", "risk")
                row = halter.execute("SELECT pg_current_snapshot()::text").fetchone()
                halter.execute("COMMIT")
                assert row is not None
                snapshot.append(row[0])

            threads = [threading.Thread(target=submit,
                                        args=(c, rng.random() / 25, rng.random() / 50, barrier, committed, refused))
                       for c in subs]
            threads.append(threading.Thread(target=halt, args=(barrier, snapshot, 0.005 + rng.random() / 50)))
            for t in threads:
                t.start()
            for t in threads:
                t.join(TIMEOUT)
                assert not t.is_alive()
            assert len(committed) + len(refused) == SUBMITTERS
            for xid in committed:
                visible = halter.execute("SELECT pg_visible_in_snapshot(%s::text::xid8, %s::pg_snapshot)",
                                         (str(xid), snapshot[0])).fetchone()
                assert visible == (True,), f"run {run}: transaction {xid} committed after the halt"
            committed_total += len(committed)
            refused_total += len(refused)
        assert committed_total + refused_total == RUNS * SUBMITTERS
        assert committed_total > 0 and refused_total > 0, (committed_total, refused_total)  # the halt landed amid them
    finally:
        for c in conns:
            c.close()
