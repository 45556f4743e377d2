"""Nagios status line and perfdata; OpenMetrics parsed by prometheus_client and, when installed, promtool."""

from __future__ import annotations

import re
import shutil
import subprocess
import warnings
from pathlib import Path
from urllib.parse import quote

from prometheus_client.openmetrics.parser import text_string_to_metric_families

from ops_db.ops.cluster import free_port
from ops_db.ops.health import CheckResult, Figure, HealthReport, Status, Threshold, as_openmetrics, as_text, number
from tests.ops_helpers import clean_env, ops_db

# label=value[UOM];[warn];[crit];[min];[max]  (Nagios plugin guidelines; trailing empty fields may go)
PERF = re.compile(r"^('([^']|'')+'|[^'= ]+)=-?[0-9.]+(s|ms|us|%|B|KB|MB|TB|c)?(;(-?[0-9.]*)){0,4}$")
BIG = 429496729600.0


def sample_report() -> HealthReport:
    return HealthReport("desk", "apache", (
        CheckResult("connection", Status.OK, "round trip", 1.5, Threshold(200, 1000, "ms")),
        CheckResult("triggers_disabled", Status.CRITICAL, "2 disabled", 2, Threshold(1, 5, "count")),
        CheckResult("lock_waits", Status.CRITICAL, "1 waiting", 75.25, Threshold(10, 60, "s"),
                    (Figure("lock_waiting_sessions", 1, "count"),)),
        CheckResult("sequences", Status.WARNING, "80%", 80.0, Threshold(75, 90, "%")),
        CheckResult("database_size", Status.WARNING, "big", BIG, Threshold(200 * 2**30, 400 * 2**30, "bytes")),
        CheckResult("rollup_lag", Status.UNKNOWN, "check failed"),
        CheckResult("wraparound", Status.OK, "fine", 123456789, Threshold(1e9, 1.5e9, "count")),
    ), True, 0.25)


def parse(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Every sample by metric name, through prometheus_client's OpenMetrics parser (strict: # EOF etc.)."""
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out.setdefault(s.name, []).append((s.labels, s.value))
    return out


def promtool(text: str) -> None:
    """`promtool check metrics` when installed; says so when it is not (the parse above always runs)."""
    tool = shutil.which("promtool")
    if tool is None:
        message = "promtool is not installed: only prometheus_client checked the OpenMetrics output"
        print(message)
        warnings.warn(message, stacklevel=2)
        return
    done = subprocess.run([tool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60,
                          check=False)
    print(f"promtool check metrics: exit {done.returncode} {done.stdout.strip()} {done.stderr.strip()}")
    assert done.returncode == 0, done.stdout + done.stderr


# -- Nagios -----------------------------------------------------------------------------
def test_status_line_names_the_worst_checks_and_counts_the_rest() -> None:
    first = as_text(sample_report()).splitlines()[0]
    line, perf = first.split(" | ")
    assert line == "OPS-DB CRITICAL: triggers_disabled, lock_waits; 2 WARNING; 1 UNKNOWN; 2 OK - desk (apache edition)"
    items = perf.split(" ")
    for item in items:
        assert PERF.match(item), item
    assert "connection=1.5ms;200;1000;0" in items
    assert "lock_waits=75.25s;10;60;0" in items and "lock_waiting_sessions=1;;;0" in items
    assert "sequences=80%;75;90;0;100" in items
    assert f"database_size={int(BIG)}B;{200 * 2**30};{400 * 2**30};0" in items
    assert "wraparound=123456789;1000000000;1500000000;0" in items
    assert not any(i.startswith("rollup_lag=") for i in items)  # no figure, no perfdata


def test_an_all_ok_line_and_a_quoted_label() -> None:
    ok = HealthReport("d b", "timescale", (
        CheckResult("connection", Status.OK, "x", 2.0, Threshold(200, 1000, "ms"), (Figure("odd name=1", 3, "count"),)),
    ))
    first = as_text(ok).splitlines()[0]
    assert first.startswith("OPS-DB OK: 1 checks OK - d b (timescale edition) | ")
    assert "'odd name_1'=3;;;0" in first


# -- OpenMetrics ------------------------------------------------------------------------
def test_openmetrics_values_are_exact_and_names_carry_units() -> None:
    text = as_openmetrics(sample_report())
    assert f'ops_db_health_database_size_bytes{{database="desk"}} {int(BIG)}\n' in text
    assert "e+" not in text and 'unit="' not in text
    samples = parse(text)
    assert samples["ops_db_health_database_size_bytes"] == [({"database": "desk"}, BIG)]
    assert samples["ops_db_health_connection_round_trip_seconds"][0][1] == 0.0015
    assert samples["ops_db_health_sequence_used_ratio"][0][1] == 0.8
    assert samples["ops_db_health_lock_wait_longest_seconds"][0][1] == 75.25
    assert samples["ops_db_health_lock_waiting_sessions"][0][1] == 1
    assert ({"database": "desk", "check": "lock_waits", "level": "crit"}, 60.0) in samples[
        "ops_db_health_threshold_seconds"]
    assert ({"database": "desk", "check": "triggers_disabled"}, 2.0) in samples["ops_db_health_check_status"]
    assert samples["ops_db_health_up"] == [({"database": "desk"}, 1.0)]
    for line in text.splitlines():
        if line.startswith("# UNIT "):
            _, _, name, unit = line.split(" ")
            assert name.endswith("_" + unit)
    assert text.endswith("\n# EOF\n")
    promtool(text)


def test_number_is_exact() -> None:
    assert number(BIG) == "429496729600"
    assert number(2**62) == str(2**62)
    assert number(0.001234) == "0.001234"
    assert number(12.3 / 100) == "0.123"
    assert number(1e-7) == "0.0000001"


def test_prometheus_on_a_live_database_exits_0_and_parses(fresh_db: str, tmp_path: Path) -> None:
    env = clean_env(OPS_DB_URL=fresh_db, BACKUP_DIR=str(tmp_path))  # no backup: CRITICAL
    done = ops_db("health", "--prometheus", env=env)
    assert done.returncode == 0, done.stderr
    samples = parse(done.stdout)
    database = fresh_db.split("dbname=")[1].split()[0]
    assert samples["ops_db_health_status"] == [({"database": database}, 2.0)]
    assert samples["ops_db_health_up"] == [({"database": database}, 1.0)]
    assert samples["ops_db_health_database_size_bytes"][0][1] == int(samples["ops_db_health_database_size_bytes"][0][1])
    promtool(done.stdout)
    assert ops_db("health", "--prometheus", "--nagios-exit", env=env).returncode == 2
    env["OPS_DB_HEALTH_NAGIOS_EXIT"] = "1"
    assert ops_db("health", "--prometheus", env=env).returncode == 2
    # the textfile collector pattern works when something is wrong
    target = tmp_path / "ops_db.prom"
    shell = f'"$OPS_DB_BIN" health --prometheus > "{target}.tmp" && mv "{target}.tmp" "{target}"'
    env.pop("OPS_DB_HEALTH_NAGIOS_EXIT")
    assert subprocess.run(["bash", "-c", shell], env=env, check=False, timeout=120).returncode == 0
    assert target.read_text().endswith("# EOF\n")


def test_prometheus_with_the_database_down_names_it_and_hides_the_password() -> None:
    password = "pr0m:s3cret@/x"
    url = f"postgresql://watcher:{quote(password, safe='')}@127.0.0.1:{free_port()}/trading_desk"
    done = ops_db("health", "--prometheus", env=clean_env(OPS_DB_URL=url, OPS_DB_CONNECT_TIMEOUT="2"))
    assert done.returncode == 0, done.stderr
    assert password not in done.stdout + done.stderr and quote(password, safe="") not in done.stdout + done.stderr
    samples = parse(done.stdout)
    assert samples["ops_db_health_up"] == [({"database": "trading_desk"}, 0.0)]
    assert samples["ops_db_health_status"] == [({"database": "trading_desk"}, 2.0)]
    assert samples["ops_db_health_check_status"] == [({"database": "trading_desk", "check": "connection"}, 2.0)]
    promtool(done.stdout)
    keyword = ops_db("health", "--prometheus", env=clean_env(
        OPS_DB_URL=f"host=127.0.0.1 port={free_port()} dbname=desk_kv user=x password=hunter2",
        OPS_DB_CONNECT_TIMEOUT="2"))
    assert 'ops_db_health_up{database="desk_kv"} 0' in keyword.stdout and "hunter2" not in keyword.stdout
