-- Queries of system health, data quality, agent decisions and performance metrics (ops_db.monitoring).

-- name: record_system_health
-- One health sample of a component.
-- row: HealthSample
INSERT INTO trading.system_health (checked_at, component, status, health_score, metrics, details)
VALUES (coalesce(%(at)s, now()), %(component)s, %(status)s, %(health_score)s, %(metrics)s, %(details)s)
RETURNING checked_at, component, status, health_score, metrics, details

-- name: latest_system_health
-- The newest sample of every component seen in the last day.
-- row: HealthSample
SELECT DISTINCT ON (component) checked_at, component, status, health_score, metrics, details
  FROM trading.system_health
 WHERE checked_at >= now() - interval '1 day'
 ORDER BY component, checked_at DESC

-- name: record_data_quality
-- One data quality check result.
-- row: DataQualityCheck
INSERT INTO trading.data_quality (checked_at, source, check_name, symbol, passed, score, details)
VALUES (coalesce(%(at)s, now()), %(source)s, %(check_name)s, %(symbol)s, %(passed)s, %(score)s, %(details)s)
RETURNING checked_at, source, check_name, symbol, passed, score, details

-- name: record_agent_decision
-- What an agent decided, on what, and why.
-- row: AgentDecision
INSERT INTO trading.agent_decisions (decided_at, agent, action, symbol, order_id, signal_id, confidence, reasoning,
                                     inputs, outcome)
VALUES (coalesce(%(at)s, now()), %(agent)s, %(action)s, %(symbol)s, %(order_id)s, %(signal_id)s, %(confidence)s,
        %(reasoning)s, %(inputs)s, %(outcome)s)
RETURNING decided_at, id, agent, action, symbol, order_id, signal_id, confidence, reasoning, inputs, outcome

-- name: record_performance_metric
-- One value of a performance metric.
-- row: PerformanceMetric
INSERT INTO trading.performance_metrics (recorded_at, strategy_id, metric, value, labels)
VALUES (coalesce(%(at)s, now()), %(strategy_id)s, %(metric)s, %(value)s, %(labels)s)
RETURNING recorded_at, strategy_id, metric, value, labels
