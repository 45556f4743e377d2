-- Undo 0202_risk_and_monitoring.
SET ROLE ops_owner;
DELETE FROM ops_internal.retention
 WHERE hypertable IN ('trading.performance_metrics', 'trading.system_health', 'trading.data_quality');
DROP TABLE trading.data_quality;
DROP TABLE trading.system_health;
DROP TABLE trading.agent_decisions;
DROP TABLE trading.alerts;
DROP TABLE trading.daily_stats;
DROP TABLE trading.reconciliation_log;
DROP TABLE trading.performance_metrics;
DROP TABLE trading.strategy_performance;
RESET ROLE;
