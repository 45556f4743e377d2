-- Risk and monitoring: strategy performance, performance metrics (hypertable, 1-week chunks,
-- kept 2 years), reconciliation log, daily stats, alerts, agent decisions, system health and
-- data quality (hypertables).
-- depends: 0201_fills_and_positions
SET ROLE ops_owner;

CREATE TABLE trading.strategy_performance (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    strategy_id bigint NOT NULL REFERENCES trading.strategies (id),
    period_start timestamptz NOT NULL,
    period_end timestamptz NOT NULL,
    total_return numeric,
    pnl numeric,
    sharpe_ratio numeric,
    max_drawdown numeric,
    win_rate numeric,
    trades integer NOT NULL DEFAULT 0,
    risk_metrics jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT strategy_performance_period_key UNIQUE (strategy_id, period_start, period_end),
    CONSTRAINT strategy_performance_period_valid CHECK (period_end > period_start),
    CONSTRAINT strategy_performance_win_rate_valid CHECK (win_rate IS NULL OR (win_rate >= 0 AND win_rate <= 1)),
    CONSTRAINT strategy_performance_trades_valid CHECK (trades >= 0),
    CONSTRAINT strategy_performance_risk_metrics_object CHECK (jsonb_typeof(risk_metrics) = 'object')
);

CREATE TABLE trading.performance_metrics (
    recorded_at timestamptz NOT NULL,
    strategy_id bigint,
    metric text NOT NULL,
    value numeric NOT NULL,
    labels jsonb NOT NULL DEFAULT '{}',
    CONSTRAINT performance_metrics_metric_valid CHECK (metric ~ '^[a-z][a-z0-9_.]{0,63}$'),
    CONSTRAINT performance_metrics_value_finite CHECK (value >= -1e18 AND value <= 1e18),
    CONSTRAINT performance_metrics_labels_object CHECK (jsonb_typeof(labels) = 'object')
);
SELECT create_hypertable('trading.performance_metrics', by_range('recorded_at', interval '7 days'));
CREATE INDEX performance_metrics_metric_idx ON trading.performance_metrics (metric, strategy_id, recorded_at DESC);
INSERT INTO ops_internal.retention (hypertable, drop_after, note)
VALUES ('trading.performance_metrics', interval '2 years', 'seed 002: performance metrics 2 years');

CREATE TABLE trading.reconciliation_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    symbol text NOT NULL,
    issue_type text NOT NULL,
    our_quantity numeric,
    broker_quantity numeric,
    our_price numeric,
    broker_price numeric,
    order_id bigint REFERENCES trading.staged_orders (id),
    details jsonb NOT NULL DEFAULT '{}',
    detected_at timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz,
    resolved_by text,
    resolution text,
    CONSTRAINT reconciliation_log_symbol_valid CHECK (symbol ~ '^[A-Z0-9][A-Z0-9./ -]{0,31}$'),
    CONSTRAINT reconciliation_log_issue_type_valid CHECK (issue_type IN (
        'quantity_mismatch', 'price_mismatch', 'missing_at_broker', 'unknown_at_broker', 'order_status_mismatch',
        'other')),
    CONSTRAINT reconciliation_log_resolution_complete CHECK (
        (resolved_at IS NULL AND resolved_by IS NULL AND resolution IS NULL)
        OR (resolved_at IS NOT NULL AND resolved_by IS NOT NULL AND length(btrim(resolution)) BETWEEN 1 AND 2000)),
    CONSTRAINT reconciliation_log_numbers_valid CHECK (
        (our_quantity IS NULL OR (our_quantity >= -1e9 AND our_quantity <= 1e9))
        AND (broker_quantity IS NULL OR (broker_quantity >= -1e9 AND broker_quantity <= 1e9))
        AND (our_price IS NULL OR (our_price >= 0 AND our_price <= 1e9))
        AND (broker_price IS NULL OR (broker_price >= 0 AND broker_price <= 1e9))),
    CONSTRAINT reconciliation_log_details_object CHECK (jsonb_typeof(details) = 'object')
);
CREATE INDEX reconciliation_log_unresolved_idx ON trading.reconciliation_log (detected_at) WHERE resolved_at IS NULL;

CREATE TABLE trading.daily_stats (
    trading_date date PRIMARY KEY,
    orders_placed integer NOT NULL DEFAULT 0,
    orders_filled integer NOT NULL DEFAULT 0,
    orders_rejected integer NOT NULL DEFAULT 0,
    orders_cancelled integer NOT NULL DEFAULT 0,
    trades_executed integer NOT NULL DEFAULT 0,
    traded_value numeric NOT NULL DEFAULT 0,
    realized_pnl numeric NOT NULL DEFAULT 0,
    costs numeric NOT NULL DEFAULT 0,
    net_pnl numeric NOT NULL DEFAULT 0,
    order_to_trade_ratio numeric,
    kill_switch_triggered boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE trading.alerts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_type text NOT NULL,
    severity text NOT NULL,
    message text NOT NULL,
    source text,
    symbol text,
    details jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz,
    resolved_by text,
    resolution text,
    CONSTRAINT alerts_alert_type_valid CHECK (alert_type ~ '^[a-z][a-z0-9_]{0,63}$'),
    CONSTRAINT alerts_severity_valid CHECK (severity IN ('INFO', 'WARNING', 'CRITICAL', 'EMERGENCY')),
    CONSTRAINT alerts_message_valid CHECK (length(btrim(message)) BETWEEN 1 AND 4000),
    CONSTRAINT alerts_source_valid CHECK (source IS NULL OR source ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    CONSTRAINT alerts_resolution_complete CHECK (
        (resolved_at IS NULL AND resolved_by IS NULL AND resolution IS NULL)
        OR (resolved_at IS NOT NULL AND resolved_by IS NOT NULL AND length(btrim(resolution)) BETWEEN 1 AND 2000)),
    CONSTRAINT alerts_details_object CHECK (jsonb_typeof(details) = 'object')
);
CREATE INDEX alerts_unresolved_idx ON trading.alerts (created_at DESC) WHERE resolved_at IS NULL;

CREATE TABLE trading.agent_decisions (
    decided_at timestamptz NOT NULL DEFAULT now(),
    id bigint GENERATED ALWAYS AS IDENTITY,
    agent text NOT NULL,
    action text NOT NULL,
    symbol text,
    order_id bigint,   -- trading.staged_orders(id), kept without a foreign key like any hypertable row
    signal_id bigint,
    confidence numeric,
    reasoning text,
    inputs jsonb NOT NULL DEFAULT '{}',
    outcome jsonb NOT NULL DEFAULT '{}',
    CONSTRAINT agent_decisions_pkey PRIMARY KEY (id, decided_at),
    CONSTRAINT agent_decisions_agent_valid CHECK (agent ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    CONSTRAINT agent_decisions_action_valid CHECK (action ~ '^[a-z][a-z0-9_]{0,63}$'),
    CONSTRAINT agent_decisions_confidence_valid CHECK (confidence IS NULL OR (confidence >= 0 AND confidence <= 1)),
    CONSTRAINT agent_decisions_json_objects CHECK (jsonb_typeof(inputs) = 'object' AND jsonb_typeof(outcome) = 'object')
);
SELECT create_hypertable('trading.agent_decisions', by_range('decided_at', interval '7 days'));
CREATE INDEX agent_decisions_agent_idx ON trading.agent_decisions (agent, decided_at DESC);

CREATE TABLE trading.system_health (
    checked_at timestamptz NOT NULL DEFAULT now(),
    component text NOT NULL,
    status text NOT NULL,
    health_score numeric,
    metrics jsonb NOT NULL DEFAULT '{}',
    details jsonb NOT NULL DEFAULT '{}',
    CONSTRAINT system_health_component_valid CHECK (component ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    CONSTRAINT system_health_status_valid CHECK (status IN ('healthy', 'degraded', 'down', 'unknown')),
    CONSTRAINT system_health_score_valid CHECK (health_score IS NULL OR (health_score >= 0 AND health_score <= 100)),
    CONSTRAINT system_health_json_objects CHECK (jsonb_typeof(metrics) = 'object' AND jsonb_typeof(details) = 'object')
);
SELECT create_hypertable('trading.system_health', by_range('checked_at', interval '1 day'));
CREATE INDEX system_health_component_idx ON trading.system_health (component, checked_at DESC);
INSERT INTO ops_internal.retention (hypertable, drop_after, note)
VALUES ('trading.system_health', interval '90 days', 'monitoring samples; not set by the seeds');

CREATE TABLE trading.data_quality (
    checked_at timestamptz NOT NULL DEFAULT now(),
    source text NOT NULL,
    check_name text NOT NULL,
    symbol text,
    passed boolean NOT NULL,
    score numeric,
    details jsonb NOT NULL DEFAULT '{}',
    CONSTRAINT data_quality_source_valid CHECK (source ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    CONSTRAINT data_quality_check_name_valid CHECK (check_name ~ '^[a-z][a-z0-9_]{0,63}$'),
    CONSTRAINT data_quality_score_valid CHECK (score IS NULL OR (score >= 0 AND score <= 100)),
    CONSTRAINT data_quality_details_object CHECK (jsonb_typeof(details) = 'object')
);
SELECT create_hypertable('trading.data_quality', by_range('checked_at', interval '1 day'));
CREATE INDEX data_quality_check_idx ON trading.data_quality (source, check_name, checked_at DESC);
INSERT INTO ops_internal.retention (hypertable, drop_after, note)
VALUES ('trading.data_quality', interval '90 days', 'data quality checks; not set by the seeds');

-- Decisions are a record of what the agents did: added, never edited.
REVOKE UPDATE, DELETE, TRUNCATE ON trading.agent_decisions FROM ops_app;

RESET ROLE;
