"""Direct SQL against every ledger rule of migration 0500, as ops_app, ops_readonly, ops_risk and
ops_owner (SET ROLE from the superuser test login). Each case must be refused and leave the
books as they were; the table is the count reported per category."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from tests.ledger_helpers import order_in, strategy

ALL = ("ops_app", "ops_readonly", "ops_risk", "ops_owner")
CLIENTS = ("ops_app", "ops_readonly", "ops_risk")
FORGE = ("SELECT set_config('ops_db.actor', 'mallory', true), set_config('ops_db.context', 'fill', true),"
         " set_config('ops_db.event_details', '{{\"forged\": 1}}', true)")  # braces doubled for format()

# (category, roles, statement); {pending} is an order awaiting approval staged by alice,
# {submitted} a submitted order, {strategy} its strategy.
CASES: list[tuple[str, tuple[str, ...], str]] = [
    # kill switch
    ("kill switch", CLIENTS, "INSERT INTO trading.kill_switch_events (active, reason, actor, created_at)"
                             " VALUES (false, 'x', 'mallory', '2099-01-01')"),
    ("kill switch", CLIENTS, "UPDATE trading.kill_switch_state SET active = false"),
    ("kill switch", CLIENTS, "DELETE FROM trading.kill_switch_state"),
    ("kill switch", CLIENTS, "UPDATE trading.kill_switch_events SET created_at = '2099-01-01'"),
    ("kill switch", CLIENTS, "DELETE FROM trading.kill_switch_events"),
    ("kill switch", CLIENTS, "TRUNCATE trading.kill_switch_events"),
    ("kill switch", ("ops_readonly",), "SELECT trading.set_kill_switch(false, 'x', 'mallory')"),
    ("kill switch", ("ops_readonly",), "SELECT ops_internal.kill_switch_hold()"),
    ("kill switch", ALL, "SELECT trading.set_kill_switch(NULL, 'x', 'mallory')"),
    ("kill switch", ALL, "SELECT trading.set_kill_switch(true, 'x', 'bad actor!')"),
    ("kill switch", ALL, "SELECT trading.set_kill_switch(true, ' ', 'alice')"),
    # audit trail
    ("audit trail", ALL, "TRUNCATE trading.order_events"),
    ("audit trail", ALL, "UPDATE trading.order_events SET actor = 'mallory'"),
    ("audit trail", ALL, "UPDATE trading.order_events SET login_role = 'mallory'"),
    ("audit trail", ALL, "DELETE FROM trading.order_events"),
    ("audit trail", CLIENTS, "INSERT INTO trading.order_events (order_id, event_type, to_status, actor)"
                             " VALUES ({submitted}, 'changed', 'filled', 'mallory')"),
    ("audit trail", CLIENTS, "INSERT INTO ops_internal.order_change_context (xid, order_id, kind, actor)"
                             " VALUES (pg_current_xact_id(), {submitted}, 'fill', 'mallory')"),
    ("audit trail", CLIENTS, "SELECT * FROM ops_internal.order_change_context"),
    ("audit trail", CLIENTS, "UPDATE ops_internal.order_change_context SET actor = 'mallory'"),
    ("audit trail", ("ops_readonly", "ops_risk"), "SELECT trading.transition_order({pending}, 'cancelled', 'x')"),
    ("audit trail", ("ops_readonly", "ops_risk"), "SELECT trading.screen_order({pending}, 'x')"),
    ("audit trail", ("ops_readonly", "ops_risk"), "SELECT trading.expire_due_orders(now(), 'x')"),
    # fill state: only fills move it, whatever the settings say
    ("fill state", ("ops_app", "ops_owner"), FORGE + "; UPDATE trading.staged_orders SET filled_quantity = 1"
                                             " WHERE id = {submitted}"),
    ("fill state", ("ops_app", "ops_owner"), FORGE + "; UPDATE trading.staged_orders SET status = 'filled'"
                                             " WHERE id = {submitted}"),
    ("fill state", ("ops_app", "ops_owner"), FORGE + "; UPDATE trading.staged_orders SET avg_fill_price = 1,"
                                             " executed_at = now() WHERE id = {submitted}"),
    ("fill state", ("ops_app", "ops_owner"), "UPDATE trading.staged_orders SET status_reason = 'x'"
                                             " WHERE id = {submitted}"),
    ("fill state", CLIENTS, "UPDATE trading.executions SET price = 1"),
    ("fill state", CLIENTS, "UPDATE trading.positions SET realized_pnl = 1e9"),
    ("fill state", ALL, "INSERT INTO trading.executions (order_id, quantity, price, recorded_by)"
                        " VALUES ({submitted}, 1, 10, 'bad actor!')"),
    ("fill state", ("ops_readonly", "ops_risk"), "SELECT ops_internal.lock_symbol('AAPL')"),
    # separation of duties
    ("duties", ("ops_app", "ops_readonly"), "INSERT INTO trading.strategies (name) VALUES ('sneaky')"),
    ("duties", ("ops_app", "ops_readonly"), "UPDATE trading.strategies SET requires_approval = false"),
    ("duties", ("ops_app", "ops_readonly"), "UPDATE trading.strategies SET max_order_quantity = 1e9"),
    ("duties", ("ops_app", "ops_readonly"), "UPDATE trading.strategies SET max_order_value = NULL"),
    ("duties", ("ops_app", "ops_readonly"), "UPDATE trading.strategies SET active = true"),
    ("duties", ("ops_app", "ops_readonly", "ops_risk"), "DELETE FROM trading.strategies WHERE id = {strategy}"),
    ("duties", ALL, "UPDATE trading.staged_orders SET status = 'approved', approved_by = 'alice'"
                    " WHERE id = {pending}"),
    ("duties", ALL, "UPDATE trading.staged_orders SET status = 'approved', approved_by = 'Alice'"
                    " WHERE id = {pending}"),
    ("duties", ("ops_app", "ops_owner"), "SELECT trading.transition_order({pending}, 'approved', 'alice')"),
    ("duties", ("ops_app", "ops_owner"), "UPDATE trading.staged_orders SET approval_required = false"
                                         " WHERE id = {pending}"),
    # idempotent staging: a retry with other terms writes nothing
    ("retries", ("ops_app", "ops_owner"),
     "SELECT trading.stage_order('dup-1', {strategy}, NULL, 'AAPL', 'buy', 'market', 2, NULL, NULL, NULL, NULL,"
     " 'day', 'alice', NULL, '{{}}', '{{}}', NULL, '{{}}', '{{}}', '{{}}', '{{}}', NULL)"),
    ("retries", ("ops_app", "ops_owner"),
     "SELECT trading.stage_order('dup-1', {strategy}, NULL, 'AAPL', 'buy', 'market', 1, NULL, NULL, NULL, NULL,"
     " 'day', 'alice', 99, '{{}}', '{{}}', NULL, '{{}}', '{{}}', '{{}}', '{{}}', NULL)"),
    ("retries", ("ops_readonly",),
     "SELECT trading.stage_order('dup-2', {strategy}, NULL, 'AAPL', 'buy', 'market', 1, NULL, NULL, NULL, NULL,"
     " 'day', 'alice', NULL, '{{}}', '{{}}', NULL, '{{}}', '{{}}', '{{}}', '{{}}', NULL)"),
]

BOOKS = ("SELECT (SELECT count(*) FROM trading.staged_orders), (SELECT count(*) FROM trading.order_events),"
         " (SELECT count(*) FROM trading.executions), (SELECT count(*) FROM trading.kill_switch_events),"
         " (SELECT string_agg(status || filled_quantity, ',' ORDER BY id) FROM trading.staged_orders),"
         " (SELECT active FROM trading.kill_switch_state), (SELECT count(*) FROM trading.strategies),"
         " (SELECT string_agg(requires_approval::text || coalesce(max_order_quantity, 0), ',')"
         "  FROM trading.strategies)")


def _cases() -> list[Any]:
    return [pytest.param(cat, role, stmt, id=f"{cat}-{role}-{i}")
            for i, (cat, roles, stmt) in enumerate(CASES) for role in roles]


@pytest.mark.parametrize(("category", "role", "statement"), _cases())
def test_direct_sql_is_refused(db: psycopg.Connection[Any], category: str, role: str, statement: str) -> None:
    s = strategy(db, requires_approval=True)
    pending = order_in(db, s.id, "pending_approval", created_by="alice")
    submitted = order_in(db, s.id, "submitted")
    db.execute("SELECT trading.stage_order('dup-1', %s, NULL, 'AAPL', 'buy', 'market', 1, NULL, NULL, NULL, NULL,"
               " 'day', 'alice', NULL, '{}', '{}', NULL, '{}', '{}', '{}', '{}', NULL)", (s.id,))
    before = db.execute(BOOKS).fetchone()
    sql = statement.format(pending=pending.id, submitted=submitted.id, strategy=s.id)
    with pytest.raises(psycopg.DatabaseError), db.transaction():
        db.execute(f"SET LOCAL ROLE {role}")  # type: ignore[arg-type]  # fixed role names
        for part in sql.split("; "):
            db.execute(part)  # type: ignore[arg-type]  # the attack table above
    assert db.execute(BOOKS).fetchone() == before


def test_attack_table_counts() -> None:
    """The figures for the report: cases per category (each must be refused above)."""
    per: dict[str, int] = {}
    for cat, roles, _ in CASES:
        per[cat] = per.get(cat, 0) + len(roles)
    assert sum(per.values()) == len(_cases())
    assert per == {"kill switch": 32, "audit trail": 34, "fill state": 20, "duties": 25, "retries": 5}
