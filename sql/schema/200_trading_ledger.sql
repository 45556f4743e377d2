-- requires: 0200_order_workflow 0201_fills_and_positions 0202_risk_and_monitoring
-- Views and functions of seed 004 over the trading ledger. "Today" is the current day in the
-- session's TimeZone (SET TIME ZONE 'America/New_York' for an exchange day).

DROP VIEW IF EXISTS trading.v_active_positions;
CREATE VIEW trading.v_active_positions AS
SELECT p.id,
       p.symbol,
       CASE WHEN p.quantity > 0 THEN 'long' ELSE 'short' END AS direction,
       p.quantity,
       p.avg_cost,
       p.current_price,
       p.market_value,
       p.unrealized_pnl,
       round(p.unrealized_pnl / (abs(p.quantity) * p.avg_cost) * 100, 4) AS unrealized_pnl_pct,
       p.realized_pnl,
       p.fees,
       p.opened_at,
       p.last_marked_at
  FROM trading.positions p
 WHERE p.status = 'open';
COMMENT ON VIEW trading.v_active_positions IS 'Open positions with mark-to-market P&L (seed 004).';

DROP VIEW IF EXISTS trading.v_reconciliation_issues;
CREATE VIEW trading.v_reconciliation_issues AS
SELECT r.id,
       r.symbol,
       r.issue_type,
       r.our_quantity,
       r.broker_quantity,
       r.broker_quantity - r.our_quantity AS quantity_difference,
       r.our_price,
       r.broker_price,
       r.order_id,
       r.details,
       r.detected_at,
       now() - r.detected_at AS age
  FROM trading.reconciliation_log r
 WHERE r.resolved_at IS NULL;
COMMENT ON VIEW trading.v_reconciliation_issues IS 'Unresolved reconciliation issues, oldest first by age (seed 004).';

DROP VIEW IF EXISTS trading.v_today_orders;
CREATE VIEW trading.v_today_orders AS
SELECT o.id,
       o.client_order_id,
       o.broker_order_id,
       s.name AS strategy,
       o.symbol,
       o.side,
       o.order_type,
       o.quantity,
       o.limit_price,
       o.stop_price,
       o.status,
       o.approval_required,
       o.filled_quantity,
       o.avg_fill_price,
       o.created_by,
       o.created_at,
       o.updated_at
  FROM trading.staged_orders o
  JOIN trading.strategies s ON s.id = o.strategy_id
 WHERE o.created_at >= date_trunc('day', now())
   AND o.created_at < date_trunc('day', now()) + interval '1 day';
COMMENT ON VIEW trading.v_today_orders IS 'Orders staged today (seed 004).';

-- Today's net P&L: realized P&L of today's fills minus their commissions and fees.
CREATE OR REPLACE FUNCTION trading.get_today_pnl() RETURNS numeric
    LANGUAGE sql STABLE
    AS $$
        SELECT coalesce(sum(e.realized_pnl - e.commission - e.fees), 0)
          FROM trading.executions e
         WHERE e.executed_at >= date_trunc('day', now())
           AND e.executed_at < date_trunc('day', now()) + interval '1 day'
    $$;

-- Orders staged today per fill recorded today; NULL while nothing has traded today.
CREATE OR REPLACE FUNCTION trading.get_order_to_trade_ratio() RETURNS numeric
    LANGUAGE sql STABLE
    AS $$
        SELECT round((SELECT count(*) FROM trading.staged_orders o
                       WHERE o.created_at >= date_trunc('day', now())
                         AND o.created_at < date_trunc('day', now()) + interval '1 day')::numeric
                     / nullif((SELECT count(*) FROM trading.executions e
                                WHERE e.executed_at >= date_trunc('day', now())
                                  AND e.executed_at < date_trunc('day', now()) + interval '1 day'), 0), 2)
    $$;

-- @drop
DROP FUNCTION IF EXISTS trading.get_order_to_trade_ratio();
DROP FUNCTION IF EXISTS trading.get_today_pnl();
DROP VIEW IF EXISTS trading.v_today_orders;
DROP VIEW IF EXISTS trading.v_reconciliation_issues;
DROP VIEW IF EXISTS trading.v_active_positions;
