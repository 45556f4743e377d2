"""Concurrent staging into an empty audit trail: the first chunk's creation must not deadlock.

TimescaleDB locks the tables a hypertable references when it creates a chunk; with a foreign
key from order_events to staged_orders, that deadlocked against concurrent order inserts
(timescale/timescaledb#7429). The audit trail is written only by the order trigger, so it
carries no foreign key.
"""

from __future__ import annotations

import threading
from decimal import Decimal

import psycopg

from ops_db.ledger import orders
from tests import ledger_helpers as h


def test_concurrent_first_orders_do_not_deadlock(fresh_db: str) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        strategy_id = h.strategy(conn).id
        assert conn.execute("SELECT count(*) FROM trading.order_events").fetchone() == (0,)
    failures: list[BaseException] = []
    start = threading.Barrier(4)

    def worker(n: int) -> None:
        try:
            with psycopg.connect(fresh_db, autocommit=True) as conn:
                start.wait()
                for i in range(5):
                    order = orders.stage_order(
                        conn,
                        client_order_id=f"first-chunk-{n}-{i}",
                        strategy_id=strategy_id,
                        symbol="AAPL",
                        side="buy",
                        order_type="limit",
                        quantity=Decimal(10),
                        limit_price=Decimal(100),
                        created_by=f"worker-{n}",
                    )
                    orders.screen_order(conn, order.id)
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("SELECT count(*) FROM trading.staged_orders").fetchone() == (20,)
        assert conn.execute("SELECT count(DISTINCT order_id) FROM trading.order_events").fetchone() == (20,)
