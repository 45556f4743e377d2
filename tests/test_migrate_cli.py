"""The CLI's contract: own variables per command, help on every option, plain flags, safe rollbacks."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import typer

from ops_db.cli import app, load_commands
from ops_db.core.errors import ExitCode
from ops_db.ops.migrations import FOUNDATION, Runner
from tests.test_cli import ops_db

# Variables that say *where*, not what to do, shared on purpose: the connection every command talks
# to, the HA cluster's home every `ops-db ha` command works on, and the pgBackRest configuration and
# stanza every `ops-db pitr` command reads (as pgBackRest's own tools share them).
SHARED_ENVVARS = {"OPS_DB_URL", "OPS_DB_HA_HOME", "PGBACKREST_CONFIG", "PITR_STANZA"}


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():  # a group (typer vendors click)
        yield from _commands(sub, (*path, name))


def _options() -> Iterator[tuple[str, Any]]:
    load_commands()
    root = typer.main.get_command(app)
    for path, command in _commands(root):
        ctx = root.make_context("ops-db", [], resilient_parsing=True)
        for param in [*command.params, *command.get_params(ctx)[-1:]]:
            if param.param_type_name == "option":
                yield " ".join(path) or "ops-db", param


def test_no_two_commands_share_an_option_variable() -> None:
    owners: dict[str, list[str]] = {}
    for where, option in _options():
        envvars = option.envvar if isinstance(option.envvar, list | tuple) else [option.envvar]
        for envvar in envvars:
            if envvar:
                owners.setdefault(envvar, []).append(f"{where} {option.opts[0]}")
    shared = {var: who for var, who in owners.items() if len(who) > 1 and var not in SHARED_ENVVARS}
    assert shared == {}
    assert {"OPS_DB_MIGRATE_TO", "OPS_DB_ROLLBACK_TO", "OPS_DB_MIGRATE_DRY_RUN", "OPS_DB_ROLLBACK_DRY_RUN",
            "OPS_DB_MAINTAIN_DRY_RUN", "OPS_DB_STATUS_JSON", "OPS_DB_DB_STATUS_JSON"} <= set(owners)


def test_every_option_has_help_and_flags_take_no_value() -> None:
    missing = [f"{where} {o.opts[0]}" for where, o in _options() if not o.help and o.name != "help"]
    assert missing == []
    flags = [(where, o) for where, o in _options() if o.is_flag and o.name not in ("help", "version")]
    assert flags, "no boolean flag found"
    for where, option in flags:
        assert option.is_bool_flag, f"{where} {option.opts[0]} is not a plain flag"


def test_help_shows_flags_without_a_value_type() -> None:
    for command in (["status"], ["migrate"], ["rollback"], ["maintain"], ["stats"], ["db", "status"]):
        result = ops_db(*command, "--help")
        assert result.returncode == 0, result.stderr
        assert "<bool>" not in result.stdout, result.stdout
        assert re.search(r"--(json|dry-run)\s{2,}\S", result.stdout), result.stdout


def test_version() -> None:
    result = ops_db("--version")
    assert result.returncode == 0
    assert re.fullmatch(r"ops-db \d+\.\d+\.\d+\S*\n", result.stdout)


def test_bool_flag_refuses_a_value(empty_db: str) -> None:
    result = ops_db("status", "--json", "true", "--url", empty_db)
    assert result.returncode == ExitCode.USAGE


def test_migrate_variable_does_not_steer_rollback(fresh_db: str) -> None:
    ids = [m.id for m in Runner(fresh_db).migrations()]
    result = ops_db("rollback", "--url", fresh_db, env={"OPS_DB_MIGRATE_TO": ids[3], "OPS_DB_MIGRATE_DRY_RUN": "1"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"rolled back 1 migration(s): {ids[-1]}"
    # ... and a dry run exported for maintain does not make rollback a dry run, nor the reverse.
    result = ops_db("rollback", "--url", fresh_db, env={"OPS_DB_MAINTAIN_DRY_RUN": "1"})
    assert result.stdout.strip() == f"rolled back 1 migration(s): {ids[-2]}"


def _applied(conninfo: str) -> list[str]:
    with psycopg.connect(conninfo) as conn:
        return [r[0] for r in conn.execute("SELECT migration_id FROM _yoyo_migration ORDER BY 1")]


def test_rollback_refuses_more_steps_than_applied(fresh_db: str) -> None:
    before = _applied(fresh_db)
    result = ops_db("rollback", "--steps", str(len(before) + 5), "--url", fresh_db)
    assert result.returncode == ExitCode.ROLLBACK_REFUSED
    assert result.stderr.strip() == (
        f"ops-db: refusing to roll back {len(before) + 5} migration(s): only {len(before)} applied, nothing undone"
    )
    assert _applied(fresh_db) == before


def test_rollback_keeps_the_foundation_without_all(fresh_db: str) -> None:
    before = _applied(fresh_db)
    for args in (["--steps", str(len(before))], ["--to", FOUNDATION[0]], ["--steps", str(len(before)), "--dry-run"]):
        result = ops_db("rollback", *args, "--url", fresh_db)
        assert result.returncode == ExitCode.ROLLBACK_REFUSED, (args, result.stdout, result.stderr)
        assert "without --all" in result.stderr
        assert _applied(fresh_db) == before
    # Down to the foundation is allowed: it stays.
    result = ops_db("rollback", "--to", FOUNDATION[-1], "--url", fresh_db)
    assert result.returncode == 0, result.stderr
    assert _applied(fresh_db) == list(FOUNDATION)
    result = ops_db("rollback", "--all", "--url", fresh_db)
    assert result.returncode == 0, result.stderr
    assert _applied(fresh_db) == []


def test_rollback_dry_run_lists_what_it_drops(fresh_db: str) -> None:
    before = _applied(fresh_db)
    steps = list(reversed(before)).index("0300_maintenance_runs") + 1  # back through 0300, whatever came after
    result = ops_db("rollback", "--steps", str(steps), "--dry-run", "--url", fresh_db)
    assert result.returncode == 0, result.stderr
    undo = [line.split()[2] for line in result.stdout.splitlines() if line.startswith("would undo")]
    assert undo == list(reversed(before))[:steps]
    assert "DROP TABLE ops_internal.maintenance_runs" in result.stdout  # 0300 rollback
    assert _applied(fresh_db) == before
    everything = ops_db("rollback", "--all", "--dry-run", "--url", fresh_db).stdout
    for dropped in ("DROP TABLE trading.executions", "DROP SCHEMA trading", "DROP EXTENSION IF EXISTS timescaledb"):
        assert dropped in everything
    assert _applied(fresh_db) == before


def test_migrate_says_what_it_reapplied(fresh_db: str) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("DELETE FROM _ops_db_reapplied WHERE path = '110_market_analytics.sql'")
    result = ops_db("migrate", "--url", fresh_db)
    assert result.returncode == 0, result.stderr
    # 110 recreates views whose column comments 900 writes: every later file follows it.
    assert result.stdout.strip() == (
        "applied 0 migration(s), re-applied sql/schema/110_market_analytics.sql, "
        "sql/schema/200_trading_ledger.sql, sql/schema/900_comments.sql"
    )
    assert ops_db("migrate", "--url", fresh_db).stdout.strip() == "applied 0 migration(s)"


def test_reapplying_one_file_keeps_what_later_files_add(fresh_db: str) -> None:
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("UPDATE _ops_db_reapplied SET sha256 = 'edited' WHERE path = '200_trading_ledger.sql'")
    assert ops_db("migrate", "--url", fresh_db).returncode == 0
    with psycopg.connect(fresh_db) as conn:
        missing = conn.execute(
            "SELECT a.attname FROM pg_attribute a WHERE a.attrelid = 'trading.v_active_positions'::regclass"
            " AND a.attnum > 0 AND col_description(a.attrelid, a.attnum) IS NULL"
        ).fetchall()
    assert missing == []


@pytest.mark.parametrize("command", ["migrate", "status", "verify", "rollback"])
def test_connection_failure_gives_the_reason(command: str) -> None:
    result = ops_db(command, "--url", "host=127.0.0.1 port=1 dbname=nowhere user=nobody connect_timeout=3")
    assert result.returncode == ExitCode.DATABASE_UNAVAILABLE
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1
    assert re.fullmatch(r"ops-db: cannot connect to .*dbname=nowhere.*: \S.*", line), line
    assert "refused" in line.lower() or "connection" in line.lower()


def test_piped_tables_keep_whole_names(fresh_db: str) -> None:
    """`ops-db stats | cat`: no cell cut or wrapped to 80 columns, every relation on its own line."""
    found = json.loads(ops_db("stats", "--json", "--url", fresh_db).stdout)
    names = [f"{r['schema_name']}.{r['relation_name']}" for r in found["relations"]]
    assert max(len(n) for n in names) > 20
    text = ops_db("stats", "--url", fresh_db).stdout
    assert "…" not in text
    lines = text.splitlines()
    for name in names:
        assert sum(1 for line in lines if re.search(rf"\b{re.escape(name)}\b", line)) >= 1, name
    rows = [line for line in lines if line.startswith("│")]
    assert len(rows) == len(set(rows)), "identical rows: names were cut"
