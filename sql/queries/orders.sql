-- Queries of the order workflow (ops_db.orders). The rules live in migrations 0200/0201:
-- these statements only ask; the triggers decide.

-- name: set_actor
-- Who acts in this transaction; the audit trigger records it in trading.order_events.
SELECT set_config('ops_db.actor', %(actor)s, true)

-- name: stage_order
-- Insert a new order; an existing client_order_id inserts nothing (idempotent retry).
INSERT INTO trading.staged_orders (
    client_order_id, strategy_id, signal_id, symbol, side, order_type, quantity, limit_price, stop_price,
    stop_loss, take_profit, time_in_force, created_by, risk_score, risk_factors, portfolio_impact,
    concentration_check, compliance_flags, metadata, market_data, tags, expires_at)
VALUES (
    %(client_order_id)s, %(strategy_id)s, %(signal_id)s, %(symbol)s, %(side)s, %(order_type)s, %(quantity)s,
    %(limit_price)s, %(stop_price)s, %(stop_loss)s, %(take_profit)s, %(time_in_force)s, %(created_by)s,
    %(risk_score)s, %(risk_factors)s, %(portfolio_impact)s, %(concentration_check)s, %(compliance_flags)s,
    %(metadata)s, %(market_data)s, %(tags)s, %(expires_at)s)
ON CONFLICT (client_order_id) DO NOTHING
RETURNING *

-- name: screen_order
-- Automatic screening: staged -> pending_approval when approval is required, else -> approved.
SELECT * FROM trading.screen_order(%(order_id)s, %(actor)s)

-- name: transition_order
-- Move an order to another status; the state machine trigger refuses illegal moves.
SELECT * FROM trading.transition_order(%(order_id)s, %(to_status)s, %(actor)s, %(reason)s, %(broker_order_id)s)

-- name: expire_due_orders
-- Expire every open order whose expires_at has passed.
SELECT * FROM trading.expire_due_orders(%(now)s, %(actor)s)

-- name: record_fill
-- A fill; its trigger moves the order and the position in the same statement.
INSERT INTO trading.executions (order_id, quantity, price, commission, fees, venue, broker_trade_id, executed_at)
VALUES (%(order_id)s, %(quantity)s, %(price)s, %(commission)s, %(fees)s, %(venue)s, %(broker_trade_id)s,
        coalesce(%(executed_at)s, now()))
RETURNING *

-- name: order_by_id
-- One order by its id.
SELECT * FROM trading.staged_orders WHERE id = %(order_id)s

-- name: order_by_client_id
-- One order by the client order id it was staged with.
SELECT * FROM trading.staged_orders WHERE client_order_id = %(client_order_id)s

-- name: order_by_broker_id
-- One order by the broker's order id.
SELECT * FROM trading.staged_orders WHERE broker_order_id = %(broker_order_id)s

-- name: list_orders
-- Orders newest first, filtered; keyset pagination after (created_at, id) of the last row seen.
SELECT *
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
SELECT id, order_id, occurred_at, event_type, from_status, to_status, actor, details
  FROM trading.order_events
 WHERE order_id = %(order_id)s
 ORDER BY occurred_at, id

-- name: order_executions
-- The fills of one order, oldest first.
SELECT * FROM trading.executions WHERE order_id = %(order_id)s ORDER BY executed_at, id

-- name: listen_order_updates
-- Subscribe this connection to the order_updates channel (payloads from the audit trigger).
LISTEN order_updates
