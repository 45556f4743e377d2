-- Queries of the trading ledger demo and summaries (ops_db.demo.trading).

-- name: ledger_has_stock_prices
-- Whether the market-data table exists in this database.
SELECT to_regclass('trading.stock_prices') IS NOT NULL AS present

-- name: ledger_latest_price
-- The latest close of one symbol (only run when trading.stock_prices exists).
SELECT close_price FROM trading.stock_prices WHERE symbol = %(symbol)s ORDER BY "timestamp" DESC LIMIT 1

-- name: ledger_order_count
-- How many orders exist (demo client order ids continue after them).
SELECT count(*) AS n FROM trading.staged_orders
