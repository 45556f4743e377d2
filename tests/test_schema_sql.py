"""docs/schema.sql is what the migrations build: pg_dump of a freshly migrated database, tidied."""

from __future__ import annotations

import difflib

import pytest

from tests.conftest import ROOT, Server
from tests.schema_sql import EDITION, render, tidy


def test_docs_schema_sql_matches_migrations(server: Server, fresh_db: str) -> None:
    if server.edition != EDITION:
        pytest.skip(f"docs/schema.sql documents the {EDITION} edition (rollups are tables there)")
    documented = (ROOT / "docs" / "schema.sql").read_text()
    built = render(fresh_db)
    if built != documented:
        delta = "".join(
            list(
                difflib.unified_diff(
                    documented.splitlines(True), built.splitlines(True), "docs/schema.sql", "migrated database"
                )
            )[:60]
        )
        raise AssertionError(
            "docs/schema.sql differs from what the migrations build; regenerate it (and docs/schema.md) with "
            "`make docs` (python -m tests.schema_sql --regenerate, on a server with the apache edition) "
            "after checking the diff:\n" + delta
        )


def test_tidy_removes_the_dump_noise() -> None:
    dump = (
        "--\n-- PostgreSQL database dump\n--\n\n\\restrict abc123\n\n-- Dumped from database version 15.20\n"
        "SET statement_timeout = 0;\nSELECT pg_catalog.set_config('search_path', '', false);\n\n"
        "--\n-- Name: t; Type: TABLE; Schema: trading; Owner: -\n--\n\nCREATE TABLE trading.t (\n    a int\n);\n\n"
        "--\n-- Name: TABLE t; Type: ACL; Schema: trading; Owner: -\n--\n\n"
        "GRANT SELECT ON TABLE trading.t TO ops_app;\n"
        "CREATE TRIGGER ts_insert_blocker BEFORE INSERT ON trading.t FOR EACH ROW EXECUTE FUNCTION x();\n"
        "\n\n\n\\unrestrict abc123\n"
    )
    assert tidy(dump) == (
        "-- TABLE trading.t\n\nCREATE TABLE trading.t (\n    a int\n);\n\nGRANT SELECT ON TABLE trading.t TO ops_app;\n"
    )
