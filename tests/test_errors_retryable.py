"""Conflicts with a concurrent transaction reach the caller as RetryableConflict (retryable = True):
deadlocks, serialization failures and locks not obtained, each provoked with real connections."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import psycopg
import pytest

from ops_db.core.errors import OpsDbError, RetryableConflict, ValidationError
from ops_db.ledger import strategies

RUNS = 20


@pytest.fixture
def two_strategies(fresh_db: str) -> Iterator[tuple[str, int, int]]:
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        first = strategies.create_strategy(conn, "conflict-a").id
        second = strategies.create_strategy(conn, "conflict-b").id
    yield fresh_db, first, second


def test_retryable_conflict_is_an_ops_db_error_that_says_so() -> None:
    assert issubclass(RetryableConflict, OpsDbError)
    assert RetryableConflict.retryable is True
    assert not issubclass(RetryableConflict, ValidationError)


def _lock_both(url: str, order: tuple[int, int], active: bool, barrier: threading.Barrier,
               outcomes: dict[tuple[int, int], BaseException | None]) -> None:
    try:
        with psycopg.connect(url) as conn:
            conn.execute("SET deadlock_timeout = '10ms'")
            conn.commit()
            with conn.transaction():
                strategies.set_strategy_active(conn, order[0], active)
                barrier.wait()
                strategies.set_strategy_active(conn, order[1], active)
        outcomes[order] = None
    except BaseException as exc:
        outcomes[order] = exc


def test_a_deadlock_raises_retryable_conflict_for_its_victim(two_strategies: tuple[str, int, int]) -> None:
    url, first, second = two_strategies
    for run in range(RUNS):
        barrier = threading.Barrier(2, timeout=5)
        outcomes: dict[tuple[int, int], BaseException | None] = {}
        threads = [
            threading.Thread(target=_lock_both, args=(url, order, run % 2 == 0, barrier, outcomes))
            for order in ((first, second), (second, first))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        errors = [exc for exc in outcomes.values() if exc is not None]
        assert len(outcomes) == 2, f"run {run}: a worker did not finish"
        assert len(errors) == 1, f"run {run}: expected one deadlock victim, got {outcomes}"
        assert isinstance(errors[0], RetryableConflict), f"run {run}: {errors[0]!r}"
        assert "deadlock" in str(errors[0])


def test_a_serialization_failure_raises_retryable_conflict(two_strategies: tuple[str, int, int]) -> None:
    url, first, _ = two_strategies
    with psycopg.connect(url) as reader, psycopg.connect(url, autocommit=True) as writer:
        reader.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        for run in range(RUNS):
            with reader.transaction():
                strategies.get_strategy(reader, first)  # takes the snapshot
                strategies.set_strategy_active(writer, first, run % 2 == 0)
                with pytest.raises(RetryableConflict, match="serialize"):
                    strategies.set_strategy_active(reader, first, run % 2 == 1)
                # the savepoint kept the caller's transaction usable (it still has to retry)
                assert reader.execute("SELECT 1").fetchone() == (1,)


def test_a_lock_not_obtained_in_time_raises_retryable_conflict(two_strategies: tuple[str, int, int]) -> None:
    url, first, _ = two_strategies
    with psycopg.connect(url) as holder, psycopg.connect(url, autocommit=True) as waiter:
        waiter.execute("SET lock_timeout = '20ms'")
        for run in range(RUNS):
            with holder.transaction():
                strategies.set_strategy_active(holder, first, run % 2 == 0)
                with pytest.raises(RetryableConflict, match="lock"):
                    strategies.set_strategy_active(waiter, first, run % 2 == 1)
        assert strategies.get_strategy(waiter, first).active is (RUNS % 2 == 1)

