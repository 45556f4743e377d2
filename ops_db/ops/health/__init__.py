"""`ops-db health`: Nagios-style checks, each OK / WARNING / CRITICAL with its figure and threshold.

Every threshold has a default and an environment variable, ``OPS_DB_HEALTH_<CHECK>_WARN``
and ``..._CRIT`` (durations accept s/m/h/d, sizes K/M/G/T). A check that cannot run is
UNKNOWN with its reason, one that is blocked names its blocker; the overall status is the
worst (CRITICAL > WARNING > UNKNOWN > OK). The whole run answers within
``OPS_DB_HEALTH_TIMEOUT`` seconds (10).
"""

from ops_db.ops.health.checks import CHECK_NAMES, CHECKS, LEDGER_TABLES, Context
from ops_db.ops.health.model import (
    DEFAULTS,
    CheckResult,
    Figure,
    HealthReport,
    Status,
    Threshold,
    threshold,
)
from ops_db.ops.health.output import as_json, as_openmetrics, as_text, number, perfdata, status_line
from ops_db.ops.health.runner import Budget, database_name, run_checks

__all__ = [
    "CHECKS", "CHECK_NAMES", "DEFAULTS", "LEDGER_TABLES", "Budget", "CheckResult", "Context", "Figure",
    "HealthReport", "Status", "Threshold", "as_json", "as_openmetrics", "as_text", "database_name",
    "number", "perfdata", "run_checks", "status_line", "threshold",
]
