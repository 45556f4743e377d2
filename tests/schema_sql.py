"""Renders docs/schema.sql, the whole schema as SQL: python -m tests.schema_sql [CONNINFO] > docs/schema.sql

``pg_dump --schema-only`` of a freshly migrated database (apache edition), made deterministic
and readable: no SET lines, no ``\\restrict`` keys, no owners, no dump-version banner, no
TimescaleDB catalog or chunk schemas (``_timescaledb_*``, ``timescaledb_*``) and none of the
``ts_insert_blocker`` triggers TimescaleDB puts on every hypertable (before 2.28), no comment on
the extension (its wording changes between releases); one ``-- TYPE name`` line
heads each object instead of pg_dump's three-line banner. Kept: the extension, the schemas
``trading`` and ``ops_internal`` and the migrations' bookkeeping in ``public``, every table,
view, function, trigger, index, constraint, grant, default privilege and comment. Added: the
roles the migrations create (attributes and memberships among them, from the server) and
which tables are hypertables, both as comments, since pg_dump writes neither.

``python -m tests.schema_sql --regenerate`` rebuilds docs/schema.md and docs/schema.sql from a
scratch database it migrates on the configured server (``make docs``).

On the timescale edition the rollups are continuous aggregates (a different dump), so the file
documents the apache edition; docs/schema.md describes both.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
EDITION = "apache"

HEADER = """\
-- The ops-db schema, generated from a freshly migrated database (TimescaleDB apache edition) by
-- `python -m tests.schema_sql --regenerate` (`make docs`); tests/test_schema_sql.py fails when the
-- migrations and this file disagree. Documentation, not a migration: build a database with
-- `ops-db migrate`. pg_dump --schema-only without SET lines, owners and TimescaleDB's catalog;
-- on the timescale edition the rollups (*_1m .. *_1d, options_volume_1h, signal_performance_1d)
-- are continuous aggregates instead of tables.
"""

ROLES = """
SELECT rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication,
       rolbypassrls, rolconnlimit
FROM pg_roles WHERE rolname = ANY (%(names)s) ORDER BY rolname
"""
MEMBERSHIPS = """
SELECT r.rolname, m.rolname
FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid JOIN pg_roles m ON m.oid = a.member
WHERE r.rolname = ANY (%(names)s) AND m.rolname = ANY (%(names)s) ORDER BY 1, 2
"""
HYPERTABLES = """
SELECT format('%I.%I', hypertable_schema, hypertable_name), column_name, time_interval::text
FROM timescaledb_information.dimensions ORDER BY 1, dimension_number
"""

_BANNER = re.compile(
    r"^--\n-- Name: (?P<name>.*?); Type: (?P<type>[A-Z ]+); Schema: (?P<schema>[^;]*); Owner: [^\n]*\n--\n", re.M
)
_DROP_LINE = re.compile(
    r"^(SET [^\n]*|SELECT pg_catalog\.set_config\('search_path'[^\n]*|\\(?:un)?restrict [^\n]*"
    r"|-- Dumped (?:from|by) [^\n]*|-- PostgreSQL database dump(?: complete)?)\n",
    re.M,
)
_INSERT_BLOCKER = re.compile(r"^CREATE TRIGGER ts_insert_blocker [^\n]*\n", re.M)
# What differs between TimescaleDB releases of one edition: the insert blockers' headings (2.28 has
# no such triggers) and the extension's comment (2.28 names the apache license "Community").
_RELEASE_LINES = re.compile(r"^(-- TRIGGER \S+ ts_insert_blocker|COMMENT ON EXTENSION timescaledb IS [^\n]*)\n", re.M)


def _role_names() -> list[str]:
    from ops_db.core.paths import migrations_dir
    from ops_db.ops.drift import expected_roles

    return sorted(expected_roles(sorted(migrations_dir().glob("*.sql"))).attributes)


def _roles(conn: psycopg.Connection[Any]) -> list[str]:
    names = _role_names()
    out = ["", "-- Roles (cluster-wide; created by the migrations, shown as the server has them):"]
    for name, sup, inherit, createrole, createdb, login, repl, bypass, limit in conn.execute(
        ROLES, {"names": names}
    ).fetchall():
        flags = [
            "SUPERUSER" if sup else "NOSUPERUSER", "INHERIT" if inherit else "NOINHERIT",
            "CREATEROLE" if createrole else "NOCREATEROLE", "CREATEDB" if createdb else "NOCREATEDB",
            "LOGIN" if login else "NOLOGIN", "REPLICATION" if repl else "NOREPLICATION",
            "BYPASSRLS" if bypass else "NOBYPASSRLS",
        ] + ([f"CONNECTION LIMIT {limit}"] if limit != -1 else [])
        out.append(f"-- CREATE ROLE {name} {' '.join(flags)};")
    for role, member in conn.execute(MEMBERSHIPS, {"names": names}).fetchall():
        out.append(f"-- GRANT {role} TO {member};")
    return out


def _hypertables(conn: psycopg.Connection[Any]) -> list[str]:
    out = ["", "-- Hypertables (TimescaleDB; pg_dump shows them as plain tables):"]
    for table, column, interval in conn.execute(HYPERTABLES).fetchall():
        out.append(f"-- SELECT create_hypertable('{table}', by_range('{column}', INTERVAL '{interval}'));")
    return out


def _banner(match: re.Match[str]) -> str:
    kind, name, schema = match["type"], match["name"], match["schema"]
    if kind in {"COMMENT", "ACL", "DEFAULT ACL"}:
        return ""  # the statement below says what it is about
    qualified = name if schema == "-" or kind in {"SCHEMA", "EXTENSION"} else f"{schema}.{name}"
    return f"-- {kind} {qualified}\n"


def tidy(dump: str) -> str:
    text = _DROP_LINE.sub("", dump)
    text = _INSERT_BLOCKER.sub("", text)
    text = _BANNER.sub(_banner, text)
    text = _RELEASE_LINES.sub("", text)
    text = re.sub(r"^--\n", "", text, flags=re.M)  # what is left of the removed banner lines
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip() + "\n"


def pg_dump(conninfo: str) -> str:
    from ops_db.ops.backup import libpq_environment

    env = {**os.environ, **libpq_environment(conninfo)}
    done = subprocess.run(
        ["pg_dump", "--schema-only", "--no-owner", "--no-tablespaces",
         "--exclude-schema=_timescaledb*", "--exclude-schema=timescaledb_*"],
        env=env, capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"pg_dump failed: {done.stderr.strip()}")
    return done.stdout


def render(conninfo: str) -> str:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        extra = _roles(conn) + _hypertables(conn)
    return HEADER + "\n".join(extra) + "\n\n" + tidy(pg_dump(conninfo))


def regenerate(conninfo: str) -> list[Path]:
    """Migrate a scratch database on the server of ``conninfo``, write the schema documents and the
    diagram (Graphviz's dot), drop it."""
    from ops_db.core import settings
    from ops_db.ops.migrations import Runner
    from ops_db.ops.system import server_facts
    from tests.schema_diagram import render_dot, render_svg
    from tests.schema_doc import render as render_md

    name = f"ops_db_docs_{uuid.uuid4().hex[:8]}"
    admin = settings.with_dbname(conninfo, settings.admin_database())
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
    scratch = settings.with_dbname(conninfo, name)
    written = []
    try:
        Runner(scratch).migrate()
        (ROOT / "docs" / "schema.md").write_text(render_md(scratch))
        written.append(ROOT / "docs" / "schema.md")
        dot = render_dot(scratch)
        (ROOT / "docs" / "schema.dot").write_text(dot)
        (ROOT / "docs" / "schema.svg").write_text(render_svg(dot))
        written += [ROOT / "docs" / "schema.dot", ROOT / "docs" / "schema.svg"]
        with psycopg.connect(scratch) as conn:
            edition = server_facts(conn).edition
        if edition == EDITION:
            (ROOT / "docs" / "schema.sql").write_text(render(scratch))
            written.append(ROOT / "docs" / "schema.sql")
        else:
            sys.stderr.write(f"docs/schema.sql not written: it documents the {EDITION} edition, this server "
                             f"runs {edition}\n")
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    return written


def _main(argv: list[str]) -> int:
    from ops_db.core.settings import resolve

    if argv[1:2] == ["--regenerate"]:
        conninfo = argv[2] if len(argv) > 2 else resolve().conninfo
        for path in regenerate(conninfo):
            sys.stdout.write(f"wrote {path.relative_to(ROOT)}\n")
        return 0
    sys.stdout.write(render(argv[1] if len(argv) > 1 else resolve().conninfo))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv))
