-- name: refresh_rollup_tables
-- apache edition: re-aggregate the buckets touched since the last refresh (nothing on timescale).
-- row: _Refreshed
SELECT target, range_lo, range_hi, buckets, done FROM ops_internal.refresh_rollup_tables(%(dry_run)s)

-- name: apply_retention
-- Drop expired chunks (apache) or sync retention and refresh policies with ops_internal.retention (timescale).
-- row: MaintenanceAction
SELECT kind, target, detail, done FROM ops_internal.apply_retention(%(dry_run)s)

-- name: rollup_status
-- Every rollup, its kind, and how far it is refreshed.
-- row: RollupStatus
SELECT name, kind, refreshed_through, lag FROM ops_internal.rollup_status()

-- name: refresh_continuous_aggregate
-- timescale edition: materialize one continuous aggregate over a window (autocommit only).
CALL refresh_continuous_aggregate(%(name)s::regclass, %(start)s::timestamptz, %(end)s::timestamptz)

-- name: refresh_continuous_aggregate_one_pass
-- refresh_continuous_aggregate in one pass over the window: since 2.28 TimescaleDB splits a manual
-- refresh into committed batches of 10 buckets each (a year of 1-minute buckets: 3 min 49 s, not 1.0 s).
-- Releases from 2.21 to 2.27 take the options argument and ignore this key.
CALL refresh_continuous_aggregate(%(name)s::regclass, %(start)s::timestamptz, %(end)s::timestamptz,
                                  options => '{"buckets_per_batch": 0}'::jsonb)

-- name: refresh_takes_options
-- Whether refresh_continuous_aggregate has its options argument (TimescaleDB 2.21 and later).
SELECT EXISTS (SELECT 1 FROM pg_proc p JOIN pg_extension e ON e.extnamespace = p.pronamespace
                WHERE e.extname = 'timescaledb' AND p.proname = 'refresh_continuous_aggregate'
                  AND 'options' = ANY (p.proargnames))

-- name: maintain_lock_holders
-- Who holds ops-db maintain's advisory lock (a bigint key: classid high, objid low half), and
-- whether each may maintain (a member of ops_owner). Any role may take any advisory lock, so a
-- holder that may not maintain is no maintain run: it must not stop one.
SELECT a.pid, a.usename::text AS role_name, pg_has_role(a.usesysid, 'ops_owner', 'MEMBER') AS maintainer
  FROM pg_locks l
  JOIN pg_stat_activity a ON a.pid = l.pid
 WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND ((l.classid::bigint << 32) | l.objid::bigint) = %(key)s
 ORDER BY a.pid
