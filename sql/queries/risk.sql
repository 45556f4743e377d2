-- Queries of strategies, alerts, reconciliation, daily statistics and the kill switch (ops_db.ledger.strategies, .alerts, .positions, .kill_switch).

-- name: create_strategy
-- A new strategy with its order limits.
-- row: Strategy
INSERT INTO trading.strategies (name, strategy_type, mode, active, requires_approval, max_order_quantity,
                                max_order_value, description, params)
VALUES (%(name)s, %(strategy_type)s, %(mode)s, %(active)s, %(requires_approval)s, %(max_order_quantity)s,
        %(max_order_value)s, %(description)s, %(params)s)
RETURNING id, name, strategy_type, mode, active, requires_approval, max_order_quantity, max_order_value,
          description, params, created_at, updated_at

-- name: strategy_by_id
-- One strategy.
-- row: Strategy
SELECT id, name, strategy_type, mode, active, requires_approval, max_order_quantity, max_order_value,
       description, params, created_at, updated_at
  FROM trading.strategies WHERE id = %(strategy_id)s

-- name: strategy_by_name
-- One strategy by its unique name.
-- row: Strategy
SELECT id, name, strategy_type, mode, active, requires_approval, max_order_quantity, max_order_value,
       description, params, created_at, updated_at
  FROM trading.strategies WHERE name = %(name)s

-- name: list_strategies
-- Strategies by name, optionally only the active ones.
-- row: Strategy
SELECT id, name, strategy_type, mode, active, requires_approval, max_order_quantity, max_order_value,
       description, params, created_at, updated_at
  FROM trading.strategies WHERE active OR NOT %(active_only)s ORDER BY name

-- name: set_strategy_active
-- Switch a strategy on or off (an inactive strategy cannot stage orders).
-- row: Strategy
UPDATE trading.strategies SET active = %(active)s, updated_at = now() WHERE id = %(strategy_id)s
RETURNING id, name, strategy_type, mode, active, requires_approval, max_order_quantity, max_order_value,
          description, params, created_at, updated_at

-- name: raise_alert
-- A new alert.
-- row: Alert
INSERT INTO trading.alerts (alert_type, severity, message, source, symbol, details)
VALUES (%(alert_type)s, %(severity)s, %(message)s, %(source)s, %(symbol)s, %(details)s)
RETURNING id, alert_type, severity, message, source, symbol, details, created_at, resolved_at, resolved_by,
          resolution

-- name: resolve_alert
-- Resolve an unresolved alert; returns nothing when it is unknown or already resolved.
-- row: Alert
UPDATE trading.alerts
   SET resolved_at = now(), resolved_by = %(resolved_by)s, resolution = %(resolution)s
 WHERE id = %(alert_id)s AND resolved_at IS NULL
RETURNING id, alert_type, severity, message, source, symbol, details, created_at, resolved_at, resolved_by,
          resolution

-- name: alert_by_id
-- One alert.
-- row: Alert
SELECT id, alert_type, severity, message, source, symbol, details, created_at, resolved_at, resolved_by,
       resolution
  FROM trading.alerts WHERE id = %(alert_id)s

-- name: unresolved_alerts
-- Unresolved alerts, most severe and newest first.
-- row: Alert
SELECT id, alert_type, severity, message, source, symbol, details, created_at, resolved_at, resolved_by,
       resolution
  FROM trading.alerts
 WHERE resolved_at IS NULL
 ORDER BY array_position(ARRAY['EMERGENCY', 'CRITICAL', 'WARNING', 'INFO'], severity), created_at DESC, id DESC

-- name: log_reconciliation_issue
-- Record a difference between our books and the broker's.
-- row: ReconciliationIssue
INSERT INTO trading.reconciliation_log (symbol, issue_type, our_quantity, broker_quantity, our_price, broker_price,
                                       order_id, details)
VALUES (%(symbol)s, %(issue_type)s, %(our_quantity)s, %(broker_quantity)s, %(our_price)s, %(broker_price)s,
        %(order_id)s, %(details)s)
RETURNING id, symbol, issue_type, our_quantity, broker_quantity, our_price, broker_price, order_id, details,
          detected_at, resolved_at, resolved_by, resolution

-- name: resolve_reconciliation_issue
-- Resolve an open reconciliation issue; returns nothing when unknown or already resolved.
-- row: ReconciliationIssue
UPDATE trading.reconciliation_log
   SET resolved_at = now(), resolved_by = %(resolved_by)s, resolution = %(resolution)s
 WHERE id = %(issue_id)s AND resolved_at IS NULL
RETURNING id, symbol, issue_type, our_quantity, broker_quantity, our_price, broker_price, order_id, details,
          detected_at, resolved_at, resolved_by, resolution

-- name: reconciliation_issue_by_id
-- One reconciliation issue.
-- row: ReconciliationIssue
SELECT id, symbol, issue_type, our_quantity, broker_quantity, our_price, broker_price, order_id, details,
       detected_at, resolved_at, resolved_by, resolution
  FROM trading.reconciliation_log WHERE id = %(issue_id)s

-- name: unresolved_reconciliation_issues
-- Open issues, oldest first.
-- row: ReconciliationIssue
SELECT id, symbol, issue_type, our_quantity, broker_quantity, our_price, broker_price, order_id, details,
       detected_at, resolved_at, resolved_by, resolution
  FROM trading.reconciliation_log WHERE resolved_at IS NULL ORDER BY detected_at, id

-- name: refresh_daily_stats
-- Recompute one day's statistics from orders and fills (the day in the session's time zone).
-- row: DailyStats
INSERT INTO trading.daily_stats AS d (
    trading_date, orders_placed, orders_filled, orders_rejected, orders_cancelled, trades_executed,
    traded_value, realized_pnl, costs, net_pnl, order_to_trade_ratio, kill_switch_triggered, updated_at)
SELECT day.d, o.placed, o.filled, o.rejected, o.cancelled, e.n, e.value, e.realized, e.costs,
       e.realized - e.costs, round(o.placed::numeric / nullif(e.n, 0), 2), k.triggered, now()
  FROM (SELECT %(day)s::date AS d) day,
       LATERAL (SELECT count(*)::integer AS placed,
                       count(*) FILTER (WHERE status = 'filled')::integer AS filled,
                       count(*) FILTER (WHERE status = 'rejected')::integer AS rejected,
                       count(*) FILTER (WHERE status = 'cancelled')::integer AS cancelled
                  FROM trading.staged_orders
                 WHERE created_at >= day.d::timestamptz AND created_at < (day.d + 1)::timestamptz) o,
       LATERAL (SELECT count(*)::integer AS n,
                       coalesce(sum(quantity * price), 0) AS value,
                       coalesce(sum(realized_pnl), 0) AS realized,
                       coalesce(sum(commission + fees), 0) AS costs
                  FROM trading.executions
                 WHERE executed_at >= day.d::timestamptz AND executed_at < (day.d + 1)::timestamptz) e,
       LATERAL (SELECT EXISTS (SELECT FROM trading.kill_switch_events
                                WHERE active AND created_at >= day.d::timestamptz
                                  AND created_at < (day.d + 1)::timestamptz) AS triggered) k
ON CONFLICT (trading_date) DO UPDATE
   SET orders_placed = EXCLUDED.orders_placed, orders_filled = EXCLUDED.orders_filled,
       orders_rejected = EXCLUDED.orders_rejected, orders_cancelled = EXCLUDED.orders_cancelled,
       trades_executed = EXCLUDED.trades_executed, traded_value = EXCLUDED.traded_value,
       realized_pnl = EXCLUDED.realized_pnl, costs = EXCLUDED.costs, net_pnl = EXCLUDED.net_pnl,
       order_to_trade_ratio = EXCLUDED.order_to_trade_ratio,
       kill_switch_triggered = EXCLUDED.kill_switch_triggered, updated_at = EXCLUDED.updated_at
RETURNING trading_date, orders_placed, orders_filled, orders_rejected, orders_cancelled, trades_executed,
          traded_value, realized_pnl, costs, net_pnl, order_to_trade_ratio, kill_switch_triggered, updated_at

-- name: daily_stats
-- One day's statistics as last refreshed.
-- row: DailyStats
SELECT trading_date, orders_placed, orders_filled, orders_rejected, orders_cancelled, trades_executed,
       traded_value, realized_pnl, costs, net_pnl, order_to_trade_ratio, kill_switch_triggered, updated_at
  FROM trading.daily_stats WHERE trading_date = %(day)s

-- name: today_pnl
-- Today's P&L: realized and costs of today's fills, and unrealized on open positions.
-- row: TodayPnl
SELECT coalesce(sum(e.realized_pnl), 0) AS realized_pnl,
       coalesce(sum(e.commission + e.fees), 0) AS costs,
       trading.get_today_pnl() AS net_realized_pnl,
       (SELECT coalesce(sum(unrealized_pnl), 0) FROM trading.positions WHERE status = 'open') AS unrealized_pnl,
       count(e.id)::integer AS fills
  FROM trading.executions e
 WHERE e.executed_at >= date_trunc('day', now()) AND e.executed_at < date_trunc('day', now()) + interval '1 day'

-- name: order_to_trade_ratio
-- Orders staged today per fill recorded today (NULL while nothing traded).
SELECT trading.get_order_to_trade_ratio() AS ratio

-- name: set_kill_switch
-- Halt trading (active) or resume; the database changes the state row and appends the history,
-- with its own time, after every submission in flight has committed.
-- row: KillSwitchState
SELECT active, reason, actor, changed_at
  FROM trading.set_kill_switch(%(active)s::boolean, %(reason)s::text, %(actor)s::text)

-- name: kill_switch_state
-- The kill switch now (the state row).
-- row: KillSwitchState
SELECT active, reason, actor, changed_at FROM trading.kill_switch_state

-- name: kill_switch_blockers
-- Sessions holding the kill switch state (FOR SHARE: they staged, approved or submitted under
-- it and have not ended), which a halt waits for; the oldest transaction first.
-- row: KillSwitchBlocker
SELECT a.pid, a.usename::text AS login_role, a.application_name, a.state,
       extract(epoch FROM clock_timestamp() - a.xact_start)::float8 AS transaction_seconds
  FROM pg_locks l
  JOIN pg_stat_activity a ON a.pid = l.pid
 WHERE l.locktype = 'relation' AND l.relation = 'trading.kill_switch_state'::regclass
   AND l.mode = 'RowShareLock' AND l.granted AND l.pid <> pg_backend_pid()
 ORDER BY a.xact_start, a.pid

-- name: terminate_session
-- End one session (its transaction rolls back); needs superuser or pg_signal_backend.
SELECT pg_terminate_backend(%(pid)s::integer)
