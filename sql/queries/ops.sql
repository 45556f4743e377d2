-- Queries of the operations tooling: catalog, backup/restore, health, stats, maintain.
-- Objects are always found through the catalog (schemas trading and ops_internal), so
-- tables, hypertables and aggregates added by later migrations are covered unchanged.

-- name: data_relations
-- Tables, hypertables, materialized views and continuous aggregates that hold data.
-- row: Relation
SELECT schema_name, relation_name, kind
  FROM ops_internal.data_relations
 ORDER BY 1, 2

-- name: count_rows
-- Exact row count of one relation; {relation} is filled with a psycopg.sql.Identifier.
SELECT count(*) AS n FROM {relation}

-- name: migration_rows
-- Applied migrations as the database records them (for backup manifests).
-- row: AppliedMigration
SELECT migration_id AS id, applied_at_utc AS applied_at
  FROM public._yoyo_migration
 ORDER BY applied_at_utc, migration_id

-- name: export_snapshot
-- The first statement of a REPEATABLE READ transaction: pg_dump --snapshot then sees what it sees.
SELECT pg_export_snapshot()

-- name: chunks_of
-- The chunks of the named hypertables (schema.table), as pg_dump --table patterns.
SELECT quote_ident(c.chunk_schema) || '.' || quote_ident(c.chunk_name)
  FROM timescaledb_information.chunks c
 WHERE c.hypertable_schema || '.' || c.hypertable_name = ANY (%(tables)s)
 ORDER BY 1

-- name: timescaledb_available
-- The TimescaleDB versions this server can create, and the edition it runs.
-- row: TimescaledbAvailable
SELECT e.default_version::text AS default_version,
       ARRAY(SELECT v.version::text FROM pg_available_extension_versions v
              WHERE v.name = 'timescaledb' ORDER BY v.version) AS versions,
       CASE WHEN current_setting('timescaledb.license', true) = 'timescale'
            THEN 'timescale' ELSE 'apache' END AS edition
  FROM pg_available_extensions e
 WHERE e.name = 'timescaledb'

-- name: database_exists
-- Whether a database of that name exists.
SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = %(name)s) AS found

-- name: user_table_count
-- Tables outside the system and TimescaleDB schemas: a database with any is "not empty".
-- row: _Count
SELECT count(*) AS n
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
   AND n.nspname NOT LIKE '\_timescaledb%'
   AND n.nspname NOT LIKE 'timescaledb\_%'
   AND n.nspname NOT LIKE 'pg\_temp%'

-- name: create_database
-- An empty database for a restore; {name} is an identifier.
CREATE DATABASE {name} TEMPLATE template0

-- name: drop_database
-- Drops a scratch or replaced database, disconnecting its sessions.
DROP DATABASE IF EXISTS {name} WITH (FORCE)

-- name: rename_database
-- Puts a restored database in place of the target name.
ALTER DATABASE {old} RENAME TO {new}

-- name: stale_restores
-- Scratch databases (<target>__restoring_<pid>) of restores that were killed before they could drop them.
SELECT datname FROM pg_database
 WHERE starts_with(datname, %(prefix)s) AND substr(datname, length(%(prefix)s) + 1) ~ '^[0-9]+$'

-- name: create_timescaledb
-- The extension at the version the backup was taken with; {version} is a literal.
CREATE EXTENSION timescaledb VERSION {version}

-- name: timescaledb_pre_restore
-- Stops background jobs and marks the database as restoring.
SELECT timescaledb_pre_restore()

-- name: timescaledb_post_restore
-- Ends restoring mode; must run even when pg_restore failed.
SELECT timescaledb_post_restore()

-- name: health_ping
-- The cheapest round trip.
SELECT 1

-- name: extension_state
-- Installed TimescaleDB version (NULL when absent), the one the server's files offer, and the edition.
-- row: ExtensionState
SELECT (SELECT extversion FROM pg_extension WHERE extname = 'timescaledb') AS installed_version,
       (SELECT default_version::text FROM pg_available_extensions WHERE name = 'timescaledb') AS available_version,
       CASE WHEN current_setting('timescaledb.license', true) = 'timescale'
            THEN 'timescale' ELSE 'apache' END AS edition

-- name: job_states
-- Scheduled TimescaleDB jobs with their last outcome and the newest error message.
-- row: JobState
SELECT j.job_id,
       j.application_name::text AS application_name,
       j.proc_schema::text || '.' || j.proc_name::text AS proc,
       coalesce(j.hypertable_schema::text || '.' || j.hypertable_name::text, '') AS target,
       j.schedule_interval,
       s.last_run_started_at,
       s.last_run_status::text AS last_run_status,
       s.next_start,
       coalesce(s.total_failures, 0) AS total_failures,
       (SELECT e.err_message::text FROM timescaledb_information.job_errors e
         WHERE e.job_id = j.job_id ORDER BY e.finish_time DESC NULLS LAST LIMIT 1) AS last_error
  FROM timescaledb_information.jobs j
  LEFT JOIN timescaledb_information.job_stats s ON s.job_id = j.job_id
 WHERE j.scheduled
   AND j.proc_name <> 'policy_telemetry'  -- TimescaleDB's phone-home, off in ops-db clusters
 ORDER BY j.job_id

-- name: scheduler_running
-- Whether TimescaleDB's job scheduler has a worker on this database.
SELECT current_setting('timescaledb.max_background_workers')::int AS max_workers,
       EXISTS (SELECT 1 FROM pg_stat_activity
                WHERE backend_type = 'TimescaleDB Background Worker Scheduler'
                  AND datname = current_database()) AS running

-- name: run_job
-- Runs one TimescaleDB job now, in this session (needs autocommit).
CALL run_job(%(job_id)s)

-- name: last_maintenance_run
-- The newest successful real `ops-db maintain` run, and how long ago it finished.
SELECT max(finished_at) AS finished_at, now() - max(finished_at) AS age
  FROM ops_internal.maintenance_runs
 WHERE succeeded AND NOT dry_run

-- name: maintenance_runs_exists
-- Whether migration 0300 is applied here.
SELECT to_regclass('ops_internal.maintenance_runs') IS NOT NULL AS found

-- name: start_maintenance_run
-- Records the start of a maintain run.
INSERT INTO ops_internal.maintenance_runs (edition, dry_run)
VALUES (%(edition)s, %(dry_run)s)
RETURNING id

-- name: finish_maintenance_run
-- Records how a maintain run ended and what it did.
UPDATE ops_internal.maintenance_runs
   SET finished_at = clock_timestamp(), succeeded = %(succeeded)s, actions = %(actions)s, error = %(error)s
 WHERE id = %(id)s

-- name: try_lock
-- A session-level advisory lock: true when this session got it.
SELECT pg_try_advisory_lock(%(key)s) AS got

-- name: unlock
-- Releases a session-level advisory lock.
SELECT pg_advisory_unlock(%(key)s) AS released

-- name: uncompressed_old_chunks
-- Chunks past their hypertable's compression age (plus a grace period) still uncompressed.
SELECT count(*) AS n,
       coalesce(string_agg(DISTINCT c.hypertable_schema::text || '.' || c.hypertable_name::text, ', '), '')
           AS hypertables
  FROM timescaledb_information.jobs j
  JOIN timescaledb_information.chunks c
    ON c.hypertable_schema = j.hypertable_schema AND c.hypertable_name = j.hypertable_name
 WHERE j.proc_name IN ('policy_compression', 'policy_columnstore')
   AND jsonb_typeof(j.config -> 'compress_after') = 'string'
   AND NOT c.is_compressed
   AND c.range_end < now() - (j.config ->> 'compress_after')::interval - %(grace)s::interval

-- name: connection_usage
-- Client connections in use against what the server allows ordinary roles.
SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend') AS used,
       current_setting('max_connections')::int
           - current_setting('superuser_reserved_connections')::int AS available

-- name: longest_query
-- The longest-running active statement of another session (seconds), and who runs it.
SELECT coalesce(extract(epoch FROM max(now() - query_start)), 0)::float8 AS seconds,
       count(*) FILTER (WHERE now() - query_start > %(threshold)s::interval) AS over,
       coalesce((array_agg(coalesce(nullif(application_name, ''), usename::text, '?') || ' pid ' || pid
                 ORDER BY query_start))[1], '') AS who
  FROM pg_stat_activity
 WHERE state = 'active' AND backend_type = 'client backend' AND pid <> pg_backend_pid()

-- name: longest_idle_in_transaction
-- The longest idle-in-transaction session (seconds), and who holds it.
SELECT coalesce(extract(epoch FROM max(now() - state_change)), 0)::float8 AS seconds,
       count(*) FILTER (WHERE now() - state_change > %(threshold)s::interval) AS over,
       coalesce((array_agg(coalesce(nullif(application_name, ''), usename::text, '?') || ' pid ' || pid
                 ORDER BY state_change))[1], '') AS who
  FROM pg_stat_activity
 WHERE state IN ('idle in transaction', 'idle in transaction (aborted)') AND pid <> pg_backend_pid()

-- name: replication_lag
-- Replicas of this server and their worst replay lag (seconds); on a replica, see standby_lag.
SELECT pg_is_in_recovery() AS in_recovery,
       (SELECT count(*) FROM pg_stat_replication) AS replicas,
       (SELECT extract(epoch FROM max(replay_lag)) FROM pg_stat_replication)::float8 AS lag_seconds

-- name: standby_lag
-- This standby's own lag (migration 0560): 0 while it streams and replayed all it received, else
-- the age of its last replayed transaction; NULL when it has replayed none since it started.
SELECT ops_internal.replay_lag() AS lag_seconds

-- name: wraparound_age
-- The oldest unfrozen transaction ID age of any database on the server.
SELECT max(age(datfrozenxid))::bigint AS xid_age,
       (array_agg(datname::text ORDER BY age(datfrozenxid) DESC))[1] AS database
  FROM pg_database WHERE datallowconn

-- name: worst_dead_tuples
-- The table (chunks included) with the largest share of dead tuples among those big enough to matter.
SELECT schemaname::text || '.' || relname::text AS relation,
       n_dead_tup AS dead,
       n_live_tup AS live,
       n_dead_tup::float8 / greatest(n_live_tup + n_dead_tup, 1) AS ratio
  FROM pg_stat_user_tables
 WHERE n_live_tup + n_dead_tup >= %(min_rows)s
 ORDER BY ratio DESC
 LIMIT 1

-- name: database_size
-- Size of the current database in bytes.
SELECT pg_database_size(current_database()) AS bytes, current_database()::text AS database

-- name: vacuum_candidates
-- Tables (chunks included) whose dead tuples or missing statistics call for VACUUM (ANALYZE).
-- row: VacuumCandidate
SELECT schemaname::text AS schema_name, relname::text AS relation_name,
       n_dead_tup AS dead, n_live_tup AS live,
       greatest(last_analyze, last_autoanalyze) AS analyzed_at
  FROM pg_stat_user_tables
 WHERE (n_dead_tup >= %(min_dead)s
        AND n_dead_tup::float8 / greatest(n_live_tup + n_dead_tup, 1) >= %(dead_ratio)s)
    OR (greatest(last_analyze, last_autoanalyze) IS NULL AND n_mod_since_analyze >= %(min_dead)s)
 ORDER BY n_dead_tup DESC

-- name: vacuum_analyze
-- VACUUM (ANALYZE) of one table; {relation} is an identifier. Needs autocommit.
VACUUM (ANALYZE) {relation}

-- name: relation_sizes
-- Every data relation of trading/ops_internal with its size, chunk count and estimated rows.
-- row: RelationSize
SELECT schema_name, relation_name, kind,
       CASE kind WHEN 'hypertable' THEN hypertable_size(relid)
                 WHEN 'continuous_aggregate' THEN hypertable_size(storage)
                 ELSE pg_total_relation_size(relid) END AS total_bytes,
       CASE kind WHEN 'hypertable' THEN (SELECT count(*) FROM show_chunks(relid))
                 WHEN 'continuous_aggregate' THEN (SELECT count(*) FROM show_chunks(storage))
                 ELSE 0 END AS chunks,
       CASE kind WHEN 'hypertable' THEN approximate_row_count(relid)
                 WHEN 'continuous_aggregate' THEN approximate_row_count(storage)
                 ELSE greatest((SELECT reltuples FROM pg_class WHERE pg_class.oid = relid), 0)::bigint
       END AS estimated_rows
  FROM ops_internal.data_relations
 ORDER BY total_bytes DESC, schema_name, relation_name

-- name: compression_stats
-- Compression per hypertable: chunks compressed and bytes before and after.
-- row: CompressionStat
SELECT h.hypertable_schema::text || '.' || h.hypertable_name::text AS hypertable,
       coalesce(s.total_chunks, h.num_chunks, 0)::bigint AS total_chunks,
       coalesce(s.number_compressed_chunks, 0) AS compressed_chunks,
       s.before_compression_total_bytes AS before_bytes,
       s.after_compression_total_bytes AS after_bytes
  FROM timescaledb_information.hypertables h
  LEFT JOIN LATERAL hypertable_compression_stats(
        format('%I.%I', h.hypertable_schema, h.hypertable_name)::regclass) s ON true
 WHERE h.hypertable_schema IN ('trading', 'ops_internal')
 ORDER BY 1

-- name: pg_stat_statements_installed
-- Whether pg_stat_statements is installed in this database (and in which schema).
SELECT n.nspname::text AS schema_name
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE e.extname = 'pg_stat_statements'

-- name: top_queries
-- The statements that took the most total time, from pg_stat_statements in {schema}.
-- row: TopQuery
SELECT left(regexp_replace(s.query, '\s+', ' ', 'g'), 200) AS query,
       s.calls,
       round(s.total_exec_time::numeric, 1) AS total_ms,
       round(s.mean_exec_time::numeric, 3) AS mean_ms,
       s.rows
  FROM {schema}.pg_stat_statements s
 WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
 ORDER BY s.total_exec_time DESC
 LIMIT %(limit)s

-- name: connections_by_application
-- Sessions on this database grouped by application and state.
-- row: SessionCount
SELECT coalesce(nullif(application_name, ''), '(none)')::text AS application_name,
       coalesce(state, '(background)')::text AS state,
       count(*) AS sessions
  FROM pg_stat_activity
 WHERE datname = current_database()
 GROUP BY 1, 2
 ORDER BY 3 DESC, 1, 2

-- name: health_set_timeouts
-- This check's own statement and lock timeouts (milliseconds), for the current transaction only.
SELECT set_config('statement_timeout', %(statement_ms)s, true),
       set_config('lock_timeout', %(lock_ms)s, true)

-- name: health_blockers
-- Who blocks the sessions of this health run (its own pids, the first its main session, and the ops-db
-- sessions of its user opened since that one, by the server's clock): blocker pid, who, state, query
-- (truncated) and how long its transaction has run.
-- row: Blocker
SELECT w.pid AS waiter,
       b.pid,
       coalesce(nullif(b.application_name, ''), b.usename::text, '?') AS who,
       coalesce(b.state, '?') AS state,
       left(regexp_replace(coalesce(b.query, ''), '\s+', ' ', 'g'), 120) AS query,
       coalesce(extract(epoch FROM now() - coalesce(b.xact_start, b.query_start, b.backend_start)), 0)::float8
           AS seconds,
       coalesce(w.wait_event_type || ':' || w.wait_event, '') AS wait_event
  FROM pg_stat_activity w
 CROSS JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS bp(pid)
  JOIN pg_stat_activity b ON b.pid = bp.pid
 WHERE w.pid = ANY (%(pids)s)
    OR (w.application_name LIKE 'ops-db%%'
        AND w.backend_start >= (SELECT backend_start FROM pg_stat_activity WHERE pid = %(pids)s[1])
        AND w.usesysid = (SELECT usesysid FROM pg_stat_activity WHERE pid = pg_backend_pid()))
 ORDER BY seconds DESC

-- name: health_wait_event
-- What a session of this health run waits on right now (empty when it does not wait).
SELECT coalesce(wait_event_type || ':' || wait_event, '') AS wait_event
  FROM pg_stat_activity WHERE pid = %(pid)s

-- name: health_disabled_triggers
-- User triggers that do not fire in normal sessions (disabled, or replica only) on trading tables and
-- on the chunks of trading hypertables.
-- row: DisabledTrigger
SELECT coalesce(h.hypertable, n.nspname::text || '.' || c.relname::text) AS table_name,
       n.nspname::text || '.' || c.relname::text AS relation,
       t.tgname::text AS trigger_name,
       t.tgenabled::text AS enabled
  FROM pg_trigger t
  JOIN pg_class c ON c.oid = t.tgrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN LATERAL (
        SELECT ch.hypertable_schema::text || '.' || ch.hypertable_name::text AS hypertable
          FROM timescaledb_information.chunks ch
         WHERE ch.chunk_schema = n.nspname AND ch.chunk_name = c.relname) h ON true
 WHERE NOT t.tgisinternal
   AND t.tgenabled IN ('D', 'R')
   AND (n.nspname = 'trading' OR h.hypertable LIKE 'trading.%')
 ORDER BY 1, 3, 2

-- name: health_lock_waits
-- Sessions waiting on a heavyweight lock: how many, the longest wait (seconds) and who waits longest.
SELECT count(DISTINCT l.pid) AS waiting,
       coalesce(extract(epoch FROM now() - min(l.waitstart)), 0)::float8 AS seconds,
       (array_agg('pid ' || l.pid || ' ' || coalesce(nullif(a.application_name, ''), a.usename::text, '?')
                  || ' waits for ' || l.mode || ' on ' || coalesce(l.relation::regclass::text, l.locktype)
                  || ', blocked by ' || array_to_string(pg_blocking_pids(l.pid), ',')
                  ORDER BY l.waitstart))[1] AS who
  FROM pg_locks l
  LEFT JOIN pg_stat_activity a ON a.pid = l.pid
 WHERE NOT l.granted AND l.pid <> pg_backend_pid() AND NOT l.pid = ANY (%(own)s)

-- name: health_longest_transaction
-- The oldest open transaction of any other client session: age (seconds), pid and who. Autovacuum is left
-- out: its transactions do not hold back the xmin horizon of other vacuums, and long ones are normal.
SELECT coalesce(extract(epoch FROM now() - xact_start), 0)::float8 AS seconds,
       'pid ' || pid || ' ' || coalesce(nullif(application_name, ''), usename::text, '?') || ', ' || state
           || ': ' || left(regexp_replace(coalesce(query, ''), '\s+', ' ', 'g'), 80) AS who
  FROM pg_stat_activity
 WHERE xact_start IS NOT NULL AND pid <> pg_backend_pid() AND NOT pid = ANY (%(own)s)
   AND backend_type = 'client backend'
 ORDER BY xact_start
 LIMIT 1

-- name: health_prepared_transactions
-- Prepared (two-phase) transactions on the server: how many, the oldest's age (seconds) and its gid.
SELECT count(*) AS n,
       coalesce(extract(epoch FROM now() - min(prepared)), 0)::float8 AS seconds,
       (array_agg(gid || ' in ' || database || ' by ' || owner ORDER BY prepared))[1] AS oldest,
       current_setting('max_prepared_transactions')::int AS allowed
  FROM pg_prepared_xacts

-- name: health_replication_slots
-- Replication slots: how many, how many inactive, the most WAL one retains, how many lost it.
SELECT count(*) AS slots,
       count(*) FILTER (WHERE NOT active) AS inactive,
       coalesce(max(pg_wal_lsn_diff(
           CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() ELSE pg_current_wal_lsn() END,
           restart_lsn)), 0)::float8 AS retained_bytes,
       count(*) FILTER (WHERE wal_status = 'lost') AS lost,
       string_agg(slot_name::text, ', ' ORDER BY slot_name) FILTER (WHERE NOT active) AS inactive_names
  FROM pg_replication_slots

-- name: health_wal_archiver
-- The WAL archiver: archive_mode, failures, the last failure and success, and whether it fails now.
SELECT current_setting('archive_mode') AS mode,
       failed_count,
       last_failed_time,
       last_failed_wal,
       last_archived_time,
       (last_failed_time IS NOT NULL
        AND (last_archived_time IS NULL OR last_failed_time > last_archived_time)) AS failing
  FROM pg_stat_archiver

-- name: health_sequence_usage
-- Every sequence of trading/ops_internal (identity and serial columns included) with the share of its
-- range used, most used first; a sequence owned by a smaller integer column counts up to that type's max.
SELECT s.schemaname::text || '.' || s.sequencename::text AS sequence_name,
       (100.0 * CASE WHEN s.increment_by > 0
                     THEN (coalesce(s.last_value, s.start_value - s.increment_by)::numeric - s.min_value + 1)
                          / (least(s.max_value, coalesce(col.type_max, s.max_value))::numeric - s.min_value + 1)
                     ELSE (s.max_value::numeric - coalesce(s.last_value, s.start_value - s.increment_by) + 1)
                          / (s.max_value::numeric - greatest(s.min_value, coalesce(-col.type_max - 1, s.min_value)) + 1)
                END)::float8 AS used_percent
  FROM pg_sequences s
  LEFT JOIN LATERAL (
        SELECT CASE a.atttypid WHEN 'int2'::regtype THEN 32767 WHEN 'int4'::regtype THEN 2147483647 END AS type_max
          FROM pg_depend d
          JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
         WHERE d.classid = 'pg_class'::regclass AND d.objid = format('%I.%I', s.schemaname, s.sequencename)::regclass
           AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
         LIMIT 1) col ON true
 WHERE s.schemaname IN ('trading', 'ops_internal')
 ORDER BY used_percent DESC, 1

-- name: health_invalid_indexes
-- Indexes left invalid (a failed CREATE INDEX CONCURRENTLY or REINDEX CONCURRENTLY), outside system schemas.
SELECT i.indexrelid::regclass::text AS index_name, i.indrelid::regclass::text AS table_name
  FROM pg_index i
  JOIN pg_class c ON c.oid = i.indexrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE NOT i.indisvalid
   AND n.nspname NOT IN ('pg_catalog', 'pg_toast', 'information_schema')
 ORDER BY 1
