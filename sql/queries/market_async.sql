-- Queries of ops_db.aio.market (its sync twin ops_db.market is generated from it): one bars query per
-- rollup, so the fetch helpers run a named query as it is, without composing a table name into it.

-- name: bars_1m
-- row: Bar
-- OHLCV bars of one symbol from the 1m rollup, buckets in [start, end), oldest first.
SELECT bucket, symbol, open, high, low, close, volume, vwap, trade_count
  FROM trading.stock_prices_1m
 WHERE symbol = %(symbol)s AND bucket >= %(start)s AND bucket < %(end)s
 ORDER BY bucket

-- name: bars_5m
-- row: Bar
-- OHLCV bars of one symbol from the 5m rollup, buckets in [start, end), oldest first.
SELECT bucket, symbol, open, high, low, close, volume, vwap, trade_count
  FROM trading.stock_prices_5m
 WHERE symbol = %(symbol)s AND bucket >= %(start)s AND bucket < %(end)s
 ORDER BY bucket

-- name: bars_1h
-- row: Bar
-- OHLCV bars of one symbol from the 1h rollup, buckets in [start, end), oldest first.
SELECT bucket, symbol, open, high, low, close, volume, vwap, trade_count
  FROM trading.stock_prices_1h
 WHERE symbol = %(symbol)s AND bucket >= %(start)s AND bucket < %(end)s
 ORDER BY bucket

-- name: bars_1d
-- row: Bar
-- OHLCV bars of one symbol from the 1d rollup, buckets in [start, end), oldest first.
SELECT bucket, symbol, open, high, low, close, volume, vwap, trade_count
  FROM trading.stock_prices_1d
 WHERE symbol = %(symbol)s AND bucket >= %(start)s AND bucket < %(end)s
 ORDER BY bucket

-- name: latest_recent_prices_of
-- row: LatestPrice
-- latest_prices_of over the last 4 days only (a long weekend): TimescaleDB leaves the older
-- chunks out when it plans (now() minus a constant), so the cost does not grow with the history
-- stored. A symbol with no price that recent is left out; ops_db.market then asks latest_prices_of.
SELECT s.symbol, p."timestamp", p.close_price, p.volume, p.vwap
  FROM (SELECT DISTINCT unnest(%(symbols)s::text[]) AS symbol) s
 CROSS JOIN LATERAL (
       SELECT p."timestamp", p.close_price, p.volume, p.vwap
         FROM trading.stock_prices p
        WHERE p.symbol = s.symbol AND p.symbol >= s.symbol AND p.symbol <= s.symbol
          AND p."timestamp" > now() - interval '4 days'
          AND p."timestamp" <= upper(ops_internal.market_time_window())
        ORDER BY p."timestamp" DESC
        LIMIT 1) p
 ORDER BY s.symbol

-- name: latest_prices_of
-- row: LatestPrice
-- The newest raw price of each symbol asked for, by symbol (a symbol with none is left out): one
-- probe of the (symbol, timestamp) key a symbol, newest chunk first (each probe starts every chunk:
-- the cost grows with the chunks stored, see latest_recent_prices_of), where the trading.latest_prices
-- view first skip-scans every symbol stored. The range on symbol repeats the equality on purpose:
-- without it the planner probes the chunks where the symbol is rare through the timestamp index,
-- filtering every row of the chunk (9.4 s for a symbol with no price among 11 M rows, not 4 ms).
SELECT s.symbol, p."timestamp", p.close_price, p.volume, p.vwap
  FROM (SELECT DISTINCT unnest(%(symbols)s::text[]) AS symbol) s
 CROSS JOIN LATERAL (
       SELECT p."timestamp", p.close_price, p.volume, p.vwap
         FROM trading.stock_prices p
        WHERE p.symbol = s.symbol AND p.symbol >= s.symbol AND p.symbol <= s.symbol
          AND p."timestamp" <= upper(ops_internal.market_time_window())
        ORDER BY p."timestamp" DESC
        LIMIT 1) p
 ORDER BY s.symbol
