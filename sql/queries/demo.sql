-- name: demo_loaded
-- Whether any price of the demo symbols is stored (then `ops-db demo` changes nothing).
SELECT EXISTS (SELECT FROM trading.stock_prices WHERE symbol = ANY(%(symbols)s::text[]))

-- name: demo_delete_prices
-- --reset: remove the demo symbols' prices.
DELETE FROM trading.stock_prices WHERE symbol = ANY(%(symbols)s::text[])

-- name: demo_delete_options
-- --reset: remove the demo symbols' option quotes.
DELETE FROM trading.options_data WHERE underlying_symbol = ANY(%(symbols)s::text[])

-- name: demo_delete_events
-- --reset: remove the demo symbols' market events.
DELETE FROM trading.market_events WHERE symbol = ANY(%(symbols)s::text[])

-- name: demo_delete_signals
-- --reset: remove the demo symbols' signals.
DELETE FROM trading.signals WHERE symbol = ANY(%(symbols)s::text[])
