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
