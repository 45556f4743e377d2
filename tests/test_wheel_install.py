"""A wheel-only install backs up and restores: built here, installed into a new virtual
environment outside the checkout, run with its cwd elsewhere and no ops-db of the checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT, Server
from tests.ops_helpers import clean_env, fill, fingerprint, new_db_name

pytestmark = pytest.mark.slow


def _run(args: list[str], *, env: dict[str, str] | None = None, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, env=env, cwd=cwd, timeout=600, check=False)


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv holding only the wheel; its dependencies come from this interpreter's site-packages
    (a path in a .pth file: offline, and the checkout's editable ops-db is not on its path)."""
    where = tmp_path_factory.mktemp("wheel")
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                  str(where), str(ROOT)], cwd=where)
    assert built.returncode == 0, built.stderr
    wheel = next(where.glob("ops_db-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    assert {"ops_db/_data/scripts/backup.sh", "ops_db/_data/scripts/restore.sh",
            "ops_db/_data/scripts/common.sh"} <= names
    venv = where / "venv"
    made = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=where)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    site = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=where)
    (Path(site.stdout.strip()) / "deps_from_test_env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = _run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--ignore-installed",
                      str(wheel)], cwd=where)
    assert installed.returncode == 0, installed.stderr
    return venv


def _env(venv: Path, **extra: str) -> dict[str, str]:
    """No OPS_DB_BIN, no checkout on PATH or PYTHONPATH: only the venv's ops-db can be found."""
    env = clean_env(**extra)
    env.pop("OPS_DB_BIN", None)
    env.pop("PYTHONPATH", None)
    checkout_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p and p != checkout_bin)
    return env


def test_the_installed_package_is_the_wheel(wheel_venv: Path, tmp_path: Path) -> None:
    probe = _run([str(wheel_venv / "bin" / "python"), "-c",
                  "import ops_db, ops_db.core.paths as p; print(ops_db.__file__); print(p.scripts_dir())"],
                 env=_env(wheel_venv), cwd=tmp_path)
    assert probe.returncode == 0, probe.stderr
    module, scripts = probe.stdout.splitlines()
    assert module.startswith(str(wheel_venv)) and scripts.startswith(str(wheel_venv))
    assert not scripts.startswith(str(ROOT))
    shown = _run([str(wheel_venv / "bin" / "ops-db"), "backup", "scripts-dir"], env=_env(wheel_venv), cwd=tmp_path)
    assert shown.stdout.strip() == scripts


def test_a_wheel_only_install_backs_up_and_restores(
    server: Server, fresh_db: str, wheel_venv: Path, tmp_path: Path
) -> None:
    fill(fresh_db, server.edition, rows=400)
    ops_db = str(wheel_venv / "bin" / "ops-db")
    backups = tmp_path / "backups"
    env = _env(wheel_venv, OPS_DB_URL=fresh_db, BACKUP_DIR=str(backups))
    done = _run([ops_db, "backup", "run", "backup", "full"], env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    [dump] = backups.glob("*_full_*.dump")
    assert dump.with_name(dump.name.replace(".dump", ".sha256")).exists()

    # The shipped script run directly (as a cron line would) finds the venv's ops-db itself.
    scripts = Path(_run([ops_db, "backup", "scripts-dir"], env=env, cwd=tmp_path).stdout.strip())
    direct = _run(["bash", str(scripts / "backup.sh"), "schema"], env=env, cwd=tmp_path)
    assert direct.returncode == 0, direct.stdout + direct.stderr

    target = new_db_name()
    try:
        restored = _run([ops_db, "backup", "run", "restore", "-j", "2", "full", str(dump), target],
                        env=env, cwd=tmp_path)
        assert restored.returncode == 0, restored.stdout + restored.stderr  # verify passes: same migrations
        assert fingerprint(server.conninfo(target)) == fingerprint(fresh_db)
        verified = _run([ops_db, "backup", "verify", str(dump)], env=env, cwd=tmp_path)
        assert verified.returncode == 0, verified.stderr
    finally:
        server.drop_database(target)
    assert _run([ops_db, "backup", "run", "nope"], env=env, cwd=tmp_path).returncode == 2
