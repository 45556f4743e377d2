-- Rollups: OHLCV bars trading.stock_prices_1m/_5m/_1h/_1d (5m from 1m, 1h from 5m, 1d from 1h),
-- trading.options_volume_1h and trading.signal_performance_1d.
--   timescale edition: hierarchical continuous aggregates, real-time aggregation on, refresh
--     policies whose windows end one day short of the raw table's retention, so a refresh
--     never runs over dropped raw data (which would erase bars).
--   apache edition: tables with the same names and columns, kept by `ops-db maintain`
--     (ops_db.rollups.refresh_rollups). Triggers on the raw hypertables log the time range each
--     statement touched (inserts, updates, deletes, late data included) into
--     ops_internal.rollup_invalidation; a refresh re-aggregates only the buckets those ranges cover.
-- Columns: volume and trade_count are bigint; turnover is sum(price * volume), kept so that
-- coarser bars compute vwap = turnover / volume exactly from finer ones.
-- depends: 0101_signals_system_events
SET ROLE ops_owner;

CREATE TABLE ops_internal.rollup (
    name text PRIMARY KEY,
    source text NOT NULL,
    raw_hypertable text NOT NULL,
    bucket_width interval NOT NULL,
    level int NOT NULL,
    policy_end_offset interval NOT NULL,
    policy_schedule interval NOT NULL,
    refreshed_through timestamptz,
    refreshed_at timestamptz,
    CONSTRAINT rollup_level_positive CHECK (level >= 1)
);
COMMENT ON TABLE ops_internal.rollup IS
    'The rollups, what each is built from, and (apache edition) how far each has been refreshed.';
COMMENT ON COLUMN ops_internal.rollup.refreshed_through IS
    'apache edition: every change to the raw data before this time is in the rollup.';

INSERT INTO ops_internal.rollup
    (name, source, raw_hypertable, bucket_width, level, policy_end_offset, policy_schedule) VALUES
    ('trading.stock_prices_1m', 'trading.stock_prices', 'trading.stock_prices', '1 minute', 1, '1 minute', '1 minute'),
    ('trading.stock_prices_5m', 'trading.stock_prices_1m', 'trading.stock_prices', '5 minutes', 2, '5 minutes',
     '5 minutes'),
    ('trading.stock_prices_1h', 'trading.stock_prices_5m', 'trading.stock_prices', '1 hour', 3, '1 hour', '15 minutes'),
    ('trading.stock_prices_1d', 'trading.stock_prices_1h', 'trading.stock_prices', '1 day', 4, '1 day', '1 hour'),
    ('trading.options_volume_1h', 'trading.options_data', 'trading.options_data', '1 hour', 1, '1 hour', '15 minutes'),
    ('trading.signal_performance_1d', 'trading.signals', 'trading.signals', '1 day', 1, '1 day', '1 hour');

-- How far back a refresh policy may reach: one day short of the raw data's retention.
CREATE FUNCTION ops_internal.rollup_policy_start_offset(p_rollup text) RETURNS interval
    LANGUAGE sql STABLE
    AS $$
        SELECT ret.drop_after - interval '1 day'
          FROM ops_internal.rollup r
          LEFT JOIN ops_internal.retention ret ON ret.hypertable = r.raw_hypertable
         WHERE r.name = p_rollup
    $$;

-- apache edition: which time ranges of a raw hypertable changed since the last refresh.
CREATE TABLE ops_internal.rollup_invalidation (
    hypertable text NOT NULL,
    lo timestamptz NOT NULL,
    hi timestamptz NOT NULL,
    logged_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT rollup_invalidation_range CHECK (lo <= hi)
);
CREATE INDEX rollup_invalidation_hypertable_idx ON ops_internal.rollup_invalidation (hypertable);
COMMENT ON TABLE ops_internal.rollup_invalidation IS
    'apache edition: time ranges touched in a raw hypertable, consumed by ops-db maintain.';

-- Row trigger: widen this transaction's [lo, hi] for the table (custom settings, local to the
-- transaction, cost a few microseconds a row); the statement trigger writes one log row.
-- TG_ARGV[0] is the hypertable (row triggers fire on chunks), TG_ARGV[1] a settings key.
CREATE FUNCTION ops_internal.rollup_track_row() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    lo_key text := 'ops_db.inval_lo_' || TG_ARGV[1];
    hi_key text := 'ops_db.inval_hi_' || TG_ARGV[1];
    lo text := current_setting(lo_key, true);
    hi text := current_setting(hi_key, true);
    t_min timestamptz;
    t_max timestamptz;
BEGIN
    IF TG_OP = 'INSERT' THEN
        t_min := NEW."timestamp";
        t_max := NEW."timestamp";
    ELSIF TG_OP = 'DELETE' THEN
        t_min := OLD."timestamp";
        t_max := OLD."timestamp";
    ELSE
        t_min := LEAST(OLD."timestamp", NEW."timestamp");
        t_max := GREATEST(OLD."timestamp", NEW."timestamp");
    END IF;
    IF lo IS NULL OR lo = '' OR t_min < lo::timestamptz THEN
        PERFORM set_config(lo_key, t_min::text, true);
    END IF;
    IF hi IS NULL OR hi = '' OR t_max > hi::timestamptz THEN
        PERFORM set_config(hi_key, t_max::text, true);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION ops_internal.rollup_flush_statement() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    lo_key text := 'ops_db.inval_lo_' || TG_ARGV[1];
    hi_key text := 'ops_db.inval_hi_' || TG_ARGV[1];
    lo text := current_setting(lo_key, true);
BEGIN
    IF lo IS NOT NULL AND lo <> '' THEN
        INSERT INTO ops_internal.rollup_invalidation (hypertable, lo, hi)
        VALUES (TG_ARGV[0], lo::timestamptz, current_setting(hi_key)::timestamptz);
        PERFORM set_config(lo_key, '', true);
        PERFORM set_config(hi_key, '', true);
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION ops_internal.rollup_flush_statement() FROM PUBLIC;

DO $edition$
DECLARE
    ht record;
BEGIN
    IF ops_internal.timescaledb_edition() = 'timescale' THEN
        EXECUTE $sql$
            CREATE MATERIALIZED VIEW trading.stock_prices_1m
            WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
            SELECT time_bucket(interval '1 minute', "timestamp") AS bucket,
                   symbol,
                   first(COALESCE(open_price, close_price), "timestamp") AS open,
                   max(COALESCE(high_price, close_price)) AS high,
                   min(COALESCE(low_price, close_price)) AS low,
                   last(close_price, "timestamp") AS close,
                   sum(volume)::bigint AS volume,
                   sum(COALESCE(vwap, close_price) * volume) AS turnover,
                   round(sum(COALESCE(vwap, close_price) * volume) / NULLIF(sum(volume), 0), 6) AS vwap,
                   count(*) AS trade_count
              FROM trading.stock_prices
             GROUP BY 1, 2
            WITH NO DATA$sql$;
        EXECUTE $sql$
            CREATE MATERIALIZED VIEW trading.stock_prices_5m
            WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
            SELECT time_bucket(interval '5 minutes', bucket) AS bucket,
                   symbol,
                   first(open, bucket) AS open,
                   max(high) AS high,
                   min(low) AS low,
                   last(close, bucket) AS close,
                   sum(volume)::bigint AS volume,
                   sum(turnover) AS turnover,
                   round(sum(turnover) / NULLIF(sum(volume), 0), 6) AS vwap,
                   sum(trade_count)::bigint AS trade_count
              FROM trading.stock_prices_1m
             GROUP BY 1, 2
            WITH NO DATA$sql$;
        EXECUTE $sql$
            CREATE MATERIALIZED VIEW trading.stock_prices_1h
            WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
            SELECT time_bucket(interval '1 hour', bucket) AS bucket,
                   symbol,
                   first(open, bucket) AS open,
                   max(high) AS high,
                   min(low) AS low,
                   last(close, bucket) AS close,
                   sum(volume)::bigint AS volume,
                   sum(turnover) AS turnover,
                   round(sum(turnover) / NULLIF(sum(volume), 0), 6) AS vwap,
                   sum(trade_count)::bigint AS trade_count
              FROM trading.stock_prices_5m
             GROUP BY 1, 2
            WITH NO DATA$sql$;
        EXECUTE $sql$
            CREATE MATERIALIZED VIEW trading.stock_prices_1d
            WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
            SELECT time_bucket(interval '1 day', bucket) AS bucket,
                   symbol,
                   first(open, bucket) AS open,
                   max(high) AS high,
                   min(low) AS low,
                   last(close, bucket) AS close,
                   sum(volume)::bigint AS volume,
                   sum(turnover) AS turnover,
                   round(sum(turnover) / NULLIF(sum(volume), 0), 6) AS vwap,
                   sum(trade_count)::bigint AS trade_count
              FROM trading.stock_prices_1h
             GROUP BY 1, 2
            WITH NO DATA$sql$;
        EXECUTE $sql$
            CREATE MATERIALIZED VIEW trading.options_volume_1h
            WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
            SELECT time_bucket(interval '1 hour', "timestamp") AS bucket,
                   underlying_symbol,
                   COALESCE(sum(volume) FILTER (WHERE option_type = 'CALL'), 0)::bigint AS call_volume,
                   COALESCE(sum(volume) FILTER (WHERE option_type = 'PUT'), 0)::bigint AS put_volume,
                   round(COALESCE(sum(volume) FILTER (WHERE option_type = 'PUT'), 0)
                         / NULLIF(sum(volume) FILTER (WHERE option_type = 'CALL'), 0), 6) AS put_call_ratio,
                   round(avg(implied_volatility), 6) AS avg_implied_volatility,
                   count(*) AS quote_count
              FROM trading.options_data
             GROUP BY 1, 2
            WITH NO DATA$sql$;
        EXECUTE $sql$
            CREATE MATERIALIZED VIEW trading.signal_performance_1d
            WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
            SELECT time_bucket(interval '1 day', "timestamp") AS bucket,
                   symbol,
                   strategy,
                   count(*) AS total_signals,
                   count(*) FILTER (WHERE signal_type = 'BUY') AS buy_signals,
                   count(*) FILTER (WHERE signal_type = 'SELL') AS sell_signals,
                   count(*) FILTER (WHERE signal_type = 'HOLD') AS hold_signals,
                   round(avg(confidence), 6) AS avg_confidence,
                   max(confidence) AS max_confidence,
                   count(*) FILTER (WHERE confidence > 0.8) AS high_confidence_signals
              FROM trading.signals
             GROUP BY 1, 2, 3
            WITH NO DATA$sql$;
        FOR ht IN SELECT * FROM ops_internal.rollup ORDER BY level, name LOOP
            PERFORM add_continuous_aggregate_policy(ht.name::regclass,
                start_offset => ops_internal.rollup_policy_start_offset(ht.name),
                end_offset => ht.policy_end_offset,
                schedule_interval => ht.policy_schedule);
        END LOOP;
    ELSE
        CREATE TABLE trading.stock_prices_1m (
            bucket timestamptz NOT NULL,
            symbol text NOT NULL,
            open numeric,
            high numeric,
            low numeric,
            close numeric,
            volume bigint,
            turnover numeric,
            vwap numeric,
            trade_count bigint,
            CONSTRAINT stock_prices_1m_pkey PRIMARY KEY (symbol, bucket)
        );
        CREATE TABLE trading.stock_prices_5m (LIKE trading.stock_prices_1m,
            CONSTRAINT stock_prices_5m_pkey PRIMARY KEY (symbol, bucket));
        CREATE TABLE trading.stock_prices_1h (LIKE trading.stock_prices_1m,
            CONSTRAINT stock_prices_1h_pkey PRIMARY KEY (symbol, bucket));
        CREATE TABLE trading.stock_prices_1d (LIKE trading.stock_prices_1m,
            CONSTRAINT stock_prices_1d_pkey PRIMARY KEY (symbol, bucket));
        CREATE INDEX stock_prices_1m_bucket_idx ON trading.stock_prices_1m (bucket DESC);
        CREATE INDEX stock_prices_5m_bucket_idx ON trading.stock_prices_5m (bucket DESC);
        CREATE INDEX stock_prices_1h_bucket_idx ON trading.stock_prices_1h (bucket DESC);
        CREATE INDEX stock_prices_1d_bucket_idx ON trading.stock_prices_1d (bucket DESC);
        CREATE TABLE trading.options_volume_1h (
            bucket timestamptz NOT NULL,
            underlying_symbol text NOT NULL,
            call_volume bigint,
            put_volume bigint,
            put_call_ratio numeric,
            avg_implied_volatility numeric,
            quote_count bigint,
            CONSTRAINT options_volume_1h_pkey PRIMARY KEY (underlying_symbol, bucket)
        );
        CREATE TABLE trading.signal_performance_1d (
            bucket timestamptz NOT NULL,
            symbol text NOT NULL,
            strategy text,
            total_signals bigint,
            buy_signals bigint,
            sell_signals bigint,
            hold_signals bigint,
            avg_confidence numeric,
            max_confidence numeric,
            high_confidence_signals bigint,
            CONSTRAINT signal_performance_1d_key UNIQUE NULLS NOT DISTINCT (symbol, strategy, bucket)
        );
        -- Only ops-db maintain (as the owner) writes the rollup tables.
        REVOKE INSERT, UPDATE, DELETE ON trading.stock_prices_1m, trading.stock_prices_5m, trading.stock_prices_1h,
            trading.stock_prices_1d, trading.options_volume_1h, trading.signal_performance_1d FROM ops_app;
        FOR ht IN SELECT DISTINCT raw_hypertable, split_part(raw_hypertable, '.', 2) AS key
                    FROM ops_internal.rollup LOOP
            EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %s '
                           'FOR EACH ROW EXECUTE FUNCTION ops_internal.rollup_track_row(%L, %L)',
                           ht.key || '_rollup_track', ht.raw_hypertable, ht.raw_hypertable, ht.key);
            EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %s '
                           'FOR EACH STATEMENT EXECUTE FUNCTION ops_internal.rollup_flush_statement(%L, %L)',
                           ht.key || '_rollup_flush', ht.raw_hypertable, ht.raw_hypertable, ht.key);
        END LOOP;
    END IF;
END
$edition$;

RESET ROLE;
