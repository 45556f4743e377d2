-- name: refresh_rollup_tables
-- apache edition: re-aggregate the buckets touched since the last refresh (nothing on timescale).
SELECT target, range_lo, range_hi, buckets, done FROM ops_internal.refresh_rollup_tables(%(dry_run)s)

-- name: apply_retention
-- Drop expired chunks (apache) or sync retention and refresh policies with ops_internal.retention (timescale).
SELECT kind, target, detail, done FROM ops_internal.apply_retention(%(dry_run)s)

-- name: rollup_status
-- Every rollup, its kind, and how far it is refreshed.
SELECT name, kind, refreshed_through, lag FROM ops_internal.rollup_status()

-- name: refresh_continuous_aggregate
-- timescale edition: materialize one continuous aggregate over a window (autocommit only).
CALL refresh_continuous_aggregate(%(name)s::regclass, %(start)s::timestamptz, %(end)s::timestamptz)
