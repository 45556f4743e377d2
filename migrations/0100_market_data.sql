-- Market data hypertables: stock prices, options quotes (with the Greeks), market events.
-- Column names follow seed 002 so that its documented psql queries run unchanged.
-- Re-ingesting a row with the same key is idempotent: ops_db.market upserts (identical rows
-- change nothing, corrected values replace the old ones); plain INSERTs get a unique violation.
-- Timescale edition: columnstore after 7 days and retention policies from ops_internal.retention.
-- depends: 0004_retention_settings
SET ROLE ops_owner;

-- One price observation of a symbol (a tick, or a source bar with open/high/low).
CREATE TABLE trading.stock_prices (
    symbol text NOT NULL,
    "timestamp" timestamptz NOT NULL,
    open_price numeric(12, 4),
    high_price numeric(12, 4),
    low_price numeric(12, 4),
    close_price numeric(12, 4) NOT NULL,
    volume bigint NOT NULL DEFAULT 0,
    vwap numeric(12, 4),
    market_cap bigint,
    shares_outstanding bigint,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT stock_prices_pkey PRIMARY KEY (symbol, "timestamp"),
    CONSTRAINT stock_prices_symbol_format CHECK (symbol ~ '^[A-Z][A-Z0-9.-]{0,9}$'),
    -- numeric accepts 'NaN' and NaN > 0 is true in PostgreSQL: reject it explicitly.
    CONSTRAINT stock_prices_prices_positive CHECK (
        close_price > 0 AND close_price <> 'NaN'
        AND (open_price IS NULL OR (open_price > 0 AND open_price <> 'NaN'))
        AND (high_price IS NULL OR (high_price > 0 AND high_price <> 'NaN'))
        AND (low_price IS NULL OR (low_price > 0 AND low_price <> 'NaN'))
        AND (vwap IS NULL OR (vwap > 0 AND vwap <> 'NaN'))),
    CONSTRAINT stock_prices_high_low_range CHECK (
        (high_price IS NULL OR high_price >= GREATEST(close_price, COALESCE(open_price, close_price),
                                                      COALESCE(low_price, close_price)))
        AND (low_price IS NULL OR low_price <= LEAST(close_price, COALESCE(open_price, close_price)))),
    CONSTRAINT stock_prices_volume_nonnegative CHECK (volume >= 0),
    CONSTRAINT stock_prices_counts_nonnegative CHECK (
        (market_cap IS NULL OR market_cap >= 0) AND (shares_outstanding IS NULL OR shares_outstanding >= 0))
);
COMMENT ON TABLE trading.stock_prices IS
    'Raw prices (ticks or source bars), 1-day chunks; bars are in stock_prices_1m/_5m/_1h/_1d.';
SELECT create_hypertable('trading.stock_prices', by_range('timestamp', interval '1 day'));

-- One quote of one listed option contract.
CREATE TABLE trading.options_data (
    option_symbol text NOT NULL,
    underlying_symbol text NOT NULL,
    "timestamp" timestamptz NOT NULL,
    expiration_date date NOT NULL,
    strike_price numeric(12, 4) NOT NULL,
    option_type text NOT NULL,
    bid_price numeric(12, 4),
    ask_price numeric(12, 4),
    last_price numeric(12, 4),
    volume bigint NOT NULL DEFAULT 0,
    open_interest bigint NOT NULL DEFAULT 0,
    implied_volatility numeric(10, 6),
    delta numeric(10, 6),
    gamma numeric(12, 6),
    theta numeric(12, 6),
    vega numeric(12, 6),
    rho numeric(12, 6),
    intrinsic_value numeric(12, 4),
    time_value numeric(12, 4),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT options_data_pkey PRIMARY KEY (option_symbol, "timestamp"),
    CONSTRAINT options_data_underlying_format CHECK (underlying_symbol ~ '^[A-Z][A-Z0-9.-]{0,9}$'),
    -- OCC symbology: root (padded or not), YYMMDD, C/P, strike x 1000 in 8 digits.
    CONSTRAINT options_data_option_symbol_format CHECK (option_symbol ~ '^[A-Z][A-Z0-9.]{0,5} *[0-9]{6}[CP][0-9]{8}$'),
    CONSTRAINT options_data_option_type_known CHECK (option_type IN ('CALL', 'PUT')),
    CONSTRAINT options_data_symbol_matches_contract CHECK (
        substring(option_symbol FROM '([CP])[0-9]{8}$') = left(option_type, 1)
        AND substring(option_symbol FROM '[CP]([0-9]{8})$')::numeric / 1000 = strike_price
        AND make_date(2000 + substring(option_symbol FROM '([0-9]{2})[0-9]{4}[CP][0-9]{8}$')::int,
                      substring(option_symbol FROM '([0-9]{2})[0-9]{2}[CP][0-9]{8}$')::int,
                      substring(option_symbol FROM '([0-9]{2})[CP][0-9]{8}$')::int) = expiration_date),
    CONSTRAINT options_data_strike_positive CHECK (strike_price > 0 AND strike_price <> 'NaN'),
    CONSTRAINT options_data_prices_nonnegative CHECK (
        (bid_price IS NULL OR (bid_price >= 0 AND bid_price <> 'NaN'))
        AND (ask_price IS NULL OR (ask_price >= 0 AND ask_price <> 'NaN'))
        AND (last_price IS NULL OR (last_price >= 0 AND last_price <> 'NaN'))
        AND (intrinsic_value IS NULL OR (intrinsic_value >= 0 AND intrinsic_value <> 'NaN'))
        AND (time_value IS NULL OR time_value <> 'NaN')),
    CONSTRAINT options_data_bid_not_above_ask CHECK (bid_price IS NULL OR ask_price IS NULL OR bid_price <= ask_price),
    CONSTRAINT options_data_volume_nonnegative CHECK (volume >= 0 AND open_interest >= 0),
    CONSTRAINT options_data_greeks_sane CHECK (
        (implied_volatility IS NULL OR (implied_volatility >= 0 AND implied_volatility <> 'NaN'))
        AND (delta IS NULL OR (delta BETWEEN -1 AND 1))
        AND (gamma IS NULL OR (gamma >= 0 AND gamma <> 'NaN'))
        AND (theta IS NULL OR theta <> 'NaN')
        AND (vega IS NULL OR (vega >= 0 AND vega <> 'NaN'))
        AND (rho IS NULL OR rho <> 'NaN'))
);
COMMENT ON TABLE trading.options_data IS 'Options quotes with implied volatility and Greeks, 1-day chunks.';
COMMENT ON COLUMN trading.options_data.volume IS 'Contracts traded since the previous quote of this contract.';
SELECT create_hypertable('trading.options_data', by_range('timestamp', interval '1 day'));
-- Options chain: one underlying, an expiry window, strikes in order.
CREATE INDEX options_data_chain_idx
    ON trading.options_data (underlying_symbol, expiration_date, strike_price, "timestamp" DESC);
CREATE INDEX options_data_underlying_time_idx ON trading.options_data (underlying_symbol, "timestamp" DESC);

-- Market events (halts, earnings, news, block trades...), from seed 001's market_events.
CREATE TABLE trading.market_events (
    symbol text NOT NULL,
    "timestamp" timestamptz NOT NULL,
    event_type text NOT NULL,
    price numeric(12, 4),
    volume bigint,
    metadata jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT market_events_pkey PRIMARY KEY (symbol, "timestamp", event_type),
    CONSTRAINT market_events_symbol_format CHECK (symbol ~ '^[A-Z][A-Z0-9.-]{0,9}$'),
    CONSTRAINT market_events_event_type_format CHECK (event_type ~ '^[a-z][a-z0-9_]{0,49}$'),
    CONSTRAINT market_events_price_positive CHECK (price IS NULL OR (price > 0 AND price <> 'NaN')),
    CONSTRAINT market_events_volume_nonnegative CHECK (volume IS NULL OR volume >= 0),
    CONSTRAINT market_events_metadata_object CHECK (jsonb_typeof(metadata) = 'object')
);
COMMENT ON TABLE trading.market_events IS 'Market events with jsonb metadata, 7-day chunks; no retention.';
SELECT create_hypertable('trading.market_events', by_range('timestamp', interval '7 days'));
CREATE INDEX market_events_type_time_idx ON trading.market_events (event_type, "timestamp" DESC);
CREATE INDEX market_events_metadata_idx ON trading.market_events USING gin (metadata jsonb_path_ops);

INSERT INTO ops_internal.retention (hypertable, drop_after, note) VALUES
    ('trading.stock_prices', interval '90 days', 'raw prices; bars in the aggregates are kept'),
    ('trading.options_data', interval '60 days', 'options quotes; options_volume_1h is kept');

DO $edition$
BEGIN
    IF ops_internal.timescaledb_edition() = 'timescale' THEN
        EXECUTE $sql$ALTER TABLE trading.stock_prices SET (timescaledb.compress,
            timescaledb.compress_segmentby = 'symbol', timescaledb.compress_orderby = '"timestamp" DESC')$sql$;
        EXECUTE $sql$ALTER TABLE trading.options_data SET (timescaledb.compress,
            timescaledb.compress_segmentby = 'underlying_symbol',
            timescaledb.compress_orderby = '"timestamp" DESC, option_symbol')$sql$;
        PERFORM add_compression_policy('trading.stock_prices', compress_after => interval '7 days');
        PERFORM add_compression_policy('trading.options_data', compress_after => interval '7 days');
        PERFORM add_retention_policy(r.hypertable::regclass, drop_after => r.drop_after)
           FROM ops_internal.retention r
          WHERE r.hypertable IN ('trading.stock_prices', 'trading.options_data');
    END IF;
END
$edition$;

RESET ROLE;
