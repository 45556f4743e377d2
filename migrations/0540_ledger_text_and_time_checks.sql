-- Database checks on every text column and every timestamp of the ledger and monitoring tables
-- (migrations 0200, 0201, 0202, 0300, and ops_internal.retention), so that no client, the app's
-- role in psql included, can store an empty, oversized or malformed value, or a time that is
-- not plausible. Constraint names follow <table>_<column>_valid; ops_db/validate.py maps each
-- to a message naming the field.
--
-- Time bounds: a floor of 2000-01-01 and a tolerance into the future per column (facts such as
-- a fill or a health check: 5 minutes of clock skew; an order's expiry or a period's end: up to
-- a year). The checks call now(): a row valid when written stays valid, since now() only grows,
-- so re-checking an old row (an UPDATE, a restore) never fails because time has passed.
-- depends: 0300_maintenance_runs
-- squawk-ignore-file constraint-missing-not-valid -- ledger and monitoring tables are small (orders, fills and alerts of the desk); NOT VALID then VALIDATE in the one transaction would hold the same lock as long, and the runner's lock_timeout bounds the wait
SET ROLE ops_owner;

-- An array of identifiers: at most max_count elements, each matching pattern (a NULL element
-- never does). IMMUTABLE: it reads nothing but its arguments.
CREATE FUNCTION ops_internal.text_array_valid(arr text[], pattern text, max_count integer) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$
        SELECT cardinality(arr) <= max_count
           AND NOT EXISTS (SELECT 1 FROM unnest(arr) AS element WHERE element IS NULL OR element !~ pattern)
    $$;
COMMENT ON FUNCTION ops_internal.text_array_valid(text[], text, integer) IS
    'True when arr has at most max_count elements and each matches pattern; used by CHECK constraints.';

-- trading.strategies
ALTER TABLE trading.strategies
    ADD CONSTRAINT strategies_description_valid
        CHECK (description IS NULL OR length(description) BETWEEN 1 AND 2000),
    ADD CONSTRAINT strategies_created_at_valid
        CHECK (created_at >= '2000-01-01 00:00:00+00' AND created_at <= now() + interval '5 minutes'),
    ADD CONSTRAINT strategies_updated_at_valid
        CHECK (updated_at >= '2000-01-01 00:00:00+00' AND updated_at <= now() + interval '5 minutes');

-- trading.kill_switch_events (reason and actor are checked since 0200)
ALTER TABLE trading.kill_switch_events
    ADD CONSTRAINT kill_switch_events_created_at_valid
        CHECK (created_at >= '2000-01-01 00:00:00+00' AND created_at <= now() + interval '5 minutes');

-- trading.staged_orders
ALTER TABLE trading.staged_orders
    ADD CONSTRAINT staged_orders_tags_elements_valid
        CHECK (ops_internal.text_array_valid(tags, '^[A-Za-z0-9][A-Za-z0-9._:/-]{0,31}$', 32)),
    ADD CONSTRAINT staged_orders_approval_reasons_valid
        CHECK (ops_internal.text_array_valid(approval_reasons, '^[[:print:]]{1,200}$', 16)),
    ADD CONSTRAINT staged_orders_created_at_valid
        CHECK (created_at >= '2000-01-01 00:00:00+00' AND created_at <= now() + interval '5 minutes'),
    ADD CONSTRAINT staged_orders_updated_at_valid
        CHECK (updated_at >= '2000-01-01 00:00:00+00' AND updated_at <= now() + interval '5 minutes'),
    ADD CONSTRAINT staged_orders_expires_at_valid
        CHECK (expires_at IS NULL OR (expires_at >= '2000-01-01 00:00:00+00' AND expires_at <= now() + interval '1 year')),
    ADD CONSTRAINT staged_orders_approved_at_valid
        CHECK (approved_at IS NULL OR (approved_at >= '2000-01-01 00:00:00+00' AND approved_at <= now() + interval '5 minutes')),
    ADD CONSTRAINT staged_orders_submitted_at_valid
        CHECK (submitted_at IS NULL OR (submitted_at >= '2000-01-01 00:00:00+00' AND submitted_at <= now() + interval '5 minutes')),
    ADD CONSTRAINT staged_orders_executed_at_valid
        CHECK (executed_at IS NULL OR (executed_at >= '2000-01-01 00:00:00+00' AND executed_at <= now() + interval '5 minutes')),
    ADD CONSTRAINT staged_orders_closed_at_valid
        CHECK (closed_at IS NULL OR (closed_at >= '2000-01-01 00:00:00+00' AND closed_at <= now() + interval '5 minutes'));

-- trading.order_events (written by the audit trigger; checked all the same)
ALTER TABLE trading.order_events
    ADD CONSTRAINT order_events_actor_valid CHECK (actor ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$'),
    ADD CONSTRAINT order_events_from_status_valid CHECK (from_status IS NULL OR from_status IN (
        'staged', 'pending_approval', 'approved', 'submitted', 'partially_filled',
        'filled', 'cancelled', 'rejected', 'expired')),
    ADD CONSTRAINT order_events_to_status_valid CHECK (to_status IN (
        'staged', 'pending_approval', 'approved', 'submitted', 'partially_filled',
        'filled', 'cancelled', 'rejected', 'expired')),
    ADD CONSTRAINT order_events_occurred_at_valid
        CHECK (occurred_at >= '2000-01-01 00:00:00+00' AND occurred_at <= now() + interval '5 minutes');

-- trading.positions
ALTER TABLE trading.positions
    ADD CONSTRAINT positions_close_reason_valid
        CHECK (close_reason IS NULL OR length(btrim(close_reason)) BETWEEN 1 AND 2000),
    ADD CONSTRAINT positions_opened_at_valid
        CHECK (opened_at >= '2000-01-01 00:00:00+00' AND opened_at <= now() + interval '5 minutes'),
    ADD CONSTRAINT positions_closed_at_valid
        CHECK (closed_at IS NULL OR (closed_at >= '2000-01-01 00:00:00+00' AND closed_at <= now() + interval '5 minutes')),
    ADD CONSTRAINT positions_last_marked_at_valid
        CHECK (last_marked_at IS NULL
               OR (last_marked_at >= '2000-01-01 00:00:00+00' AND last_marked_at <= now() + interval '5 minutes')),
    ADD CONSTRAINT positions_updated_at_valid
        CHECK (updated_at >= '2000-01-01 00:00:00+00' AND updated_at <= now() + interval '5 minutes');

-- trading.executions (symbol and side are copied from the order by the fill trigger)
ALTER TABLE trading.executions
    ADD CONSTRAINT executions_symbol_valid CHECK (symbol ~ '^[A-Z0-9][A-Z0-9./ -]{0,31}$'),
    ADD CONSTRAINT executions_side_valid CHECK (side IN ('buy', 'sell')),
    ADD CONSTRAINT executions_executed_at_valid
        CHECK (executed_at >= '2000-01-01 00:00:00+00' AND executed_at <= now() + interval '5 minutes'),
    ADD CONSTRAINT executions_created_at_valid
        CHECK (created_at >= '2000-01-01 00:00:00+00' AND created_at <= now() + interval '5 minutes');

-- trading.portfolio_snapshots
ALTER TABLE trading.portfolio_snapshots
    ADD CONSTRAINT portfolio_snapshots_snapshot_at_valid
        CHECK (snapshot_at >= '2000-01-01 00:00:00+00' AND snapshot_at <= now() + interval '5 minutes');

-- trading.strategy_performance: a period may end up to a year ahead (a month or year to date)
ALTER TABLE trading.strategy_performance
    ADD CONSTRAINT strategy_performance_period_start_valid
        CHECK (period_start >= '2000-01-01 00:00:00+00' AND period_start <= now() + interval '1 day'),
    ADD CONSTRAINT strategy_performance_period_end_valid
        CHECK (period_end >= '2000-01-01 00:00:00+00' AND period_end <= now() + interval '1 year'),
    ADD CONSTRAINT strategy_performance_created_at_valid
        CHECK (created_at >= '2000-01-01 00:00:00+00' AND created_at <= now() + interval '5 minutes');

-- trading.performance_metrics
ALTER TABLE trading.performance_metrics
    ADD CONSTRAINT performance_metrics_recorded_at_valid
        CHECK (recorded_at >= '2000-01-01 00:00:00+00' AND recorded_at <= now() + interval '5 minutes');

-- trading.reconciliation_log
ALTER TABLE trading.reconciliation_log
    ADD CONSTRAINT reconciliation_log_resolved_by_valid
        CHECK (resolved_by IS NULL OR resolved_by ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$'),
    ADD CONSTRAINT reconciliation_log_resolution_valid
        CHECK (resolution IS NULL OR length(btrim(resolution)) BETWEEN 1 AND 4000),
    ADD CONSTRAINT reconciliation_log_detected_at_valid
        CHECK (detected_at >= '2000-01-01 00:00:00+00' AND detected_at <= now() + interval '5 minutes'),
    ADD CONSTRAINT reconciliation_log_resolved_at_valid
        CHECK (resolved_at IS NULL OR (resolved_at >= '2000-01-01 00:00:00+00' AND resolved_at <= now() + interval '5 minutes'));

-- trading.daily_stats
ALTER TABLE trading.daily_stats
    ADD CONSTRAINT daily_stats_trading_date_valid
        CHECK (trading_date >= DATE '2000-01-01' AND trading_date <= (now() + interval '1 day')::date),
    ADD CONSTRAINT daily_stats_updated_at_valid
        CHECK (updated_at >= '2000-01-01 00:00:00+00' AND updated_at <= now() + interval '5 minutes');

-- trading.alerts
ALTER TABLE trading.alerts
    ADD CONSTRAINT alerts_symbol_valid CHECK (symbol IS NULL OR symbol ~ '^[A-Z0-9][A-Z0-9./ -]{0,31}$'),
    ADD CONSTRAINT alerts_resolved_by_valid
        CHECK (resolved_by IS NULL OR resolved_by ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$'),
    ADD CONSTRAINT alerts_resolution_valid
        CHECK (resolution IS NULL OR length(btrim(resolution)) BETWEEN 1 AND 4000),
    ADD CONSTRAINT alerts_created_at_valid
        CHECK (created_at >= '2000-01-01 00:00:00+00' AND created_at <= now() + interval '5 minutes'),
    ADD CONSTRAINT alerts_resolved_at_valid
        CHECK (resolved_at IS NULL OR (resolved_at >= '2000-01-01 00:00:00+00' AND resolved_at <= now() + interval '5 minutes'));

-- trading.agent_decisions
ALTER TABLE trading.agent_decisions
    ADD CONSTRAINT agent_decisions_symbol_valid CHECK (symbol IS NULL OR symbol ~ '^[A-Z0-9][A-Z0-9./ -]{0,31}$'),
    ADD CONSTRAINT agent_decisions_reasoning_valid
        CHECK (reasoning IS NULL OR length(btrim(reasoning)) BETWEEN 1 AND 10000),
    ADD CONSTRAINT agent_decisions_decided_at_valid
        CHECK (decided_at >= '2000-01-01 00:00:00+00' AND decided_at <= now() + interval '5 minutes');

-- trading.system_health
ALTER TABLE trading.system_health
    ADD CONSTRAINT system_health_checked_at_valid
        CHECK (checked_at >= '2000-01-01 00:00:00+00' AND checked_at <= now() + interval '5 minutes');

-- trading.data_quality
ALTER TABLE trading.data_quality
    ADD CONSTRAINT data_quality_symbol_valid CHECK (symbol IS NULL OR symbol ~ '^[A-Z0-9][A-Z0-9./ -]{0,31}$'),
    ADD CONSTRAINT data_quality_checked_at_valid
        CHECK (checked_at >= '2000-01-01 00:00:00+00' AND checked_at <= now() + interval '5 minutes');

-- ops_internal.maintenance_runs (written by ops-db maintain)
ALTER TABLE ops_internal.maintenance_runs
    ADD CONSTRAINT maintenance_runs_error_valid CHECK (error IS NULL OR length(error) BETWEEN 1 AND 20000),
    ADD CONSTRAINT maintenance_runs_started_at_valid
        CHECK (started_at >= '2000-01-01 00:00:00+00' AND started_at <= now() + interval '5 minutes'),
    ADD CONSTRAINT maintenance_runs_finished_at_valid
        CHECK (finished_at IS NULL OR (finished_at >= '2000-01-01 00:00:00+00' AND finished_at <= now() + interval '5 minutes'));

-- ops_internal.retention (edited by operators with an UPDATE)
ALTER TABLE ops_internal.retention
    ADD CONSTRAINT retention_hypertable_valid CHECK (hypertable ~ '^[a-z_][a-z0-9_]{0,62}\.[a-z_][a-z0-9_]{0,62}$'),
    ADD CONSTRAINT retention_note_valid CHECK (note IS NULL OR length(btrim(note)) BETWEEN 1 AND 2000),
    ADD CONSTRAINT retention_updated_at_valid
        CHECK (updated_at >= '2000-01-01 00:00:00+00' AND updated_at <= now() + interval '5 minutes');

RESET ROLE;
