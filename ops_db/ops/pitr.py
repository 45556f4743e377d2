"""Point-in-time recovery with pgBackRest: configuration, archiving settings, and a health-style check.

The cron work (stanza-create, full and differential backups, verify, restore to a time into a new
data directory) is scripts/pitr.sh's; this module writes the configuration it reads
(deploy/pgbackrest.conf.tmpl), turns WAL archiving on, and reports the age of the newest backup
and archive failures, from ``pgbackrest info --output=json`` and, given a connection, from
``pg_stat_archiver`` (pgBackRest itself does not count failed archive-push calls; the server does).

pgBackRest runs as the server's OS user (the files are that user's); every call passes --config,
never relying on the package's /etc/pgbackrest.conf.
"""

from __future__ import annotations

import json
import shutil
import string
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from ops_db.core.errors import ClusterError, ConfigurationError
from ops_db.ops.cluster import SUPERUSER
from ops_db.ops.health.model import CheckResult, Figure, Status, Threshold, threshold, worst
from ops_db.ops.nodes import clean_env, deploy_dir, make_dirs, own, run_as_server
from ops_db.ops.units import fmt

DEFAULT_STANZA = "ops-db"
# The newest backup of any type (full weekly, differential daily): warn after 26 h, critical after 50 h.
INFO_TIMEOUT = 60.0


@dataclass(frozen=True)
class Layout:
    """Where one server's pgBackRest configuration, repository and working files go."""

    config: Path
    repo: Path
    stanza: str = DEFAULT_STANZA

    @property
    def work(self) -> Path:
        return self.config.parent / "pgbackrest"

    @property
    def lock_path(self) -> Path:
        return self.work / "lock"

    @property
    def log_path(self) -> Path:
        return self.work / "log"

    @property
    def spool_path(self) -> Path:
        return self.work / "spool"


def write_config(layout: Layout, *, pg_path: Path, pg_port: int, pg_socket: Path, pg_user: str = SUPERUSER) -> Path:
    """Render deploy/pgbackrest.conf.tmpl into ``layout.config`` and create the directories it names."""
    for name, value in (("stanza", layout.stanza), ("pg_user", pg_user)):
        if not value or any(c.isspace() or c in "=[]#" for c in value):
            raise ConfigurationError(f"{name} {value!r} cannot go in a pgBackRest configuration")
    template = string.Template((deploy_dir() / "pgbackrest.conf.tmpl").read_text())
    text = template.substitute(
        repo_path=layout.repo, lock_path=layout.lock_path, log_path=layout.log_path,
        spool_path=layout.spool_path, stanza=layout.stanza, pg_path=pg_path, pg_port=pg_port,
        pg_socket=pg_socket, pg_user=pg_user,
    )
    layout.config.parent.mkdir(parents=True, exist_ok=True)
    make_dirs(layout.repo, layout.work, layout.lock_path, layout.log_path, layout.spool_path, mode=0o750)
    layout.config.write_text(text)
    layout.config.chmod(0o640)
    own(layout.config)
    return layout.config


def archive_command(layout: Layout) -> str:
    pgbackrest = shutil.which("pgbackrest") or "/usr/bin/pgbackrest"
    return f"{pgbackrest} --config={layout.config} --stanza={layout.stanza} archive-push %p"


ARCHIVE_TIMEOUT = "60s"  # a quiet server still ships its WAL within a minute: the RPO of a lost disk


def enable_archiving(conninfo: str, layout: Layout) -> bool:
    """ALTER SYSTEM archive_mode, archive_command, archive_timeout (when unset) and wal_level replica.

    True when a restart is needed (archive_mode or wal_level changed).
    """
    with psycopg.connect(conninfo, autocommit=True) as conn:
        row = conn.execute("SELECT current_setting('archive_mode'), current_setting('wal_level'),"
                           " current_setting('archive_timeout')").fetchone()
        assert row is not None
        mode, wal_level, timeout = row
        conn.execute(sql.SQL("ALTER SYSTEM SET archive_command = {}").format(sql.Literal(archive_command(layout))))
        conn.execute("ALTER SYSTEM SET archive_mode = 'on'")
        if timeout in ("0", "0s"):
            conn.execute(sql.SQL("ALTER SYSTEM SET archive_timeout = {}").format(sql.Literal(ARCHIVE_TIMEOUT)))
        if wal_level == "minimal":
            conn.execute("ALTER SYSTEM SET wal_level = 'replica'")
        conn.execute("SELECT pg_reload_conf()")
    return bool(mode == "off" or wal_level == "minimal")


def pgbackrest(
    layout: Layout, *args: str, timeout: float = 600, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """One pgbackrest command as the server user, with this layout's --config and --stanza."""
    exe = shutil.which("pgbackrest")
    if exe is None:
        raise ConfigurationError("pgbackrest is not installed: run 'make ha-tools'")
    return run_as_server([exe, f"--config={layout.config}", f"--stanza={layout.stanza}", *args],
                         cwd=layout.work if layout.work.is_dir() else Path("/"), timeout=timeout, check=check,
                         env=clean_env())


# -- the health-style check -------------------------------------------------------------------
@dataclass(frozen=True)
class BackupHealth:
    """The newest backup's age and archiving state; ``result`` is a health CheckResult named "pgbackrest"."""

    result: CheckResult
    newest_backup: dict[str, Any] | None = None
    backups: int = 0
    archive_max: str | None = None
    archiver: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> Status:
        return self.result.status

    def line(self) -> str:
        return f"PGBACKREST {self.status.name}: {self.result.line}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.name,
            "summary": self.result.summary,
            "newest_backup_age_seconds": self.result.value,
            "newest_backup": self.newest_backup,
            "backups": self.backups,
            "archive_max": self.archive_max,
            "archiver": self.archiver,
        }


def age_threshold() -> Threshold:
    """OPS_DB_HEALTH_PGBACKREST_WARN / _CRIT (26 h, 50 h), as every health threshold."""
    return threshold("pgbackrest")


def read_info(layout: Layout, timeout: float = INFO_TIMEOUT) -> dict[str, Any]:
    """``pgbackrest info --output=json`` for this stanza (killed after ``timeout`` seconds)."""
    result = pgbackrest(layout, "info", "--output=json", timeout=timeout, check=False)
    if result.returncode != 0:
        raise ClusterError(f"pgbackrest info failed (exit {result.returncode}): "
                           f"{(result.stderr or result.stdout).strip()[-400:]}")
    stanzas = json.loads(result.stdout or "[]")
    for stanza in stanzas:
        if stanza.get("name") == layout.stanza:
            return dict(stanza)
    return {"name": layout.stanza, "status": {"code": 1, "message": "missing stanza"}, "backup": [], "archive": []}


def _archiver(conninfo: str) -> dict[str, Any]:
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
        cur = conn.execute(
            "SELECT archived_count, last_archived_wal, last_archived_time, failed_count, last_failed_wal,"
            " last_failed_time, current_setting('archive_mode') AS archive_mode,"
            " extract(epoch FROM now() - last_failed_time)::float8 AS failed_ago"
            " FROM pg_stat_archiver"
        )
        row = cur.fetchone()
        assert row is not None and cur.description is not None
        return {col.name: value for col, value in zip(cur.description, row, strict=True)}


def backup_health(config: Path, stanza: str = DEFAULT_STANZA, *, conninfo: str | None = None,
                  now: float | None = None, timeout: float = INFO_TIMEOUT) -> BackupHealth:
    """Grade the newest backup's age; CRITICAL when the stanza is not usable or archiving is failing now.

    "Failing now": pg_stat_archiver's last failure is more recent than its last success (a past
    failure that was retried successfully is reported, not graded). UNKNOWN when pgbackrest cannot
    be asked.
    """
    layout = Layout(Path(config), Path("/nonexistent"), stanza)
    th = age_threshold()
    try:
        info = read_info(layout, timeout)
    except (ClusterError, ConfigurationError, json.JSONDecodeError, subprocess.TimeoutExpired) as exc:
        return BackupHealth(CheckResult("pgbackrest", Status.UNKNOWN, f"cannot read pgbackrest info: {exc}"))
    now = time.time() if now is None else now
    backups = list(info.get("backup") or [])
    code = int((info.get("status") or {}).get("code", 99))
    message = str((info.get("status") or {}).get("message", "unknown"))
    archive_max = max((a.get("max") for a in info.get("archive") or [] if a.get("max")), default=None)
    statuses: list[Status] = []
    parts: list[str] = []
    newest = max(backups, key=lambda b: b["timestamp"]["stop"]) if backups else None
    age: float | None = None
    if newest is not None:
        age = max(0.0, now - float(newest["timestamp"]["stop"]))
        statuses.append(th.grade(age))
        parts.append(f"newest backup {newest['label']} ({newest['type']}) {fmt(age, 's')} old, "
                     f"{len(backups)} backup(s)")
    else:
        statuses.append(Status.CRITICAL)
        parts.append("no backup")
    if code != 0 and not (code == 2 and newest is None):  # 2 is "no valid backups": said above
        statuses.append(Status.CRITICAL)
        parts.append(f"stanza {stanza}: {message}")
    if newest is not None and archive_max is None:
        statuses.append(Status.CRITICAL)
        parts.append("no WAL archived")
    archiver: dict[str, Any] = {}
    figures = [Figure("pgbackrest_backups", float(len(backups)), "count")]
    if conninfo is not None:
        try:
            archiver = _archiver(conninfo)
        except psycopg.Error as exc:
            statuses.append(Status.UNKNOWN)
            parts.append(f"pg_stat_archiver unreadable: {type(exc).__name__}")
        else:
            failed = int(archiver.get("failed_count") or 0)
            figures.append(Figure("archive_failures", float(failed), "count"))
            last_ok, last_failed = archiver.get("last_archived_time"), archiver.get("last_failed_time")
            if archiver.get("archive_mode") == "off":
                statuses.append(Status.CRITICAL)
                parts.append("archive_mode is off")
            elif last_failed is not None and (last_ok is None or last_failed > last_ok):
                statuses.append(Status.CRITICAL)
                parts.append(f"archiving failing: {failed} failure(s), last {archiver.get('last_failed_wal')}")
            else:
                parts.append(f"archiving ok ({failed} past failure(s))" if failed else "archiving ok")
    summary = "; ".join(parts)
    result = CheckResult("pgbackrest", worst(*statuses), summary, age, th, tuple(figures))
    return BackupHealth(result, newest, len(backups), archive_max, archiver)
