"""ops-db: the trading team's operational database on PostgreSQL + TimescaleDB."""

from ops_db.core.errors import OpsDbError

__all__ = ["OpsDbError"]
__version__ = "0.1.0"
