-- requires: 0102_market_rollups
-- Market analytics for psql and ops_db.market: bars for any interval, RSI, Bollinger bands,
-- simple and exponential moving averages, VWAP, latest prices, options chain, put/call ratio.
-- Bars of 1 minute, 5 minutes, 1 hour and 1 day come from the rollups; other intervals are
-- bucketed from the raw prices (kept 90 days).

CREATE OR REPLACE FUNCTION trading.price_bars(
    p_symbol text,
    p_interval interval DEFAULT '5 minutes',
    p_from timestamptz DEFAULT '-infinity',
    p_to timestamptz DEFAULT 'infinity')
    RETURNS TABLE (bucket timestamptz, open numeric, high numeric, low numeric, close numeric, volume bigint,
                   vwap numeric, trade_count bigint)
    LANGUAGE plpgsql STABLE
    AS $$
#variable_conflict use_column
BEGIN
    CASE p_interval
    WHEN interval '1 minute' THEN
        RETURN QUERY SELECT b.bucket, b.open, b.high, b.low, b.close, b.volume, b.vwap, b.trade_count
                       FROM trading.stock_prices_1m b
                      WHERE b.symbol = p_symbol AND b.bucket >= p_from AND b.bucket < p_to ORDER BY b.bucket;
    WHEN interval '5 minutes' THEN
        RETURN QUERY SELECT b.bucket, b.open, b.high, b.low, b.close, b.volume, b.vwap, b.trade_count
                       FROM trading.stock_prices_5m b
                      WHERE b.symbol = p_symbol AND b.bucket >= p_from AND b.bucket < p_to ORDER BY b.bucket;
    WHEN interval '1 hour' THEN
        RETURN QUERY SELECT b.bucket, b.open, b.high, b.low, b.close, b.volume, b.vwap, b.trade_count
                       FROM trading.stock_prices_1h b
                      WHERE b.symbol = p_symbol AND b.bucket >= p_from AND b.bucket < p_to ORDER BY b.bucket;
    WHEN interval '1 day' THEN
        RETURN QUERY SELECT b.bucket, b.open, b.high, b.low, b.close, b.volume, b.vwap, b.trade_count
                       FROM trading.stock_prices_1d b
                      WHERE b.symbol = p_symbol AND b.bucket >= p_from AND b.bucket < p_to ORDER BY b.bucket;
    ELSE
        RETURN QUERY
            SELECT time_bucket(p_interval, p."timestamp") AS bucket,
                   first(COALESCE(p.open_price, p.close_price), p."timestamp"),
                   max(COALESCE(p.high_price, p.close_price)),
                   min(COALESCE(p.low_price, p.close_price)),
                   last(p.close_price, p."timestamp"),
                   sum(p.volume)::bigint,
                   round(sum(COALESCE(p.vwap, p.close_price) * p.volume) / NULLIF(sum(p.volume), 0), 6),
                   count(*)
              FROM trading.stock_prices p
             WHERE p.symbol = p_symbol AND p."timestamp" >= p_from AND p."timestamp" < p_to
             GROUP BY 1 ORDER BY 1;
    END CASE;
END
$$;

-- Wilder's RSI: the first average gain/loss is the mean of the first p_period changes, then
-- avg = (avg * (p_period - 1) + change) / p_period. NULL until p_period changes exist.
CREATE OR REPLACE FUNCTION trading.calculate_rsi(
    p_symbol text, p_period integer DEFAULT 14, p_interval interval DEFAULT '5 minutes')
    RETURNS TABLE ("timestamp" timestamptz, symbol text, close numeric, rsi numeric)
    LANGUAGE plpgsql STABLE
    AS $$
#variable_conflict use_column
DECLARE
    bar record;
    prev numeric;
    change numeric;
    n integer := 0;
    sum_gain numeric := 0;
    sum_loss numeric := 0;
    avg_gain numeric;
    avg_loss numeric;
BEGIN
    IF p_period IS NULL OR p_period < 1 THEN
        RAISE EXCEPTION 'RSI period must be at least 1, got %', p_period USING ERRCODE = 'OPS04';
    END IF;
    FOR bar IN SELECT b.bucket, b.close FROM trading.price_bars(p_symbol, p_interval) b ORDER BY b.bucket LOOP
        rsi := NULL;
        IF prev IS NOT NULL THEN
            change := bar.close - prev;
            n := n + 1;
            IF n <= p_period THEN
                sum_gain := sum_gain + GREATEST(change, 0);
                sum_loss := sum_loss + GREATEST(-change, 0);
                IF n = p_period THEN
                    avg_gain := sum_gain / p_period;
                    avg_loss := sum_loss / p_period;
                END IF;
            ELSE
                avg_gain := (avg_gain * (p_period - 1) + GREATEST(change, 0)) / p_period;
                avg_loss := (avg_loss * (p_period - 1) + GREATEST(-change, 0)) / p_period;
            END IF;
            IF n >= p_period THEN
                rsi := CASE WHEN avg_loss = 0 AND avg_gain = 0 THEN 50
                            WHEN avg_loss = 0 THEN 100
                            ELSE round(100 - 100 / (1 + avg_gain / avg_loss), 6) END;
            END IF;
        END IF;
        prev := bar.close;
        "timestamp" := bar.bucket;
        symbol := p_symbol;
        close := bar.close;
        RETURN NEXT;
    END LOOP;
END
$$;

-- Bollinger bands: simple moving average of p_period closes +/- p_num_std population
-- standard deviations. NULL bands until p_period bars exist.
CREATE OR REPLACE FUNCTION trading.calculate_bollinger_bands(
    p_symbol text, p_period integer DEFAULT 20, p_num_std numeric DEFAULT 2.0, p_interval interval DEFAULT '5 minutes')
    RETURNS TABLE ("timestamp" timestamptz, symbol text, close numeric, middle_band numeric, upper_band numeric,
                   lower_band numeric)
    LANGUAGE sql STABLE
    AS $$
        SELECT w.bucket, p_symbol, w.close,
               CASE WHEN w.n >= p_period THEN round(w.mean, 6) END,
               CASE WHEN w.n >= p_period THEN round(w.mean + p_num_std * w.sd, 6) END,
               CASE WHEN w.n >= p_period THEN round(w.mean - p_num_std * w.sd, 6) END
          FROM (SELECT b.bucket, b.close,
                       avg(b.close) OVER win AS mean,
                       stddev_pop(b.close) OVER win AS sd,
                       count(*) OVER win AS n
                  FROM trading.price_bars(p_symbol, p_interval) b
                WINDOW win AS (ORDER BY b.bucket ROWS BETWEEN p_period - 1 PRECEDING AND CURRENT ROW)) w
         ORDER BY w.bucket
    $$;

-- Simple and exponential moving averages of the close. The EMA starts at the SMA of the
-- first p_period bars and then follows ema = alpha * close + (1 - alpha) * ema, alpha = 2 / (p_period + 1).
CREATE OR REPLACE FUNCTION trading.calculate_moving_average(
    p_symbol text, p_period integer DEFAULT 20, p_interval interval DEFAULT '5 minutes')
    RETURNS TABLE ("timestamp" timestamptz, symbol text, close numeric, sma numeric, ema numeric)
    LANGUAGE plpgsql STABLE
    AS $$
#variable_conflict use_column
DECLARE
    bar record;
    alpha numeric;
    v_ema numeric;
    n integer := 0;
BEGIN
    IF p_period IS NULL OR p_period < 1 THEN
        RAISE EXCEPTION 'moving average period must be at least 1, got %', p_period USING ERRCODE = 'OPS04';
    END IF;
    alpha := 2.0 / (p_period + 1);
    FOR bar IN
        SELECT b.bucket, b.close,
               avg(b.close) OVER (ORDER BY b.bucket ROWS BETWEEN p_period - 1 PRECEDING AND CURRENT ROW) AS mean
          FROM trading.price_bars(p_symbol, p_interval) b ORDER BY b.bucket
    LOOP
        n := n + 1;
        IF n = p_period THEN
            v_ema := bar.mean;
        ELSIF n > p_period THEN
            v_ema := alpha * bar.close + (1 - alpha) * v_ema;
        END IF;
        "timestamp" := bar.bucket;
        symbol := p_symbol;
        close := bar.close;
        sma := CASE WHEN n >= p_period THEN round(bar.mean, 6) END;
        ema := round(v_ema, 6);
        RETURN NEXT;
    END LOOP;
END
$$;

-- Volume-weighted average price of the raw prices in [p_from, p_to).
CREATE OR REPLACE FUNCTION trading.calculate_vwap(p_symbol text, p_from timestamptz, p_to timestamptz DEFAULT now())
    RETURNS numeric
    LANGUAGE sql STABLE
    AS $$
        SELECT round(sum(COALESCE(p.vwap, p.close_price) * p.volume) / NULLIF(sum(p.volume), 0), 6)
          FROM trading.stock_prices p
         WHERE p.symbol = p_symbol AND p."timestamp" >= p_from AND p."timestamp" < p_to
    $$;

-- The latest price of every symbol: a skip scan over the (symbol, timestamp) key finds the
-- symbols, then one index probe each finds the newest row.
DROP VIEW IF EXISTS trading.latest_prices;
CREATE VIEW trading.latest_prices AS
    WITH RECURSIVE symbols AS (
        SELECT min(symbol) AS symbol FROM trading.stock_prices
        UNION ALL
        SELECT (SELECT min(p.symbol) FROM trading.stock_prices p WHERE p.symbol > s.symbol)
          FROM symbols s WHERE s.symbol IS NOT NULL
    )
    SELECT s.symbol, last_row."timestamp", last_row.close_price, last_row.volume, last_row.vwap
      FROM symbols s
     CROSS JOIN LATERAL (
        SELECT p."timestamp", p.close_price, p.volume, p.vwap
          FROM trading.stock_prices p
         WHERE p.symbol = s.symbol
           AND p."timestamp" <= upper(ops_internal.market_time_window())
         ORDER BY p."timestamp" DESC
         LIMIT 1
     ) last_row
     WHERE s.symbol IS NOT NULL;
COMMENT ON VIEW trading.latest_prices IS 'The newest raw price of every symbol.';

-- The options chain of one underlying: the latest quote since p_quoted_since of every contract
-- expiring in [p_expires_from, p_expires_to], by expiry, type and strike.
CREATE OR REPLACE FUNCTION trading.options_chain(
    p_underlying text,
    p_expires_from date DEFAULT CURRENT_DATE,
    p_expires_to date DEFAULT CURRENT_DATE + 7,
    p_quoted_since timestamptz DEFAULT now() - interval '1 hour')
    RETURNS TABLE (option_symbol text, expiration_date date, strike_price numeric, option_type text,
                   bid_price numeric, ask_price numeric, last_price numeric, volume bigint, open_interest bigint,
                   implied_volatility numeric, delta numeric, gamma numeric, theta numeric, vega numeric,
                   rho numeric, "timestamp" timestamptz)
    LANGUAGE sql STABLE
    AS $$
        SELECT q.option_symbol, q.expiration_date, q.strike_price, q.option_type, q.bid_price, q.ask_price,
               q.last_price, q.volume, q.open_interest, q.implied_volatility, q.delta, q.gamma, q.theta, q.vega,
               q.rho, q."timestamp"
          FROM (SELECT DISTINCT ON (o.option_symbol) o.*
                  FROM trading.options_data o
                 WHERE o.underlying_symbol = p_underlying
                   AND o.expiration_date BETWEEN p_expires_from AND p_expires_to
                   AND o."timestamp" >= p_quoted_since
                 ORDER BY o.option_symbol, o."timestamp" DESC) q
         ORDER BY q.expiration_date, q.option_type, q.strike_price
    $$;

-- Put/call volume ratio per underlying over [p_from, p_to) of the raw quotes (seed 002's query).
CREATE OR REPLACE FUNCTION trading.put_call_ratio(
    p_from timestamptz DEFAULT now() - interval '1 day', p_to timestamptz DEFAULT now())
    RETURNS TABLE (underlying_symbol text, put_volume bigint, call_volume bigint, put_call_ratio numeric)
    LANGUAGE sql STABLE
    AS $$
        SELECT o.underlying_symbol,
               COALESCE(sum(o.volume) FILTER (WHERE o.option_type = 'PUT'), 0)::bigint,
               COALESCE(sum(o.volume) FILTER (WHERE o.option_type = 'CALL'), 0)::bigint,
               round(COALESCE(sum(o.volume) FILTER (WHERE o.option_type = 'PUT'), 0)
                     / NULLIF(sum(o.volume) FILTER (WHERE o.option_type = 'CALL'), 0), 6)
          FROM trading.options_data o
         WHERE o."timestamp" >= p_from AND o."timestamp" < p_to
         GROUP BY o.underlying_symbol
         ORDER BY o.underlying_symbol
    $$;

-- @drop
DROP FUNCTION IF EXISTS trading.put_call_ratio(timestamptz, timestamptz);
DROP FUNCTION IF EXISTS trading.options_chain(text, date, date, timestamptz);
DROP VIEW IF EXISTS trading.latest_prices;
DROP FUNCTION IF EXISTS trading.calculate_vwap(text, timestamptz, timestamptz);
DROP FUNCTION IF EXISTS trading.calculate_moving_average(text, integer, interval);
DROP FUNCTION IF EXISTS trading.calculate_bollinger_bands(text, integer, numeric, interval);
DROP FUNCTION IF EXISTS trading.calculate_rsi(text, integer, interval);
DROP FUNCTION IF EXISTS trading.price_bars(text, interval, timestamptz, timestamptz);
