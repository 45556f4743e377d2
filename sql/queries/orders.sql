-- Queries of the order workflow (ops_db.ledger.orders). The rules live in migrations 0200/0201:
-- these statements only ask; the triggers decide.

-- name: stage_order
-- Stage an order; a known client order id returns the existing order only when every term is
-- identical (compared by the database), else OPS07 naming the fields that differ.
-- row: Order
SELECT o.id, o.client_order_id, o.strategy_id, o.signal_id, o.symbol, o.side, o.order_type, o.quantity,
       o.limit_price, o.stop_price, o.stop_loss, o.take_profit, o.time_in_force, o.status, o.created_by,
       o.risk_score, o.risk_factors, o.portfolio_impact, o.concentration_check, o.compliance_flags,
       o.approval_required, o.approval_reasons, o.approved_by, o.approved_at, o.rejection_reason,
       o.status_reason, o.broker_order_id, o.filled_quantity, o.avg_fill_price, o.metadata, o.market_data,
       o.tags, o.created_at, o.updated_at, o.expires_at, o.submitted_at, o.executed_at, o.closed_at
  FROM trading.stage_order(
    p_client_order_id => %(client_order_id)s::text, p_strategy_id => %(strategy_id)s::bigint,
    p_signal_id => %(signal_id)s::bigint, p_symbol => %(symbol)s::text, p_side => %(side)s::text,
    p_order_type => %(order_type)s::text, p_quantity => %(quantity)s::numeric,
    p_limit_price => %(limit_price)s::numeric, p_stop_price => %(stop_price)s::numeric,
    p_stop_loss => %(stop_loss)s::numeric, p_take_profit => %(take_profit)s::numeric,
    p_time_in_force => %(time_in_force)s::text, p_created_by => %(created_by)s::text,
    p_risk_score => %(risk_score)s::numeric, p_risk_factors => %(risk_factors)s::jsonb,
    p_portfolio_impact => %(portfolio_impact)s::jsonb, p_concentration_check => %(concentration_check)s::boolean,
    p_compliance_flags => %(compliance_flags)s::jsonb, p_metadata => %(metadata)s::jsonb,
    p_market_data => %(market_data)s::jsonb, p_tags => %(tags)s::text[], p_expires_at => %(expires_at)s::timestamptz
) AS o

-- name: screen_order
-- Automatic screening: staged -> pending_approval when approval is required, else -> approved.
-- row: Order
SELECT o.id, o.client_order_id, o.strategy_id, o.signal_id, o.symbol, o.side, o.order_type, o.quantity,
       o.limit_price, o.stop_price, o.stop_loss, o.take_profit, o.time_in_force, o.status, o.created_by,
       o.risk_score, o.risk_factors, o.portfolio_impact, o.concentration_check, o.compliance_flags,
       o.approval_required, o.approval_reasons, o.approved_by, o.approved_at, o.rejection_reason,
       o.status_reason, o.broker_order_id, o.filled_quantity, o.avg_fill_price, o.metadata, o.market_data,
       o.tags, o.created_at, o.updated_at, o.expires_at, o.submitted_at, o.executed_at, o.closed_at
  FROM trading.screen_order(%(order_id)s, %(actor)s) AS o

-- name: transition_order
-- Move an order to another status; the state machine trigger refuses illegal moves.
-- row: Order
SELECT o.id, o.client_order_id, o.strategy_id, o.signal_id, o.symbol, o.side, o.order_type, o.quantity,
       o.limit_price, o.stop_price, o.stop_loss, o.take_profit, o.time_in_force, o.status, o.created_by,
       o.risk_score, o.risk_factors, o.portfolio_impact, o.concentration_check, o.compliance_flags,
       o.approval_required, o.approval_reasons, o.approved_by, o.approved_at, o.rejection_reason,
       o.status_reason, o.broker_order_id, o.filled_quantity, o.avg_fill_price, o.metadata, o.market_data,
       o.tags, o.created_at, o.updated_at, o.expires_at, o.submitted_at, o.executed_at, o.closed_at
  FROM trading.transition_order(%(order_id)s, %(to_status)s, %(actor)s, %(reason)s, %(broker_order_id)s) AS o

-- name: expire_due_orders
-- Expire every open order whose expires_at has passed.
-- row: Order
SELECT o.id, o.client_order_id, o.strategy_id, o.signal_id, o.symbol, o.side, o.order_type, o.quantity,
       o.limit_price, o.stop_price, o.stop_loss, o.take_profit, o.time_in_force, o.status, o.created_by,
       o.risk_score, o.risk_factors, o.portfolio_impact, o.concentration_check, o.compliance_flags,
       o.approval_required, o.approval_reasons, o.approved_by, o.approved_at, o.rejection_reason,
       o.status_reason, o.broker_order_id, o.filled_quantity, o.avg_fill_price, o.metadata, o.market_data,
       o.tags, o.created_at, o.updated_at, o.expires_at, o.submitted_at, o.executed_at, o.closed_at
  FROM trading.expire_due_orders(%(now)s, %(actor)s) AS o

-- name: record_fill
-- A fill; its trigger moves the order and the position in the same statement.
-- row: Execution
INSERT INTO trading.executions (order_id, quantity, price, commission, fees, venue, broker_trade_id, executed_at,
                               recorded_by)
VALUES (%(order_id)s, %(quantity)s, %(price)s, %(commission)s, %(fees)s, %(venue)s, %(broker_trade_id)s,
        coalesce(%(executed_at)s, now()), %(recorded_by)s)
RETURNING id, order_id, position_id, symbol, side, quantity, price, commission, fees, realized_pnl, venue,
          broker_trade_id, executed_at, created_at, recorded_by, sequenced_at

-- name: order_by_id
-- One order by its id.
-- row: Order
SELECT id, client_order_id, strategy_id, signal_id, symbol, side, order_type, quantity, limit_price, stop_price,
       stop_loss, take_profit, time_in_force, status, created_by, risk_score, risk_factors, portfolio_impact,
       concentration_check, compliance_flags, approval_required, approval_reasons, approved_by, approved_at,
       rejection_reason, status_reason, broker_order_id, filled_quantity, avg_fill_price, metadata, market_data,
       tags, created_at, updated_at, expires_at, submitted_at, executed_at, closed_at
  FROM trading.staged_orders WHERE id = %(order_id)s

-- name: order_by_client_id
-- One order by the client order id it was staged with.
-- row: Order
SELECT id, client_order_id, strategy_id, signal_id, symbol, side, order_type, quantity, limit_price, stop_price,
       stop_loss, take_profit, time_in_force, status, created_by, risk_score, risk_factors, portfolio_impact,
       concentration_check, compliance_flags, approval_required, approval_reasons, approved_by, approved_at,
       rejection_reason, status_reason, broker_order_id, filled_quantity, avg_fill_price, metadata, market_data,
       tags, created_at, updated_at, expires_at, submitted_at, executed_at, closed_at
  FROM trading.staged_orders WHERE client_order_id = %(client_order_id)s

-- name: order_by_broker_id
-- One order by the broker's order id.
-- row: Order
SELECT id, client_order_id, strategy_id, signal_id, symbol, side, order_type, quantity, limit_price, stop_price,
       stop_loss, take_profit, time_in_force, status, created_by, risk_score, risk_factors, portfolio_impact,
       concentration_check, compliance_flags, approval_required, approval_reasons, approved_by, approved_at,
       rejection_reason, status_reason, broker_order_id, filled_quantity, avg_fill_price, metadata, market_data,
       tags, created_at, updated_at, expires_at, submitted_at, executed_at, closed_at
  FROM trading.staged_orders WHERE broker_order_id = %(broker_order_id)s

-- name: list_orders
-- Orders newest first, filtered; keyset pagination after (created_at, id) of the last row seen.
-- row: Order
SELECT id, client_order_id, strategy_id, signal_id, symbol, side, order_type, quantity, limit_price, stop_price,
       stop_loss, take_profit, time_in_force, status, created_by, risk_score, risk_factors, portfolio_impact,
       concentration_check, compliance_flags, approval_required, approval_reasons, approved_by, approved_at,
       rejection_reason, status_reason, broker_order_id, filled_quantity, avg_fill_price, metadata, market_data,
       tags, created_at, updated_at, expires_at, submitted_at, executed_at, closed_at
  FROM trading.staged_orders
 WHERE (%(statuses)s::text[] IS NULL OR status = ANY (%(statuses)s::text[]))
   AND (%(symbol)s::text IS NULL OR symbol = %(symbol)s::text)
   AND (%(strategy_id)s::bigint IS NULL OR strategy_id = %(strategy_id)s::bigint)
   AND (%(since)s::timestamptz IS NULL OR created_at >= %(since)s::timestamptz)
   AND (%(until)s::timestamptz IS NULL OR created_at < %(until)s::timestamptz)
   AND (%(after_created_at)s::timestamptz IS NULL
        OR (created_at, id) < (%(after_created_at)s::timestamptz, %(after_id)s::bigint))
 ORDER BY created_at DESC, id DESC
 LIMIT %(limit)s

-- name: order_events
-- The audit trail of one order, oldest first.
-- row: OrderEvent
SELECT id, order_id, occurred_at, event_type, from_status, to_status, actor, login_role, details
  FROM trading.order_events
 WHERE order_id = %(order_id)s
 ORDER BY occurred_at, id

-- name: order_event_by_id
-- One event of one order (a notification names both; a pair the trail does not hold is forged).
-- row: OrderEvent
SELECT id, order_id, occurred_at, event_type, from_status, to_status, actor, login_role, details
  FROM trading.order_events
 WHERE order_id = %(order_id)s AND id = %(event_id)s

-- name: order_executions
-- The fills of one order, oldest first.
-- row: Execution
SELECT id, order_id, position_id, symbol, side, quantity, price, commission, fees, realized_pnl, venue,
       broker_trade_id, executed_at, created_at, recorded_by, sequenced_at
  FROM trading.executions WHERE order_id = %(order_id)s ORDER BY executed_at, id

-- name: listen_order_updates
-- Subscribe this connection to the order_updates channel (payloads from the audit trigger).
LISTEN order_updates
