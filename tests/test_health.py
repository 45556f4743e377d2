"""`ops-db health`: Nagios exit codes, thresholds from the environment, no password in any output."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

from ops_db.ops.cluster import free_port
from ops_db.ops.health import CheckResult, HealthReport, Status, Threshold, as_openmetrics, run_checks
from tests.conftest import Server
from tests.ops_helpers import clean_env, ops_db, password_url, script

PASSWORD = "he@lth:pw/9#?"


def test_database_down_is_critical_in_one_line_without_the_password() -> None:
    url = f"postgresql://someone:{quote(PASSWORD, safe='')}@127.0.0.1:{free_port()}/ops_db"
    for extra, code in (((), 2), (("--json",), 2), (("--prometheus",), 0), (("--prometheus", "--nagios-exit"), 2)):
        done = ops_db("health", *extra, env=clean_env(OPS_DB_URL=url, OPS_DB_CONNECT_TIMEOUT="2"))
        assert done.returncode == code, done.stdout + done.stderr
        out = done.stdout + done.stderr
        assert PASSWORD not in out and quote(PASSWORD, safe="") not in out
        assert "Traceback" not in out
    text = ops_db("health", env=clean_env(OPS_DB_URL=url, OPS_DB_CONNECT_TIMEOUT="2")).stdout
    assert len(text.strip().splitlines()) == 1 and text.startswith("OPS-DB CRITICAL: ")


def test_no_database_configured_is_unknown(tmp_path: Path) -> None:
    done = ops_db("health", env=clean_env(OPS_DB_HOME=str(tmp_path / "none")))
    assert done.returncode == 3 and done.stdout.startswith("OPS-DB UNKNOWN: ")


def test_a_crossed_threshold_is_a_warning_with_exit_1(fresh_db: str) -> None:
    env = clean_env(OPS_DB_URL=fresh_db, OPS_DB_HEALTH_CONNECTIONS_WARN="0", OPS_DB_HEALTH_CONNECTIONS_CRIT="101")
    done = ops_db("health", "--only", "connection,connections", env=env)
    assert done.returncode == 1, done.stdout
    line = next(line for line in done.stdout.splitlines() if " connections " in line)
    assert line.startswith("WARNING") and "(warn 0.0%, crit 101.0%)" in line
    assert done.stdout.startswith("OPS-DB WARNING: ")

    env["OPS_DB_HEALTH_DATABASE_SIZE_CRIT"] = "1K"
    env["OPS_DB_HEALTH_DATABASE_SIZE_WARN"] = "1"
    crit = ops_db("health", "--only", "connection,connections,database_size", "--json", env=env)
    assert crit.returncode == 2
    report = json.loads(crit.stdout)
    by_name = {c["name"]: c for c in report["checks"]}
    assert report["status"] == "CRITICAL" and by_name["database_size"]["status"] == "CRITICAL"
    assert by_name["database_size"]["crit"] == 1024 and by_name["database_size"]["value"] > 1024
    assert by_name["connections"]["status"] == "WARNING"


def test_every_check_runs_and_nothing_leaks_the_password(server: Server, fresh_db: str, tmp_path: Path) -> None:
    with password_url(server, fresh_db, PASSWORD) as url:
        env = clean_env(OPS_DB_URL=url, BACKUP_DIR=str(tmp_path))
        outputs = [ops_db("health", *extra, env=env) for extra in ((), ("--json",), ("--prometheus",))]
        for done in outputs:
            assert PASSWORD not in done.stdout + done.stderr
            assert quote(PASSWORD, safe="") not in done.stdout + done.stderr
            assert done.returncode in (0, 1, 2), done.stderr
        checks = {c["name"]: c for c in json.loads(outputs[1].stdout)["checks"]}
        assert not [c for c in checks.values() if c["status"] == "UNKNOWN" and c["name"] != "rollup_lag"], checks
        expected = {"connection", "migrations", "extension", "rollup_lag", "compression", "connections",
                    "long_queries", "idle_in_transaction", "replication", "wraparound", "dead_tuples",
                    "database_size", "backup_age", "triggers_disabled", "lock_waits", "long_transaction",
                    "prepared_transactions", "replication_slots", "wal_archiver", "sequences", "invalid_indexes",
                    "pgbackrest"}
        expected |= {"scheduler", "job_failures", "jobs_overdue"} if server.edition == "timescale" else {"maintain_age"}
        assert set(checks) == expected
        assert checks["extension"]["summary"].endswith(f"{server.edition} edition")
        assert checks["backup_age"]["status"] == "CRITICAL"  # nothing in BACKUP_DIR yet
        assert outputs[2].stdout.endswith("# EOF\n")
        assert 'ops_db_health_check_status{database="' in outputs[2].stdout
        # Nagios perfdata: one label a series (a check's extra figure must not reuse its name).
        labels = [item.split("=", 1)[0] for item in outputs[0].stdout.splitlines()[0].split(" | ", 1)[1].split()]
        assert len(labels) == len(set(labels)), sorted(label for label in labels if labels.count(label) > 1)


def test_backup_age_follows_the_newest_good_backup(fresh_db: str, tmp_path: Path) -> None:
    env = clean_env(OPS_DB_URL=fresh_db, BACKUP_DIR=str(tmp_path))
    missing = ops_db("health", "--only", "backup_age", env=env)
    assert missing.returncode == 2 and "no complete full backup" in missing.stdout
    assert script("backup.sh", "full", env=env).returncode == 0
    fresh = ops_db("health", "--only", "backup_age", env=env)
    assert fresh.returncode == 0, fresh.stdout
    env["OPS_DB_HEALTH_BACKUP_AGE_WARN"] = "0s"
    assert ops_db("health", "--only", "backup_age", env=env).returncode == 1


def test_maintain_age_on_apache(server: Server, fresh_db: str) -> None:
    if server.edition != "apache":
        pytest.skip("maintain stands in for the job scheduler on the apache edition only")
    never = run_checks(fresh_db, {"maintain_age"})
    assert never.results[0].status == Status.WARNING and "never run" in never.results[0].summary
    assert ops_db("maintain", env=clean_env(OPS_DB_URL=fresh_db)).returncode == 0
    recent = run_checks(fresh_db, {"maintain_age"})
    assert recent.results[0].status == Status.OK, recent.results[0].summary


def test_scheduler_missing_is_critical_on_timescale(server: Server, fresh_db: str) -> None:
    if server.edition != "timescale":
        pytest.skip("the job scheduler exists on the timescale edition only")
    before = run_checks(fresh_db, {"jobs_overdue"}).results[0].value or 0
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE trading.ops_test_jobs (ts timestamptz NOT NULL, v int)")
        conn.execute("SELECT create_hypertable('trading.ops_test_jobs', 'ts')")
        conn.execute("ALTER TABLE trading.ops_test_jobs SET (timescaledb.compress)")
        conn.execute("SELECT add_compression_policy('trading.ops_test_jobs', interval '7 days')")
    report = run_checks(fresh_db, {"scheduler", "jobs_overdue"})
    by_name = {r.name: r for r in report.results}
    # Test servers run with timescaledb.max_background_workers = 0: no scheduler, jobs wait.
    assert by_name["scheduler"].status == Status.CRITICAL
    assert "max_background_workers = 0" in by_name["scheduler"].summary
    assert by_name["jobs_overdue"].value == before + 1  # the new policy never ran
    assert "ops_test_jobs" in by_name["jobs_overdue"].summary or before >= 5  # the summary lists the first five
    assert report.status == Status.CRITICAL


def test_unknown_check_name_bad_threshold_and_usage_errors_are_unknown(fresh_db: str) -> None:
    env = clean_env(OPS_DB_URL=fresh_db)
    assert ops_db("health", "--only", "nonsense", env=env).returncode == 3
    for usage in (("--no-such-option",), ("--timeout", "soon"), ("--timeout", "0"), ("stray-argument",)):
        done = ops_db("health", *usage, env=env)
        assert done.returncode == 3, (usage, done.stdout, done.stderr)
    assert ops_db("health", "--help", env=env).returncode == 0
    assert ops_db("stats", "--no-such-option", env=env).returncode == 2  # only health speaks Nagios
    env["OPS_DB_HEALTH_CONNECTION_WARN"] = "fast"
    bad = ops_db("health", "--only", "connection", env=env)
    assert bad.returncode == 3 and "UNKNOWN" in bad.stdout


def test_threshold_grading_and_worst_status() -> None:
    th = Threshold(10, 20, "s")
    assert [th.grade(v) for v in (9.9, 10, 19.9, 20)] == [Status.OK, Status.WARNING, Status.WARNING, Status.CRITICAL]
    latency = CheckResult("connection", Status.OK, "x", 250.0, Threshold(200, 1000, "ms"))
    unknown = CheckResult("rollup_lag", Status.UNKNOWN, "y")
    report = HealthReport('we"ird', "apache", (latency, unknown))
    assert report.status == Status.UNKNOWN  # UNKNOWN outranks OK, not WARNING
    text = as_openmetrics(report)
    assert 'ops_db_health_connection_round_trip_seconds{database="we\\"ird"} 0.25' in text
    assert 'ops_db_health_check_status{database="we\\"ird",check="rollup_lag"} 3' in text
    assert text.endswith("# EOF\n")
    worse = HealthReport("d", "apache", (unknown, CheckResult("x", Status.WARNING, "z")))
    assert worse.status == Status.WARNING


def test_health_reads_only_its_own_environment_variables(fresh_db: str) -> None:
    """OPS_DB_JSON (shared by other commands) must not turn the Nagios status line into `{`."""
    env = clean_env(OPS_DB_URL=fresh_db, OPS_DB_JSON="1")
    done = ops_db("health", "--only", "connection", env=env)
    assert done.stdout.startswith("OPS-DB OK: "), done.stdout
    env["OPS_DB_HEALTH_JSON"] = "1"
    assert json.loads(ops_db("health", "--only", "connection", env=env).stdout)["status"] == "OK"
