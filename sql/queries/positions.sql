-- Queries of positions and portfolio snapshots (ops_db.ledger.positions). Positions move only by
-- fills and trading.close_position(); marks set current_price.

-- name: open_positions
-- Every open position, largest exposure first.
-- row: Position
SELECT id, symbol, quantity, avg_cost, realized_pnl, fees, status, current_price, market_value, unrealized_pnl,
       opened_at, closed_at, close_price, close_reason, last_marked_at, updated_at
  FROM trading.positions
 WHERE status = 'open'
 ORDER BY abs(quantity * coalesce(current_price, avg_cost)) DESC, symbol

-- name: position_by_symbol
-- The open position in one symbol, if any.
-- row: Position
SELECT id, symbol, quantity, avg_cost, realized_pnl, fees, status, current_price, market_value, unrealized_pnl,
       opened_at, closed_at, close_price, close_reason, last_marked_at, updated_at
  FROM trading.positions WHERE symbol = %(symbol)s AND status = 'open'

-- name: closed_positions
-- Positions closed in a time range, newest first.
-- row: Position
SELECT id, symbol, quantity, avg_cost, realized_pnl, fees, status, current_price, market_value, unrealized_pnl,
       opened_at, closed_at, close_price, close_reason, last_marked_at, updated_at
  FROM trading.positions
 WHERE status = 'closed' AND closed_at >= %(since)s AND closed_at < %(until)s
 ORDER BY closed_at DESC, id DESC

-- name: mark_position
-- Mark the open position in a symbol to a price; market value and unrealized P&L follow.
-- row: Position
UPDATE trading.positions
   SET current_price = %(price)s, last_marked_at = coalesce(%(at)s, now())
 WHERE symbol = %(symbol)s AND status = 'open'
RETURNING id, symbol, quantity, avg_cost, realized_pnl, fees, status, current_price, market_value,
          unrealized_pnl, opened_at, closed_at, close_price, close_reason, last_marked_at, updated_at

-- name: close_position
-- Close what is left of a position at a price without a fill (expiry, assignment, write-off).
-- row: Position
SELECT p.id, p.symbol, p.quantity, p.avg_cost, p.realized_pnl, p.fees, p.status, p.current_price,
       p.market_value, p.unrealized_pnl, p.opened_at, p.closed_at, p.close_price, p.close_reason,
       p.last_marked_at, p.updated_at
  FROM trading.close_position(%(symbol)s, %(price)s, %(reason)s) AS p

-- name: take_portfolio_snapshot
-- Record the account's value now: cash plus open positions at their marks (cost when unmarked).
-- row: PortfolioSnapshot
INSERT INTO trading.portfolio_snapshots (
    snapshot_at, cash_balance, positions_value, total_value, unrealized_pnl, realized_pnl_today,
    open_positions, details)
SELECT at, %(cash_balance)s, pv.value, %(cash_balance)s + pv.value, pv.unrealized, realized.today, pv.n,
       %(details)s
  FROM (SELECT coalesce(%(at)s::timestamptz, now()) AS at) t,
       LATERAL (SELECT coalesce(sum(quantity * coalesce(current_price, avg_cost)), 0) AS value,
                       coalesce(sum(unrealized_pnl), 0) AS unrealized,
                       count(*)::integer AS n
                  FROM trading.positions WHERE status = 'open') pv,
       LATERAL (SELECT coalesce(sum(realized_pnl - commission - fees), 0) AS today
                  FROM trading.executions
                 WHERE executed_at >= date_trunc('day', t.at) AND executed_at <= t.at) realized
RETURNING snapshot_at, cash_balance, positions_value, total_value, unrealized_pnl, realized_pnl_today,
          open_positions, details

-- name: portfolio_history
-- Snapshots in a time range, oldest first.
-- row: PortfolioSnapshot
SELECT snapshot_at, cash_balance, positions_value, total_value, unrealized_pnl, realized_pnl_today,
       open_positions, details
  FROM trading.portfolio_snapshots
 WHERE snapshot_at >= %(since)s AND snapshot_at < %(until)s
 ORDER BY snapshot_at

-- name: latest_portfolio_snapshot
-- The newest snapshot.
-- row: PortfolioSnapshot
SELECT snapshot_at, cash_balance, positions_value, total_value, unrealized_pnl, realized_pnl_today,
       open_positions, details
  FROM trading.portfolio_snapshots ORDER BY snapshot_at DESC LIMIT 1
