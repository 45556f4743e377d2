"""No secret at rest: kill -9 of backup.sh or restore.sh at any point leaves no file holding the password.

The password reaches pg_dump and pg_restore as PGPASSWORD in their own environment only, so
there is nothing on disk to clean up; these tests kill the scripts at several points and read
every file left under BACKUP_DIR, TMPDIR and the lock directory.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from tests.conftest import Server
from tests.ops_helpers import SCRIPTS, clean_env, fill, fingerprint, new_db_name, password_url, script

pytestmark = pytest.mark.slow
PASSWORD = "k1ll:9/pw#secret?"


def files_holding(secret: str, *roots: Path) -> list[Path]:
    """Every regular file under ``roots`` whose bytes contain ``secret`` (raw or URL-quoted)."""
    needles = {secret.encode(), quote(secret, safe="").encode()}
    found = []
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink():
                data = path.read_bytes()
                if any(needle in data for needle in needles):
                    found.append(path)
    return found


def descendants(pid: int) -> dict[int, str]:
    """pid -> command name of every live descendant of ``pid`` (read from /proc)."""
    parents: dict[int, tuple[int, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] != "Z":
            parents[int(entry.name)] = (int(fields[1]), comm)
    found: dict[int, str] = {}
    frontier = {pid}
    while frontier:
        children = {p for p, (ppid, _) in parents.items() if ppid in frontier and p not in found}
        found.update({p: parents[p][1] for p in children})
        frontier = children
    return found


def wait_until(condition: Callable[[], bool], proc: subprocess.Popen[str], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        assert proc.poll() is None, f"finished before {what}: {proc.communicate()}"
        time.sleep(0.005)
    pytest.fail(f"never saw {what}")


def kill_9(proc: subprocess.Popen[str]) -> set[int]:
    """SIGKILL the script alone (not its process group), as the OOM killer or `kill -9` would."""
    children = set(descendants(proc.pid))
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    return children


def assert_children_gone(children: set[int]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in children):
        time.sleep(0.05)
    alive = {pid: (Path(f"/proc/{pid}/comm").read_text().strip() if Path(f"/proc/{pid}").exists() else "")
             for pid in children if Path(f"/proc/{pid}").exists()}
    assert not alive, f"children of the killed script still run: {alive}"


def dirs(tmp_path: Path) -> tuple[Path, Path, Path]:
    backups, tmp, locks = tmp_path / "backups", tmp_path / "tmp", tmp_path / "locks"
    for path in (backups, tmp, locks):
        path.mkdir()
    return backups, tmp, locks


@pytest.mark.parametrize("moment", ["pg_dump running", "after pg_dump: reading it back, manifest"])
def test_kill_9_of_backup_sh_leaves_no_password(server: Server, fresh_db: str, tmp_path: Path, moment: str) -> None:
    fill(fresh_db, server.edition, rows=50)
    backups, tmp, locks = dirs(tmp_path)
    with password_url(server, fresh_db, PASSWORD) as url:
        blocker = psycopg.connect(fresh_db)
        if moment == "pg_dump running":
            blocker.execute("LOCK TABLE trading.ops_test_notes IN ACCESS EXCLUSIVE MODE")  # pg_dump waits here
        env = clean_env(OPS_DB_URL=url, BACKUP_DIR=str(backups), TMPDIR=str(tmp))
        proc = subprocess.Popen(["bash", str(SCRIPTS / "backup.sh"), "full"], env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        dumping = lambda: "pg_dump" in descendants(proc.pid).values()  # noqa: E731
        try:
            if moment == "pg_dump running":
                wait_until(lambda: dumping() and _lock_waiters(fresh_db) > 0, proc, "pg_dump waiting on the lock")
                assert list(backups.glob(".work.*/dump")), "the kill lands while the dump is written"
            else:
                wait_until(dumping, proc, "pg_dump running")
                wait_until(lambda: not dumping(), proc, "pg_dump finished")
            children = kill_9(proc)
        finally:
            blocker.rollback()
            blocker.close()
        assert_children_gone(children)
        assert files_holding(PASSWORD, backups, tmp, locks) == []
        assert list(backups.glob(".work.*")), "the killed run's work directory is left (nothing secret in it)"

        # The next run clears the debris and writes a set that holds no password either.
        again = subprocess.run(["bash", str(SCRIPTS / "backup.sh"), "full"], env=env, text=True,
                               capture_output=True, timeout=300, check=False)
        assert again.returncode == 0, again.stderr
        assert not list(backups.glob(".work.*"))
        assert files_holding(PASSWORD, backups, tmp, locks) == []


def _lock_waiters(conninfo: str) -> int:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pg_dump'"
                           " AND wait_event_type = 'Lock' AND datname = current_database()").fetchone()
    return int(row[0]) if row else 0


@pytest.mark.parametrize("moment", ["pg_restore running", "after pg_restore: comparing and verifying"])
def test_kill_9_of_restore_sh_leaves_no_password(server: Server, fresh_db: str, tmp_path: Path, moment: str) -> None:
    fill(fresh_db, server.edition, rows=300)
    backups, tmp, locks = dirs(tmp_path)
    target = new_db_name()
    with password_url(server, fresh_db, PASSWORD) as url:
        env = clean_env(OPS_DB_URL=url, BACKUP_DIR=str(backups), TMPDIR=str(tmp), RESTORE_LOCK_DIR=str(locks))
        made = script("backup.sh", "full", env=env)
        assert made.returncode == 0, made.stderr
        [dump] = backups.glob("*.dump")
        try:
            proc = subprocess.Popen(["bash", str(SCRIPTS / "restore.sh"), "full", str(dump), target], env=env,
                                    text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            running = lambda: "pg_restore" in descendants(proc.pid).values()  # noqa: E731
            wait_until(running, proc, "pg_restore running")
            if moment != "pg_restore running":
                wait_until(lambda: not running(), proc, "pg_restore finished")
            children = kill_9(proc)
            assert_children_gone(children)
            assert files_holding(PASSWORD, backups, tmp, locks) == []

            # The next restore into the same target drops the killed one's scratch database and succeeds.
            done = script("restore.sh", "full", str(dump), target, env=env)
            assert done.returncode in (0, 25), done.stdout + done.stderr
            assert fingerprint(server.conninfo(target)) == fingerprint(fresh_db)
            with psycopg.connect(server.admin) as conn:
                left = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                                    (f"{target}\\_\\_restoring\\_%",)).fetchall()
            assert left == []
            assert files_holding(PASSWORD, backups, tmp, locks) == []
        finally:
            server.drop_database(target)
            with psycopg.connect(server.admin, autocommit=True) as conn:
                for (name,) in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                                            (f"{target}\\_\\_restoring\\_%",)).fetchall():
                    server.drop_database(name)
