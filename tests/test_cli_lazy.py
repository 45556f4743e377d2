"""`ops-db <command>` imports only the module of that command; the table that says which is complete."""

from __future__ import annotations

import subprocess
import sys

import typer

from ops_db.cli import COMMAND_MODULES, app, load_commands


def test_the_table_names_every_command_and_only_those() -> None:
    load_commands()
    registered = set(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
    assert registered == set(COMMAND_MODULES), "ops_db/cli/__init__.py COMMAND_MODULES is out of date"


def _modules_after(*argv: str) -> set[str]:
    code = ("import sys; from ops_db.cli import load_commands; load_commands(sys.argv[1:]); "
            "print(' '.join(m for m in sys.modules if m.startswith('ops_db.cli.') and m.endswith('_cmds')))")
    out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_a_command_loads_its_own_module_and_each_module_registers_its_commands() -> None:
    every = {f"ops_db.cli.{m}" for m in COMMAND_MODULES.values()}
    for name, module in COMMAND_MODULES.items():
        loaded = _modules_after(name, "--help")
        # its own module, and what that one imports (demo shows positions as ledger_cmds prints them)
        assert f"ops_db.cli.{module}" in loaded and len(loaded) <= 2 < len(every), (name, loaded)
    for module in set(COMMAND_MODULES.values()):  # importing a module alone registers all it is named for
        code = (f"import typer; from ops_db.cli.app import app; import ops_db.cli.{module}; "
                "print(' '.join(typer.main.get_command(app).commands))")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        assert {n for n, m in COMMAND_MODULES.items() if m == module} <= set(out.stdout.split()), module


def test_help_and_unknown_names_load_every_command() -> None:
    every = {f"ops_db.cli.{m}" for m in COMMAND_MODULES.values()}
    assert _modules_after("--help") == every
    assert _modules_after() == every
    assert _modules_after("migrat") == every  # click then says what exists
    assert _modules_after("--version") == every


def test_the_commands_run_as_before() -> None:
    for argv, expected in ((["health", "--help"], "Nagios"), (["backup", "--help"], "verify"), (["--help"], "report")):
        done = subprocess.run([sys.executable, "-m", "ops_db", *argv], capture_output=True, text=True, check=False)
        assert done.returncode == 0 and expected in done.stdout, (argv, done.stdout[-400:], done.stderr[-400:])
    typo = subprocess.run([sys.executable, "-m", "ops_db", "migrat"], capture_output=True, text=True, check=False)
    assert typo.returncode == 2 and "migrate" in typo.stderr
