"""The audit trail records facts, not claims.

What changed is computed from OLD and NEW; the login role (session_user) is recorded on every
event beside the claimed actor; the claim is honoured only when an owner function (transition,
fill) recorded it in the owner-only context table; no client session setting changes what is
recorded; the trail refuses TRUNCATE, UPDATE and DELETE from every role.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import psycopg
import pytest
from psycopg import errors

from ops_db.core.errors import ValidationError
from ops_db.ledger import orders
from ops_db.model import ledger as model
from tests.ledger_helpers import order_in, strategy

FORGE = ("SELECT set_config('ops_db.actor', 'mallory', true), "
         "set_config('ops_db.event_details', '{\"forged\": true}', true), "
         "set_config('ops_db.context', 'fill', true)")


def _login(conn: psycopg.Connection[Any]) -> str:
    row = conn.execute("SELECT session_user::text").fetchone()
    assert row is not None
    return str(row[0])


def _last_event(conn: psycopg.Connection[Any], order_id: int) -> model.OrderEvent:
    return orders.order_events(conn, order_id)[-1]


def test_every_event_records_the_login_beside_the_claimed_actor(db: psycopg.Connection[Any]) -> None:
    order = order_in(db, strategy(db).id, "pending_approval")
    orders.approve_order(db, order.id, "bob")
    orders.cancel_order(db, order.id, "carol", reason="client asked")
    events = orders.order_events(db, order.id)
    assert [(e.event_type, e.actor) for e in events] == [
        ("created", "alice"), ("transition", "system"), ("transition", "bob"), ("transition", "carol")]
    assert {e.login_role for e in events} == {_login(db)}
    approval = events[2]
    assert (approval.details["approved_by"], approval.details["created_by"]) == ("bob", "alice")
    cancel = events[3]
    assert cancel.details["changed"]["status_reason"] == "client asked"
    assert orders.get_order(db, order.id).status_reason == "client asked"


@pytest.mark.parametrize("role", ["ops_app", "ops_owner"])
def test_session_settings_change_nothing_recorded(db: psycopg.Connection[Any], role: str) -> None:
    order = order_in(db, strategy(db).id, "staged")
    db.execute(f"SET LOCAL ROLE {role}")  # type: ignore[arg-type]  # fixed role names
    db.execute(FORGE)
    # a direct UPDATE: the actor is the login, the details only the diff
    db.execute("UPDATE trading.staged_orders SET metadata = '{\"k\": 1}' WHERE id = %s", (order.id,))
    direct = _last_event(db, order.id)
    assert (direct.actor, direct.login_role) == (_login(db), _login(db))
    assert direct.details == {"changed": {"metadata": {"k": 1}}}
    # through the function: the validated actor it was given, whatever the settings say
    db.execute(FORGE)
    orders.screen_order(db, order.id, "screener")
    screened = _last_event(db, order.id)
    assert screened.actor == "screener" and "forged" not in screened.details
    db.execute("RESET ROLE")


def test_settings_forged_from_a_returning_clause_change_nothing(db: psycopg.Connection[Any]) -> None:
    """RETURNING runs after the BEFORE trigger and before the AFTER (audit) trigger."""
    order = order_in(db, strategy(db).id, "staged")
    db.execute("SET LOCAL ROLE ops_app")
    db.execute(
        "WITH u AS (UPDATE trading.staged_orders SET tags = '{x}' WHERE id = %s"
        " RETURNING set_config('ops_db.actor', 'mallory', true), set_config('ops_db.event_details',"
        " '{\"forged\": 1}', true)) SELECT * FROM u", (order.id,))
    event = _last_event(db, order.id)
    assert event.actor != "mallory" and "forged" not in event.details
    db.execute("RESET ROLE")


def test_the_app_cannot_write_the_owner_context(db: psycopg.Connection[Any]) -> None:
    order = order_in(db, strategy(db).id, "submitted")
    for role in ("ops_app", "ops_readonly", "ops_risk"):
        for statement in (
            "INSERT INTO ops_internal.order_change_context (xid, order_id, kind, actor)"
            f" VALUES (pg_current_xact_id(), {order.id}, 'fill', 'mallory')",
            "SELECT * FROM ops_internal.order_change_context",
            "DELETE FROM ops_internal.order_change_context",
        ):
            with pytest.raises(errors.InsufficientPrivilege), db.transaction():
                db.execute(f"SET LOCAL ROLE {role}")  # type: ignore[arg-type]
                db.execute(statement)  # type: ignore[arg-type]


def test_a_temp_trigger_at_depth_two_cannot_set_the_filled_quantity(db: psycopg.Connection[Any]) -> None:
    """The old guard trusted pg_trigger_depth() > 1; a client's own trigger reaches depth 2."""
    order = order_in(db, strategy(db).id, "submitted")
    db.execute("SET LOCAL ROLE ops_app")
    db.execute("CREATE TEMP TABLE poke (id bigint)")
    db.execute(
        "CREATE FUNCTION pg_temp.poke_fill() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        " UPDATE trading.staged_orders SET filled_quantity = quantity, status = 'filled' WHERE id = NEW.id;"
        " RETURN NEW; END $$")
    db.execute("CREATE TRIGGER poke AFTER INSERT ON pg_temp.poke FOR EACH ROW EXECUTE FUNCTION pg_temp.poke_fill()")
    for forged in ("", FORGE):
        if forged:
            db.execute(forged)
        with pytest.raises(psycopg.DatabaseError, match="only by recording a fill"), db.transaction():
            db.execute("INSERT INTO pg_temp.poke VALUES (%s)", (order.id,))
    db.execute("RESET ROLE")
    assert orders.get_order(db, order.id).filled_quantity == 0


@pytest.mark.parametrize("statement", [
    "UPDATE trading.staged_orders SET filled_quantity = 1 WHERE id = {id}",
    "UPDATE trading.staged_orders SET avg_fill_price = 1 WHERE id = {id}",
    "UPDATE trading.staged_orders SET status = 'filled' WHERE id = {id}",
    "UPDATE trading.staged_orders SET status_reason = 'rewritten' WHERE id = {id}",
    "UPDATE trading.staged_orders SET created_by = 'mallory' WHERE id = {id}",
])
@pytest.mark.parametrize("role", ["ops_app", "ops_owner"])
def test_fill_state_and_facts_refused_to_direct_updates(
    db: psycopg.Connection[Any], statement: str, role: str
) -> None:
    order = order_in(db, strategy(db).id, "submitted")
    with pytest.raises(psycopg.DatabaseError), db.transaction():
        db.execute(f"SET LOCAL ROLE {role}")  # type: ignore[arg-type]
        db.execute(FORGE)
        db.execute(statement.format(id=order.id))  # type: ignore[arg-type]


def test_a_fill_records_who_recorded_it(db: psycopg.Connection[Any]) -> None:
    order = order_in(db, strategy(db).id, "submitted")
    db.execute(FORGE)
    fill = orders.record_fill(db, order.id, Decimal(40), Decimal(10), actor="gateway-1")
    event = _last_event(db, order.id)
    assert (fill.recorded_by, event.actor, event.login_role) == ("gateway-1", "gateway-1", _login(db))
    assert event.details["execution_id"] == fill.id and "forged" not in event.details
    with pytest.raises(ValidationError, match="actor"):
        orders.record_fill(db, order.id, Decimal(1), Decimal(10), actor="bad actor!")


@pytest.mark.parametrize("call", ["cancel", "reject", "transition"])
def test_claimed_actors_and_reasons_are_validated(db: psycopg.Connection[Any], call: str) -> None:
    order = order_in(db, strategy(db).id, "staged")
    with pytest.raises(ValidationError):
        if call == "cancel":
            orders.cancel_order(db, order.id, "bad actor!")
        elif call == "reject":
            orders.reject_order(db, order.id, "bob", "   ")
        else:
            orders.expire_order(db, order.id, actor="", reason="x")
    assert orders.get_order(db, order.id).status == "staged"


@pytest.mark.parametrize("role", ["ops_app", "ops_readonly", "ops_owner", "ops_risk", None])
@pytest.mark.parametrize("statement", [
    "TRUNCATE trading.order_events",
    "UPDATE trading.order_events SET actor = 'mallory'",
    "DELETE FROM trading.order_events",
])
def test_the_trail_refuses_truncate_update_delete(db: psycopg.Connection[Any], role: str | None,
                                                  statement: str) -> None:
    order_in(db, strategy(db).id, "staged")
    with pytest.raises((errors.InsufficientPrivilege, psycopg.DatabaseError)), db.transaction():
        if role:
            db.execute(f"SET LOCAL ROLE {role}")  # type: ignore[arg-type]
        db.execute(statement)  # type: ignore[arg-type]
    assert db.execute("SELECT count(*) > 0 FROM trading.order_events").fetchone() == (True,)


def test_chunks_of_the_trail_refuse_truncate_and_delete_but_drop_chunks_works(fresh_db: str) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        order_in(conn, strategy(conn).id, "staged")
        conn.execute("SET ROLE ops_owner")
        chunk = conn.execute(
            "SELECT format('%I.%I', chunk_schema, chunk_name) FROM timescaledb_information.chunks"
            " WHERE hypertable_schema = 'trading' AND hypertable_name = 'order_events' LIMIT 1").fetchone()
        assert chunk is not None
        with pytest.raises(psycopg.DatabaseError):
            conn.execute(f"DELETE FROM {chunk[0]}")  # type: ignore[arg-type]  # a catalog name
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(f"TRUNCATE {chunk[0]}")  # type: ignore[arg-type]
        dropped = conn.execute(
            "SELECT count(*) FROM drop_chunks('trading.order_events', older_than => now() + interval '30 days')"
        ).fetchone()
        assert dropped is not None and dropped[0] >= 1
        assert conn.execute("SELECT count(*) FROM trading.order_events").fetchone() == (0,)


def test_status_reason_is_recorded_only_with_its_transition(db: psycopg.Connection[Any]) -> None:
    order = order_in(db, strategy(db).id, "approved")
    with pytest.raises(psycopg.DatabaseError, match="reason"), db.transaction():
        db.execute("UPDATE trading.staged_orders SET status_reason = 'x' WHERE id = %s", (order.id,))
    expired = orders.expire_order(db, order.id, reason="session ended")
    assert expired.status_reason == "session ended"
    assert _last_event(db, order.id).details["changed"]["status_reason"] == "session ended"
