"""Operations tooling: backup manifests and restores, health checks, statistics, maintenance, schema drift."""
