"""`ops-db status` covers sql/schema: what plain `yoyo apply` leaves out is named, exit 5."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import psycopg
from yoyo import get_backend, read_migrations

from ops_db.core.paths import migrations_dir, sql_dir
from ops_db.ops.migrations import Runner
from tests.test_cli import ops_db


def _yoyo_apply(conninfo: str) -> None:
    params = psycopg.conninfo.conninfo_to_dict(conninfo)
    url = f"postgresql+psycopg://{params['user']}@/{params['dbname']}?host={params['host']}&port={params['port']}"
    backend = get_backend(url)
    with backend.lock():
        backend.apply_migrations(backend.to_apply(read_migrations(str(migrations_dir()))))


def test_status_after_plain_yoyo_names_what_is_missing(empty_db: str) -> None:
    _yoyo_apply(empty_db)
    files = sorted(p.name for p in (sql_dir() / "schema").glob("*.sql"))
    assert {s.name: s.status for s in Runner(empty_db).schema_status()} == dict.fromkeys(files, "not applied")

    result = ops_db("status", "--url", empty_db)
    assert result.returncode == 5, result.stdout + result.stderr
    for name in files:
        assert f"problem: sql/schema/{name}: not applied" in result.stdout
    report = json.loads(ops_db("status", "--json", "--url", empty_db).stdout)
    assert report["complete"] is False
    assert {f["status"] for f in report["sql_schema"]} == {"not applied"}
    assert {m["status"] for m in report["migrations"]} == {"applied"}
    assert any(line.startswith("sql/schema/") for line in ops_db("verify", "--url", empty_db).stderr.splitlines())

    migrated = ops_db("migrate", "--url", empty_db)
    assert migrated.returncode == 0, migrated.stderr
    assert migrated.stdout.strip() == "applied 0 migration(s), re-applied " + ", ".join(
        f"sql/schema/{n}" for n in files)
    result = ops_db("status", "--url", empty_db)
    assert result.returncode == 0, result.stdout
    assert f"sql/schema {len(files)} of {len(files)} applied" in result.stdout


def test_status_names_changed_and_gone_schema_files(fresh_db: str, tmp_path: Path) -> None:
    directory = tmp_path / "schema"
    shutil.copytree(sql_dir() / "schema", directory)
    first, *_, last = sorted(directory.glob("*.sql"))
    first.write_text(first.read_text() + "\n-- edited\n")
    last.unlink()
    states = {s.name: s.status for s in Runner(fresh_db, sql_directory=directory).schema_status()}
    assert states[first.name] == "changed"
    assert states[last.name] == "file gone"
    assert {v for k, v in states.items() if k not in (first.name, last.name)} == {"applied"}


def test_pending_migrations_alone_exit_zero(empty_db: str) -> None:
    """Before the first deploy everything is pending: that is a state, not a problem."""
    result = ops_db("status", "--url", empty_db)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "waiting" in result.stdout
