"""What the local multi-node topologies share: the server's OS user, its processes, and each node's role and lag.

PostgreSQL (and so Patroni and pgBackRest, which read and write its files) refuses to run as
root: run as root, everything here runs as the same unprivileged user as the local cluster
(``postgres`` when it exists, else ``ops-db``). Passwords never reach a command line, a log line
or an exception message.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import psycopg

from ops_db.core.errors import ClusterError
from ops_db.ops.cluster import LocalCluster

T = TypeVar("T")

_PACKAGE = Path(__file__).resolve().parent.parent  # ops_db/


def deploy_dir() -> Path:
    """The shipped configuration templates (deploy/ in the checkout, ops_db/_data/deploy in a wheel)."""
    for candidate in (_PACKAGE / "_data" / "deploy", _PACKAGE.parent / "deploy"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"ops_db cannot find its deploy/ directory (looked beside {_PACKAGE})")


def server_user() -> pwd.struct_passwd | None:
    """The unprivileged user servers run as when we are root (created like LocalCluster does); None otherwise."""
    return LocalCluster(Path("/nonexistent"))._server_user()


def clean_env(home: Path | None = None) -> dict[str, str]:
    """The environment for a server-side tool: no PG* variables of the caller, C.UTF-8."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C.UTF-8"
    if home is not None and server_user() is not None:
        env["HOME"] = str(home)
    return env


def _as_user() -> dict[str, Any]:
    user = server_user()
    if user is None:
        return {}
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


def own(*paths: Path) -> None:
    """Give paths to the server user (no-op unless root)."""
    user = server_user()
    if user is None:
        return
    for path in paths:
        os.chown(path, user.pw_uid, user.pw_gid)


def make_dirs(*paths: Path, mode: int = 0o700) -> None:
    for path in paths:
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, mode)
        own(path)


def write_private(path: Path, text: str) -> None:
    """A file only its owner (the server user) can read: configuration that holds a password."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.chmod(path, 0o600)
    own(path)


def run_as_server(
    args: list[str],
    *,
    cwd: Path,
    timeout: float = 120,
    check: bool = True,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a tool as the server user and wait at most ``timeout`` seconds; ClusterError with the tail
    of its output when it fails. The tool runs in its own process group, killed whole when it
    outlasts ``timeout`` (subprocess.TimeoutExpired): a child it started cannot keep the pipes,
    and the caller, waiting."""
    with subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(env) if env is not None else clean_env(cwd),
        cwd=cwd,
        start_new_session=True,
        **_as_user(),
    ) as proc:
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except BaseException:  # the timeout, and a Ctrl-C too (its own session hears no terminal)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise
    result = subprocess.CompletedProcess(args, proc.returncode, stdout, stderr)
    if check and result.returncode != 0:
        raise ClusterError(f"{Path(args[0]).name} failed: {(result.stderr or result.stdout).strip()[-800:]}")
    return result


def spawn_as_server(args: list[str], *, cwd: Path, log: Path, env: Mapping[str, str] | None = None) -> int:
    """Start a long-running process as the server user in its own session; returns its pid.

    ``args`` is run through ``sh -c 'exec "$@"'`` so that the pid returned is the program's own
    (Patroni's, etcd's), never a shell's: kill -9 of that pid kills the program.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        os.chmod(log, 0o600)
        proc = subprocess.Popen(
            ["/bin/sh", "-c", 'exec "$@"', "sh", *args],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=dict(env) if env is not None else clean_env(cwd),
            start_new_session=True,
            **_as_user(),
        )
    return proc.pid


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours counts as dead: reap it.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        done = 0
    if done == pid:
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def cmdline(pid: int) -> str:
    """A process's command line, arguments joined by spaces ("" when it is gone or unreadable)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as raw:
            return raw.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def pid_running(pid_file: Path, marker: str) -> int | None:
    """The pid in ``pid_file`` when that process is alive and its command line names ``marker``.

    The marker (its configuration file, its data directory) guards against a recycled pid: a pid
    file left by a killed program must never make us signal an unrelated process.
    """
    try:
        pid = int(pid_file.read_text().split("\n", 1)[0].strip())
    except (OSError, ValueError):
        return None
    if pid <= 0 or not pid_alive(pid):
        return None
    return pid if marker in cmdline(pid) else None


def stop_pid(pid: int, *, timeout: float = 30, sig: int = signal.SIGTERM) -> None:
    """Signal a process and wait for it to go; SIGKILL it (and its session) after ``timeout``."""
    if not pid_alive(pid):
        return
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    wait_for(lambda: not pid_alive(pid) or None, 10, f"process {pid} to exit after SIGKILL")


def postmaster_pid(data_dir: Path) -> int | None:
    """The running postmaster's pid from postmaster.pid (a postgres process started on ``data_dir``), or None."""
    return pid_running(data_dir / "postmaster.pid", str(data_dir))


def wait_for(probe: Callable[[], T | None], timeout: float, what: str, interval: float = 0.2) -> T:
    """Call ``probe`` until it returns something other than None (exceptions count as not yet)."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while True:
        try:
            value = probe()
            if value is not None:
                return value
        except Exception as exc:  # a server not up yet: try again
            last = exc
        if time.monotonic() > deadline:
            reason = f" (last error: {type(last).__name__}: {str(last).strip()[:300]})" if last else ""
            raise ClusterError(f"timed out after {timeout:.0f}s waiting for {what}{reason}")
        time.sleep(interval)


# -- role and lag of one node -----------------------------------------------------------------

ROLE_QUERY = """
SELECT pg_is_in_recovery() AS in_recovery,
       (SELECT count(*) FROM pg_stat_replication)::int AS replicas,
       CASE WHEN pg_is_in_recovery()
            THEN CASE WHEN pg_last_wal_receive_lsn() IS NULL
                        OR pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() THEN 0.0
                      ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END
            ELSE (SELECT coalesce(extract(epoch FROM max(replay_lag)), 0) FROM pg_stat_replication)
       END::float8 AS lag_seconds,
       CASE WHEN pg_is_in_recovery()
            THEN greatest(coalesce(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), 0), 0)
            ELSE (SELECT coalesce(max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)), 0) FROM pg_stat_replication)
       END::bigint AS lag_bytes,
       current_setting('transaction_read_only') = 'on' AS read_only
"""


@dataclass(frozen=True)
class NodeRole:
    """A node's role and how far behind it is.

    On a standby: its own replay lag (0 when it has replayed all it received: an idle primary
    does not make an idle standby "late"). Just after a restart, until it streams again, the
    receive position sits behind the replay position (it restarts at a segment boundary): counted
    as no lag here, since it replayed all it has; read routing (ops_db.core.db.replica_lag) is
    stricter and skips such a standby until it streams. On a primary: the worst replay lag of
    its standbys.
    """

    role: str  # primary or standby
    replicas: int
    lag_seconds: float
    lag_bytes: int
    read_only: bool

    def line(self) -> str:
        if self.role == "standby":
            return f"standby, replay lag {self.lag_seconds:.1f}s ({self.lag_bytes} bytes)"
        return f"primary, {self.replicas} standby(s), worst replay lag {self.lag_seconds:.1f}s ({self.lag_bytes} bytes)"


def node_role(conn: psycopg.Connection[Any]) -> NodeRole:
    row = conn.execute(ROLE_QUERY).fetchone()
    assert row is not None
    in_recovery, replicas, lag_seconds, lag_bytes, read_only = row
    return NodeRole(
        "standby" if in_recovery else "primary", int(replicas), float(lag_seconds or 0.0), int(lag_bytes or 0),
        bool(read_only),
    )


def node_role_of(conninfo: str, timeout: int = 5) -> NodeRole:
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=timeout) as conn:
        return node_role(conn)
