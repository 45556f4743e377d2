"""Each role can do what it should and is refused what it should not."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import errors


@pytest.fixture
def owner_table(fresh_db: str) -> Iterator[psycopg.Connection[Any]]:
    """A table created the way migrations create them (as ops_owner), in a private database."""
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("SET ROLE ops_owner")
        conn.execute("CREATE TABLE trading.role_probe (id int PRIMARY KEY, note text)")
        conn.execute("INSERT INTO trading.role_probe VALUES (1, 'seed')")
        conn.execute("RESET ROLE")
        yield conn


def as_role(conn: psycopg.Connection[Any], role: str, statement: str) -> None:
    with conn.transaction(force_rollback=True):
        conn.execute(f"SET LOCAL ROLE {role}")  # type: ignore[arg-type]  # fixed role names only
        conn.execute(statement)  # type: ignore[arg-type]


def test_owner_owns_schemas(fresh_db: str) -> None:
    with psycopg.connect(fresh_db) as conn:
        owners = dict(
            conn.execute(
                "SELECT nspname, pg_get_userbyid(nspowner) FROM pg_namespace"
                " WHERE nspname IN ('trading', 'ops_internal')"
            ).fetchall()
        )
    assert owners == {"trading": "ops_owner", "ops_internal": "ops_owner"}


def test_app_reads_and_writes_but_runs_no_ddl(owner_table: psycopg.Connection[Any]) -> None:
    as_role(owner_table, "ops_app", "SELECT * FROM trading.role_probe")
    as_role(owner_table, "ops_app", "INSERT INTO trading.role_probe VALUES (2, 'app')")
    as_role(owner_table, "ops_app", "UPDATE trading.role_probe SET note = 'x' WHERE id = 1")
    as_role(owner_table, "ops_app", "DELETE FROM trading.role_probe WHERE id = 1")
    for ddl in (
        "CREATE TABLE trading.sneaky (id int)",
        "ALTER TABLE trading.role_probe ADD COLUMN extra int",
        "DROP TABLE trading.role_probe",
        "TRUNCATE trading.role_probe",
    ):
        with pytest.raises(errors.InsufficientPrivilege):
            as_role(owner_table, "ops_app", ddl)


def test_readonly_only_reads(owner_table: psycopg.Connection[Any]) -> None:
    as_role(owner_table, "ops_readonly", "SELECT * FROM trading.role_probe")
    for statement in (
        "INSERT INTO trading.role_probe VALUES (3, 'ro')",
        "UPDATE trading.role_probe SET note = 'ro'",
        "DELETE FROM trading.role_probe",
        "CREATE TABLE trading.ro_table (id int)",
    ):
        with pytest.raises(errors.InsufficientPrivilege):
            as_role(owner_table, "ops_readonly", statement)


def test_every_trading_table_is_granted(db: psycopg.Connection[Any]) -> None:
    """Default privileges reached every table the migrations created."""
    missing = db.execute(
        """
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'trading' AND c.relkind IN ('r', 'p', 'v', 'm')
          AND NOT (has_table_privilege('ops_readonly', c.oid, 'SELECT')
                   AND has_table_privilege('ops_app', c.oid, 'SELECT'))
        """
    ).fetchall()
    assert missing == []


def test_migrations_create_objects_owned_by_ops_owner(db: psycopg.Connection[Any]) -> None:
    wrong = db.execute(
        """
        SELECT c.relname, pg_get_userbyid(c.relowner) FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname IN ('trading', 'ops_internal') AND pg_get_userbyid(c.relowner) <> 'ops_owner'
        """
    ).fetchall()
    assert wrong == []
