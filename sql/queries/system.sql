-- name: server_facts
-- PostgreSQL and TimescaleDB versions and the edition the server runs.
-- row: ServerFacts
SELECT current_setting('server_version') AS postgres_version,
       (SELECT extversion FROM pg_extension WHERE extname = 'timescaledb') AS timescaledb_version,
       CASE WHEN current_setting('timescaledb.license', true) = 'timescale'
            THEN 'timescale' ELSE 'apache' END AS edition,
       current_database() AS database

-- name: server_read_only
-- Whether the server refuses writes: in recovery (a standby), or read-only by default.
SELECT pg_is_in_recovery() AS in_recovery, current_setting('default_transaction_read_only')::boolean AS read_only;
