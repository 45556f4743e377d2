-- name: create_price_stage
-- A transaction-local staging table that COPY fills before the upsert into stock_prices.
CREATE TEMP TABLE IF NOT EXISTS stage_stock_prices (
    row_no integer, symbol text, "timestamp" timestamptz, open_price numeric, high_price numeric,
    low_price numeric, close_price numeric, volume bigint, vwap numeric
) ON COMMIT DROP;
TRUNCATE stage_stock_prices

-- name: copy_price_stage
-- Binary COPY of validated price rows into the staging table.
COPY stage_stock_prices (row_no, symbol, "timestamp", open_price, high_price, low_price, close_price, volume, vwap)
FROM STDIN (FORMAT BINARY)

-- name: upsert_prices_from_stage
-- row: IngestCounts
-- Insert new ticks; a tick already stored is updated only when a value differs (a correction).
-- In key order (byte order of the symbol, as Python sorts the direct COPY): overlapping
-- concurrent batches then lock their common keys in the same order and cannot deadlock.
WITH written AS (
    INSERT INTO trading.stock_prices AS t
        (symbol, "timestamp", open_price, high_price, low_price, close_price, volume, vwap)
    SELECT symbol, "timestamp", open_price, high_price, low_price, close_price, volume, vwap
      FROM stage_stock_prices ORDER BY symbol COLLATE "C", "timestamp"
    ON CONFLICT (symbol, "timestamp") DO UPDATE
       SET open_price = EXCLUDED.open_price, high_price = EXCLUDED.high_price, low_price = EXCLUDED.low_price,
           close_price = EXCLUDED.close_price, volume = EXCLUDED.volume, vwap = EXCLUDED.vwap, updated_at = now()
     WHERE (t.open_price, t.high_price, t.low_price, t.close_price, t.volume, t.vwap)
           IS DISTINCT FROM (EXCLUDED.open_price, EXCLUDED.high_price, EXCLUDED.low_price, EXCLUDED.close_price,
                             EXCLUDED.volume, EXCLUDED.vwap)
    RETURNING (xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted) AS inserted, count(*) FILTER (WHERE NOT inserted) AS updated FROM written

-- name: create_option_stage
-- A transaction-local staging table that COPY fills before the upsert into options_data.
CREATE TEMP TABLE IF NOT EXISTS stage_options_data (
    row_no integer, option_symbol text, underlying_symbol text, "timestamp" timestamptz, expiration_date date,
    strike_price numeric, option_type text, bid_price numeric, ask_price numeric, last_price numeric,
    volume bigint, open_interest bigint, implied_volatility numeric, delta numeric, gamma numeric,
    theta numeric, vega numeric, rho numeric, intrinsic_value numeric, time_value numeric
) ON COMMIT DROP;
TRUNCATE stage_options_data

-- name: copy_option_stage
-- Binary COPY of validated option quotes into the staging table.
COPY stage_options_data (row_no, option_symbol, underlying_symbol, "timestamp", expiration_date, strike_price,
    option_type, bid_price, ask_price, last_price, volume, open_interest, implied_volatility, delta, gamma, theta,
    vega, rho, intrinsic_value, time_value)
FROM STDIN (FORMAT BINARY)

-- name: upsert_options_from_stage
-- row: IngestCounts
-- Insert new quotes; a quote already stored is updated only when a value differs. Key order,
-- as upsert_prices_from_stage: concurrent overlapping batches cannot deadlock.
WITH written AS (
    INSERT INTO trading.options_data AS t
        (option_symbol, underlying_symbol, "timestamp", expiration_date, strike_price, option_type, bid_price,
         ask_price, last_price, volume, open_interest, implied_volatility, delta, gamma, theta, vega, rho,
         intrinsic_value, time_value)
    SELECT option_symbol, underlying_symbol, "timestamp", expiration_date, strike_price, option_type, bid_price,
           ask_price, last_price, volume, open_interest, implied_volatility, delta, gamma, theta, vega, rho,
           intrinsic_value, time_value
      FROM stage_options_data ORDER BY option_symbol COLLATE "C", "timestamp"
    ON CONFLICT (option_symbol, "timestamp") DO UPDATE
       SET bid_price = EXCLUDED.bid_price, ask_price = EXCLUDED.ask_price, last_price = EXCLUDED.last_price,
           volume = EXCLUDED.volume, open_interest = EXCLUDED.open_interest,
           implied_volatility = EXCLUDED.implied_volatility, delta = EXCLUDED.delta, gamma = EXCLUDED.gamma,
           theta = EXCLUDED.theta, vega = EXCLUDED.vega, rho = EXCLUDED.rho,
           intrinsic_value = EXCLUDED.intrinsic_value, time_value = EXCLUDED.time_value, updated_at = now()
     WHERE (t.bid_price, t.ask_price, t.last_price, t.volume, t.open_interest, t.implied_volatility, t.delta,
            t.gamma, t.theta, t.vega, t.rho, t.intrinsic_value, t.time_value)
           IS DISTINCT FROM (EXCLUDED.bid_price, EXCLUDED.ask_price, EXCLUDED.last_price, EXCLUDED.volume,
                             EXCLUDED.open_interest, EXCLUDED.implied_volatility, EXCLUDED.delta, EXCLUDED.gamma,
                             EXCLUDED.theta, EXCLUDED.vega, EXCLUDED.rho, EXCLUDED.intrinsic_value,
                             EXCLUDED.time_value)
    RETURNING (xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted) AS inserted, count(*) FILTER (WHERE NOT inserted) AS updated FROM written

-- name: create_event_stage
-- A transaction-local staging table that COPY fills before the insert into market_events.
CREATE TEMP TABLE IF NOT EXISTS stage_market_events (
    row_no integer, symbol text, "timestamp" timestamptz, event_type text, price numeric, volume bigint,
    metadata jsonb
) ON COMMIT DROP;
TRUNCATE stage_market_events

-- name: copy_event_stage
-- Binary COPY of validated market events into the staging table.
COPY stage_market_events (row_no, symbol, "timestamp", event_type, price, volume, metadata)
FROM STDIN (FORMAT BINARY)

-- name: insert_events_from_stage
-- row: IngestCounts
-- Events are facts: one already stored (same symbol, time and type) is skipped, never rewritten.
-- Key order, as upsert_prices_from_stage: concurrent overlapping batches cannot deadlock.
WITH written AS (
    INSERT INTO trading.market_events (symbol, "timestamp", event_type, price, volume, metadata)
    SELECT symbol, "timestamp", event_type, price, volume, metadata FROM stage_market_events
     ORDER BY symbol COLLATE "C", "timestamp", event_type COLLATE "C"
    ON CONFLICT (symbol, "timestamp", event_type) DO NOTHING
    RETURNING 1
)
SELECT count(*) AS inserted, 0::bigint AS updated FROM written

-- name: latest_prices
-- The newest raw price of every symbol (or of the symbols asked for).
-- row: LatestPrice
SELECT symbol, "timestamp", close_price, volume, vwap
  FROM trading.latest_prices
 WHERE %(symbols)s::text[] IS NULL OR symbol = ANY(%(symbols)s::text[])
 ORDER BY symbol

-- name: options_chain
-- Latest quote of every contract of an underlying in an expiry window.
-- row: ChainQuote
SELECT option_symbol, expiration_date, strike_price, option_type, bid_price, ask_price, last_price, volume,
       open_interest, implied_volatility, delta, gamma, theta, vega, rho, "timestamp"
  FROM trading.options_chain(%(underlying)s, %(expires_from)s, %(expires_to)s, %(quoted_since)s)

-- name: put_call_ratio
-- Put and call volume and their ratio per underlying over a time window.
-- row: PutCallRatio
SELECT underlying_symbol, put_volume, call_volume, put_call_ratio
  FROM trading.put_call_ratio(%(start)s, %(end)s)

-- name: rsi
-- Wilder RSI series of one symbol at one bar interval.
-- row: RsiPoint
SELECT "timestamp", symbol, close, rsi
  FROM trading.calculate_rsi(%(symbol)s, %(period)s, %(interval)s)
 WHERE %(start)s::timestamptz IS NULL OR "timestamp" >= %(start)s

-- name: bollinger_bands
-- Bollinger bands series of one symbol at one bar interval.
-- row: BollingerPoint
SELECT "timestamp", symbol, close, middle_band, upper_band, lower_band
  FROM trading.calculate_bollinger_bands(%(symbol)s, %(period)s, %(num_std)s, %(interval)s)
 WHERE %(start)s::timestamptz IS NULL OR "timestamp" >= %(start)s

-- name: moving_average
-- Simple and exponential moving averages of one symbol at one bar interval.
-- row: MovingAveragePoint
SELECT "timestamp", symbol, close, sma, ema
  FROM trading.calculate_moving_average(%(symbol)s, %(period)s, %(interval)s)
 WHERE %(start)s::timestamptz IS NULL OR "timestamp" >= %(start)s

-- name: vwap
-- Volume-weighted average price of the raw prices of one symbol in a window.
SELECT trading.calculate_vwap(%(symbol)s, %(start)s, %(end)s) AS vwap

-- name: copy_prices_direct
-- Binary COPY of validated new ticks straight into the hypertable (fails on a tick already stored).
COPY trading.stock_prices (symbol, "timestamp", open_price, high_price, low_price, close_price, volume, vwap)
FROM STDIN (FORMAT BINARY)

-- name: copy_prices_plain
-- As copy_prices_direct, for a batch of plain ticks (open, high, low and vwap NULL).
COPY trading.stock_prices (symbol, "timestamp", close_price, volume)
FROM STDIN (FORMAT BINARY)
