"""scripts/backup.sh, scripts/restore.sh and `ops-db backup verify`, end to end on a real server."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from ops_db.core.errors import ExitCode
from ops_db.ops.migrations import Runner
from tests.conftest import Server
from tests.ops_helpers import (
    SCRIPTS,
    backup_files,
    clean_env,
    database_exists,
    dbname,
    fill,
    fingerprint,
    flip_byte,
    new_db_name,
    ops_db,
    password_url,
    script,
)

pytestmark = pytest.mark.slow
PASSWORD = "b@ck:up/pw#7?"


def complete_sets(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.dump") if p.with_suffix(".sha256").exists())


def backup(conninfo: str, directory: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    env = clean_env(OPS_DB_URL=conninfo, BACKUP_DIR=str(directory), **env)
    return script("backup.sh", *(args or ("full",)), env=env)


def _load_demo(conninfo: str) -> None:
    """The project's own demo data (market data, ledger) when `ops-db demo` exists."""
    env = clean_env(OPS_DB_URL=conninfo)
    if "demo" not in ops_db("--help", env=env).stdout:
        return
    loaded = ops_db("demo", "--days", "1", env=env)
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr


def test_round_trip_restores_every_table_and_aggregate(server: Server, fresh_db: str, tmp_path: Path) -> None:
    _load_demo(fresh_db)
    fill(fresh_db, server.edition)
    done = backup(fresh_db, tmp_path)
    assert done.returncode == 0, done.stderr
    [dump] = complete_sets(tmp_path)
    assert dump.name.startswith(f"{dbname(fresh_db)}_full_") and dump.name.endswith("Z.dump")
    manifest = json.loads(dump.with_name(dump.name.replace(".dump", ".manifest.json")).read_text())
    source = fingerprint(fresh_db)
    assert manifest["row_counts"] == {name: rows for name, (rows, _) in source.items()}
    assert manifest["row_counts"]["trading.ops_test_ticks"] == 2000
    assert manifest["edition"] == server.edition and manifest["timescaledb_version"]
    assert "pg_dump" in manifest["pg_dump_version"] and manifest["migrations"]

    target = new_db_name()
    try:
        restored = script("restore.sh", "full", str(dump), target, env=clean_env(OPS_DB_URL=fresh_db))
        expected_rc = 0 if not Runner(fresh_db).verify() else 25  # 25: the checkout gained migrations meanwhile
        assert restored.returncode == expected_rc, restored.stdout + restored.stderr
        copy = fingerprint(server.conninfo(target))
        assert copy == source
        assert sum(rows for rows, _ in copy.values()) > 2300  # not a comparison of empty tables
        if server.edition == "timescale":
            assert copy["trading.ops_test_ticks_1h"][0] > 0
        assert not [d for d in _databases(server) if "__restoring_" in d]
    finally:
        server.drop_database(target)


def _databases(server: Server) -> list[str]:
    with psycopg.connect(server.admin) as conn:
        return [r[0] for r in conn.execute("SELECT datname FROM pg_database")]


def test_restore_refuses_a_target_with_data_unless_forced(server: Server, fresh_db: str, tmp_path: Path) -> None:
    fill(fresh_db, server.edition, rows=50)
    assert backup(fresh_db, tmp_path).returncode == 0
    [dump] = complete_sets(tmp_path)
    env = clean_env(OPS_DB_URL=fresh_db)
    refused = script("restore.sh", "full", str(dump), dbname(fresh_db), env=env)
    assert refused.returncode == 21, refused.stderr
    assert "--force" in refused.stderr

    # schema mode into the (non-empty) source with --force: replaced by an empty copy.
    expected_rc = 0 if not Runner(fresh_db).verify() else 25
    forced = script("restore.sh", "--force", "schema", str(dump), dbname(fresh_db), env=env)
    assert forced.returncode == expected_rc, forced.stdout + forced.stderr
    counts = fingerprint(fresh_db)
    assert counts["trading.ops_test_ticks"][0] == 0
    with psycopg.connect(fresh_db) as conn:  # still a hypertable, and the settings rows are kept
        assert conn.execute("SELECT count(*) FROM timescaledb_information.hypertables"
                            " WHERE hypertable_name = 'ops_test_ticks'").fetchone() == (1,)


def test_corrupted_backup_is_refused(server: Server, fresh_db: str, tmp_path: Path) -> None:
    assert backup(fresh_db, tmp_path).returncode == 0
    [dump] = complete_sets(tmp_path)
    flip_byte(dump)
    target = new_db_name()
    refused = script("restore.sh", "full", str(dump), target, env=clean_env(OPS_DB_URL=fresh_db))
    assert refused.returncode == 20, refused.stdout + refused.stderr
    assert "corrupt" in refused.stderr
    assert not database_exists(server, target)
    verify = ops_db("backup", "verify", str(dump), env=clean_env(OPS_DB_URL=fresh_db))
    assert verify.returncode == 20, verify.stderr


def test_backup_verify_restores_into_a_scratch_database(server: Server, fresh_db: str, tmp_path: Path) -> None:
    fill(fresh_db, server.edition, rows=100)
    assert backup(fresh_db, tmp_path).returncode == 0
    [dump] = complete_sets(tmp_path)
    before = set(_databases(server))
    done = ops_db("backup", "verify", str(dump), "--json", env=clean_env(OPS_DB_URL=fresh_db))
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["rows"] >= 400 and report["scratch_database"].startswith("ops_verify_")
    assert set(_databases(server)) == before  # the scratch database is gone

    # A manifest that disagrees with the dump is caught by the comparison (after fixing the checksum).
    manifest = dump.with_name(dump.name.replace(".dump", ".manifest.json"))
    data = json.loads(manifest.read_text())
    data["row_counts"]["trading.ops_test_ticks"] += 1
    manifest.write_text(json.dumps(data))
    _rewrite_checksums(dump)
    mismatch = ops_db("backup", "verify", str(dump), env=clean_env(OPS_DB_URL=fresh_db))
    assert mismatch.returncode == 24, mismatch.stderr
    assert "trading.ops_test_ticks" in mismatch.stderr
    assert set(_databases(server)) == before


def test_clone_copies_a_database_and_a_count_mismatch_touches_nothing(
    server: Server, fresh_db: str, tmp_path: Path
) -> None:
    fill(fresh_db, server.edition, rows=60)
    env = clean_env(OPS_DB_URL=fresh_db)
    target = new_db_name()
    try:
        cloned = script("restore.sh", "clone", dbname(fresh_db), target, env=env)
        assert cloned.returncode == (0 if not Runner(fresh_db).verify() else 25), cloned.stdout + cloned.stderr
        assert fingerprint(server.conninfo(target)) == fingerprint(fresh_db)

        # A manifest that disagrees with its dump: restore.sh exits 24, the target keeps its rows.
        assert backup(fresh_db, tmp_path).returncode == 0
        [dump] = complete_sets(tmp_path)
        manifest = dump.with_name(dump.name.replace(".dump", ".manifest.json"))
        data = json.loads(manifest.read_text())
        data["row_counts"]["trading.ops_test_ticks"] -= 1
        manifest.write_text(json.dumps(data))
        _rewrite_checksums(dump)
        before = fingerprint(server.conninfo(target))
        refused = script("restore.sh", "--force", "full", str(dump), target, env=env)
        assert refused.returncode == 24, refused.stdout + refused.stderr
        assert "trading.ops_test_ticks" in refused.stderr
        assert fingerprint(server.conninfo(target)) == before
        assert not [d for d in _databases(server) if "__restoring_" in d]
    finally:
        server.drop_database(target)


def _rewrite_checksums(dump: Path) -> None:
    base = dump.name.removesuffix(".dump")
    lines = []
    for name in (f"{base}.dump", f"{base}.manifest.json"):
        lines.append(f"{hashlib.sha256((dump.parent / name).read_bytes()).hexdigest()}  {name}\n")
    (dump.parent / f"{base}.sha256").write_text("".join(lines))


def test_second_run_while_locked_exits_10_and_touches_nothing(fresh_db: str, tmp_path: Path) -> None:
    lock = tmp_path / ".backup.lock"
    with lock.open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        blocked = backup(fresh_db, tmp_path)
    assert blocked.returncode == 10, blocked.stderr
    assert "another backup is running" in blocked.stderr
    assert backup_files(tmp_path) == []


def test_kill_9_during_the_dump_leaves_nothing_complete_and_no_stale_lock(
    server: Server, fresh_db: str, tmp_path: Path
) -> None:
    fill(fresh_db, server.edition, rows=20)
    # Hold pg_dump at its table locks, so that the kill lands during the dump.
    blocker = psycopg.connect(fresh_db)
    blocker.execute("LOCK TABLE trading.ops_test_notes IN ACCESS EXCLUSIVE MODE")
    env = clean_env(OPS_DB_URL=fresh_db, BACKUP_DIR=str(tmp_path))
    proc = subprocess.Popen(["bash", str(SCRIPTS / "backup.sh"), "full"], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _wait_for_waiting_pg_dump(fresh_db, proc)
        assert list(tmp_path.glob(".work.*/dump")), "the dump should be in progress under its temporary name"
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=60)
    finally:
        blocker.rollback()
        blocker.close()
    assert [p for p in backup_files(tmp_path) if not p.startswith(".work.")] == []
    assert not list(tmp_path.glob("*.dump")) and not list(tmp_path.glob("*.sha256"))

    again = backup(fresh_db, tmp_path)
    assert again.returncode == 0, again.stderr
    assert len(complete_sets(tmp_path)) == 1
    assert not list(tmp_path.glob(".work.*")), "the killed run's debris is cleared under the lock"


def _wait_for_waiting_pg_dump(conninfo: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    with psycopg.connect(conninfo, autocommit=True) as conn:
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pg_dump'"
                " AND wait_event_type = 'Lock' AND datname = current_database()"
            ).fetchone()
            if row and row[0]:
                return
            time.sleep(0.05)
    pytest.fail("pg_dump never reached the table lock")


def _age(dump: Path, stamp: str) -> Path:
    """Rename a backup set as if taken at ``stamp`` (its checksum file follows)."""
    old = dump.name.removesuffix(".dump")
    new = old.rsplit("_", 1)[0] + "_" + stamp
    for suffix in (".dump", ".manifest.json"):
        (dump.parent / f"{old}{suffix}").rename(dump.parent / f"{new}{suffix}")
    (dump.parent / f"{old}.sha256").unlink()
    moved = dump.parent / f"{new}.dump"
    _rewrite_checksums(moved)
    return moved


def test_retention_never_deletes_the_last_good_backup(fresh_db: str, tmp_path: Path) -> None:
    assert backup(fresh_db, tmp_path).returncode == 0
    oldest = _age(complete_sets(tmp_path)[0], "20200101T000000Z")
    assert backup(fresh_db, tmp_path).returncode == 0
    newer = _age(next(p for p in complete_sets(tmp_path) if p != oldest), "20200201T000000Z")
    flip_byte(newer)  # the newest backup is corrupt: it must not count as good

    pruned = backup(fresh_db, tmp_path, "prune", RETENTION_DAYS="7", RETENTION_MIN_KEEP="0")
    assert pruned.returncode == 0, pruned.stderr
    assert oldest.exists(), "the newest good backup was deleted"
    assert not newer.exists(), "an expired corrupt backup should go"

    fresh = backup(fresh_db, tmp_path, RETENTION_DAYS="7", RETENTION_MIN_KEEP="1")
    assert fresh.returncode == 0, fresh.stderr
    remaining = complete_sets(tmp_path)
    assert len(remaining) == 1 and remaining[0] != oldest  # a newer good one exists now: the old one expired


def _compression(dump: Path) -> str:
    listing = subprocess.run(["pg_restore", "--list", str(dump)], capture_output=True, text=True, check=True).stdout
    return next(line.split(":", 1)[1].strip() for line in listing.splitlines() if "Compression:" in line)


def test_dumps_at_zlib_level_1_unless_backup_compress_says_otherwise(fresh_db: str, tmp_path: Path) -> None:
    assert backup(fresh_db, tmp_path / "default").returncode == 0
    [dump] = complete_sets(tmp_path / "default")
    assert _compression(dump) == "1"
    nine = backup(fresh_db, tmp_path / "nine", BACKUP_COMPRESS="9")
    assert nine.returncode == 0, nine.stderr
    [dump] = complete_sets(tmp_path / "nine")
    assert _compression(dump) == "9"
    for bad in ("10", "x", "-1"):
        refused = backup(fresh_db, tmp_path / "bad", BACKUP_COMPRESS=bad)
        assert refused.returncode == ExitCode.CONFIG, refused.stderr
        assert "BACKUP_COMPRESS" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
        assert backup_files(tmp_path / "bad") == []


def test_data_mode_dumps_a_hypertable_with_its_chunks(server: Server, fresh_db: str, tmp_path: Path) -> None:
    fill(fresh_db, server.edition, rows=500)
    done = backup(fresh_db, tmp_path, "data", "trading.ops_test_ticks")
    assert done.returncode == 0, done.stderr
    [dump] = complete_sets(tmp_path)
    assert "_data_" in dump.name
    manifest = json.loads(dump.with_name(dump.name.replace(".dump", ".manifest.json")).read_text())
    assert manifest["row_counts"] == {"trading.ops_test_ticks": 500}
    listing = subprocess.run(["pg_restore", "--list", str(dump)], capture_output=True, text=True, check=True).stdout
    assert listing.count("TABLE DATA _timescaledb_internal") >= 2  # the chunks' rows, not just the empty parent
    bad = backup(fresh_db, tmp_path, "data", "stock_prices")
    assert bad.returncode == 2


def test_password_never_in_output_or_left_in_files(server: Server, fresh_db: str, tmp_path: Path) -> None:
    with password_url(server, fresh_db, PASSWORD) as url:
        done = backup(url, tmp_path)
        assert done.returncode == 0, done.stderr
        [dump] = complete_sets(tmp_path)
        verify = ops_db("backup", "verify", str(dump), env=clean_env(OPS_DB_URL=url))
        assert verify.returncode == 0, verify.stderr
        wrong = backup(url.replace(quote(PASSWORD, safe=""), "wrong"), tmp_path)
        assert wrong.returncode == ExitCode.DATABASE_UNAVAILABLE
        for text in (done.stdout, done.stderr, verify.stdout, verify.stderr, wrong.stdout, wrong.stderr,
                     *(p.read_text() for p in tmp_path.glob("*.json"))):
            assert PASSWORD not in text and quote(PASSWORD, safe="") not in text
        assert not list(tmp_path.glob(".work.*"))
        for path in tmp_path.rglob("*"):  # the password went to pg_dump's environment, never a file
            assert not path.is_file() or PASSWORD.encode() not in path.read_bytes(), path


def test_scripts_document_their_exit_codes() -> None:
    documented = {"backup.sh": (0, 1, 2, 3, 4, 8, 10, 11, 12, 13),
                  "restore.sh": (0, 1, 2, 3, 8, 10, 11, 20, 21, 22, 23, 24, 25)}
    for name, codes in documented.items():
        shown = subprocess.run(["bash", str(SCRIPTS / name), "--help"], capture_output=True, text=True, check=False)
        assert shown.returncode == 0
        for code in codes:
            assert f"\n  {code} " in shown.stdout, f"{name} --help does not explain exit {code}"


def _as_unprivileged(command: list[str]) -> list[str]:
    """Root writes into any directory: drop the capabilities that let it, so modes count."""
    if os.geteuid() != 0:
        return command
    return ["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner", *command]


@pytest.mark.parametrize("layout", ["read-only dir", "read-only dir with an old lock file", "path under a file"])
def test_unwritable_backup_dir_exits_4_with_one_line(fresh_db: str, tmp_path: Path, layout: str) -> None:
    if layout == "path under a file":
        (tmp_path / "file").write_text("")
        target = tmp_path / "file" / "backups"
        expected = f"backup.sh: cannot create BACKUP_DIR {target}"
    else:
        target = tmp_path / "ro"
        target.mkdir()
        if "lock" in layout:  # the lock opens, the work directory would not: "unexpected failure", twice
            (target / ".backup.lock").write_text("")
        target.chmod(0o555)
        expected = f"backup.sh: BACKUP_DIR {target} is not writable by {_user()}; nothing backed up"
    env = clean_env(OPS_DB_URL=fresh_db, BACKUP_DIR=str(target))
    for mode in ("full", "prune"):
        run = subprocess.run(_as_unprivileged(["bash", str(SCRIPTS / "backup.sh"), mode]), env=env, text=True,
                             capture_output=True, timeout=120, check=False)
        assert run.returncode == 4, run.stdout + run.stderr
        assert run.stderr.splitlines() == [expected] and run.stdout == ""
    if target.is_dir():
        assert sorted(p.name for p in target.iterdir()) == ([".backup.lock"] if "lock" in layout else [])


def _user() -> str:
    import pwd

    return pwd.getpwuid(os.geteuid()).pw_name
