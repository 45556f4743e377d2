"""Environment values are parsed in ops_db.core.settings only, by typed readers that name the variable."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from ops_db.core import settings
from ops_db.core.errors import ConfigurationError

ROOT = Path(__file__).resolve().parent.parent
# Reads that are not parsing a setting: handing the environment to a child, libpq's own variables.
_READ = re.compile(r"os\.(?:environ(?:\.get)?|getenv)\s*[\[(]\s*f?[\"']([A-Z_]+)")


def test_only_settings_reads_ops_db_variables() -> None:
    found = []
    for path in sorted((ROOT / "ops_db").rglob("*.py")):
        if path == ROOT / "ops_db" / "core" / "settings.py":
            continue
        for name in _READ.findall(path.read_text()):
            if not name.startswith("PG") and name != "COLUMNS":
                found.append(f"{path.relative_to(ROOT)}: {name}")
    assert not found, f"environment read outside ops_db.core.settings: {found}"


@pytest.mark.parametrize(("raw", "value"), [("1", True), ("TRUE", True), (" on ", True), ("0", False),
                                            ("no", False), ("", False)])
def test_env_bool(monkeypatch: pytest.MonkeyPatch, raw: str, value: bool) -> None:
    monkeypatch.setenv("OPS_DB_TEST_FLAG", raw)
    assert settings.env_bool("OPS_DB_TEST_FLAG") is value


def test_env_bool_refuses_other_words(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPS_DB_TEST_FLAG", "maybe")
    with pytest.raises(ConfigurationError, match="OPS_DB_TEST_FLAG"):
        settings.env_bool("OPS_DB_TEST_FLAG")


@pytest.mark.parametrize(("raw", "value"), [("90", 90), ("1.5m", 90), ("2h", 7200), ("1d", 86400),
                                            ("10G", 10 * 2**30), ("10GiB", 10 * 2**30), ("4K", 4096)])
def test_env_quantity(monkeypatch: pytest.MonkeyPatch, raw: str, value: float) -> None:
    monkeypatch.setenv("OPS_DB_TEST_WAIT", raw)
    assert settings.env_quantity("OPS_DB_TEST_WAIT", 1) == value


def test_env_quantity_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPS_DB_TEST_WAIT", "soon")
    with pytest.raises(ConfigurationError, match="OPS_DB_TEST_WAIT='soon' is not a number"):
        settings.env_quantity("OPS_DB_TEST_WAIT", 1)
    monkeypatch.delenv("OPS_DB_TEST_WAIT")
    assert settings.env_quantity("OPS_DB_TEST_WAIT", 7) == 7


def test_local_cluster_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OPS_DB_HOME", str(tmp_path))
    monkeypatch.setenv("OPS_DB_PORT", "not a port")
    with pytest.raises(ConfigurationError, match="OPS_DB_PORT"):
        settings.local_cluster()
    monkeypatch.setenv("OPS_DB_PORT", "54000")
    found = settings.local_cluster()
    assert (found.home, found.port, found.bindir) == (tmp_path.resolve(), 54000, None)
    assert "port=54000" in found.conninfo() and f"host={tmp_path.resolve() / 'run'}" in found.conninfo()


def test_local_cluster_running_reads_the_postmaster_pid(tmp_path: Path) -> None:
    assert not settings.local_cluster_running(tmp_path)  # no data directory
    (tmp_path / "data").mkdir()
    pid_file = tmp_path / "data" / "postmaster.pid"
    pid_file.write_text("garbage\n")
    assert not settings.local_cluster_running(tmp_path)
    pid_file.write_text(f"{os.getpid()}\n{tmp_path}\n")
    assert settings.local_cluster_running(tmp_path)  # a live process
    pid_file.write_text("999999999\n")
    assert not settings.local_cluster_running(tmp_path)  # no such process
