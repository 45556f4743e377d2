DROP TABLE ops_internal.maintenance_runs;
