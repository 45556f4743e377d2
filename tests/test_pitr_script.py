"""scripts/pitr.sh without a server: its exit codes are ops-db's table; bad calls are refused up front."""

from __future__ import annotations

import os
import re
import subprocess

from ops_db.core.errors import ExitCode
from tests.ha_helpers import ROOT

PITR = ROOT / "scripts" / "pitr.sh"


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "PITR_"))}
    clean.update(env)
    return subprocess.run(["bash", str(PITR), *args], capture_output=True, text=True, env=clean, timeout=30,
                          check=False)


def test_the_exit_table_is_exit_code() -> None:
    text = PITR.read_text()
    table = {var: int(value) for line in re.findall(r"^readonly (EXIT_.*)$", text, flags=re.M)
             for var, value in re.findall(r"EXIT_([A-Z_]+)=(\d+)", line)}
    assert table
    for var, value in table.items():
        assert ExitCode[var] == value
    assert set(re.findall(r"\b(?:die|exit) ([0-9]+)\b", text)) <= {"0"}
    block = text.split("Exit codes:\n", 1)[1].split("EOF", 1)[0]
    codes = {int(c) for c in re.findall(r"^  (\d+) ", block, flags=re.M)}
    assert codes <= {int(c) for c in ExitCode}
    assert {0, 1, 2, 3, 10, 11, 20, 21, 23} == codes


def test_help_and_usage_errors() -> None:
    shown = _run("--help")
    assert shown.returncode == 0 and "restore TIME NEW_DATA_DIR" in shown.stdout
    assert _run().returncode == ExitCode.USAGE
    assert _run("backup-everything").returncode == ExitCode.USAGE
    assert _run("full", "extra").returncode == ExitCode.USAGE
    assert _run("restore", "2026-01-01 00:00:00+00").returncode == ExitCode.USAGE


def test_configuration_errors() -> None:
    missing = _run("info")
    assert missing.returncode == ExitCode.CONFIG and "PGBACKREST_CONFIG" in missing.stderr
    unreadable = _run("info", PGBACKREST_CONFIG="/nonexistent/pgbackrest.conf")
    assert unreadable.returncode == ExitCode.CONFIG


def test_ops_db_pitr_run_is_the_script() -> None:
    from tests.ha_helpers import cli

    shown = cli("pitr", "run", "--help")
    assert shown.returncode == 0 and "restore TIME NEW_DATA_DIR" in shown.stdout
    assert cli("pitr", "run", "info").returncode == ExitCode.CONFIG  # no PGBACKREST_CONFIG
