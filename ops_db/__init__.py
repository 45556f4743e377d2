"""ops-db: the trading team's operational database on PostgreSQL + TimescaleDB."""

import ops_db.checks  # noqa: F401  (registers the messages of migration 0540's checks)
from ops_db.core import contract as validate
from ops_db.core.errors import OpsDbError

__all__ = ["OpsDbError"]
__version__ = "0.1.0"

# Every public function of the application API gets the one contract for bad input
# (ops_db/validate.py): checked arguments, a savepoint, ops_db errors only.
validate.enforce()
