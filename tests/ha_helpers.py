"""Helpers for the multi-node tests (standbys, Patroni, pgBackRest): homes the server user can reach,
the CLI in a child process, and the check that nothing was left running."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pytest

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent
OPS_DB = str(Path(sys.executable).parent / "ops-db")


def need(*commands: str) -> None:
    """Skip when a tool is missing (make ha-tools installs them; `make test` will run it)."""
    missing = [c for c in commands if shutil.which(c) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed: run 'make ha-tools'")


@contextmanager
def scratch_home(prefix: str) -> Iterator[Path]:
    """A directory under /tmp the server user can traverse (pytest's tmp_path is root-only), removed after."""
    path = Path(tempfile.mkdtemp(prefix=f"ops-db-{prefix}-", dir="/tmp"))
    os.chmod(path, 0o711)  # noqa: S103  (traverse only: the server user reaches its own home inside)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def processes_under(path: Path) -> list[str]:
    """Command lines of live processes that mention ``path`` (postgres -D, patroni config, etcd data dir)."""
    out = subprocess.run(["ps", "-eo", "pid=,stat=,args="], capture_output=True, text=True, check=True).stdout
    mine = str(os.getpid())
    found = []
    for line in out.splitlines():
        pid, stat, args = ([*line.strip().split(None, 2), "", ""])[:3]
        if pid != mine and str(path) in args and not stat.startswith("Z") and "ps -eo" not in args:
            found.append(line.strip())
    return found


def assert_nothing_left(path: Path, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while processes_under(path) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_under(path) == []


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """The ops-db command in a child process (as an operator runs it)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "OPS_DB_"))}
    full_env.update(env or {})
    return subprocess.run([OPS_DB, *args], capture_output=True, text=True, timeout=timeout, env=full_env,
                          check=False)


def eventually(probe: Callable[[], T | None], timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)
