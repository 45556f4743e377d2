"""Operations: the migration runner, the local cluster, backups and restores, health checks,
statistics, maintenance, schema drift.

Above the core, beside the domain (neither imports the other); the CLI and the demo sit above
both. Inside, the building blocks (catalog, jobs, units, system, cluster, migration_locks,
migrations, rollups, backup) serve the commands (health, maintain, stats, drift), which never
import each other (tests/test_layers.py).
"""
