-- requires: 0102_market_rollups
-- Rollup refresh, retention and rollup status: what `ops-db maintain` and `ops-db health`
-- run (through ops_db.ops.rollups), callable from psql as well. Run as the owner (ops_owner or a
-- member of it): they rewrite rollup tables, drop chunks and change TimescaleDB jobs.

-- The times the market tables accept: from 2000-01-01 UTC to one day from now. The CHECKs
-- *_timestamp_bounded of migration 0520 spell the same bounds inline (cheaper per row);
-- maintain never rolls up a change outside this window, and the latest price never comes
-- from one, so a row put there past the checks (a superuser) cannot break either.
CREATE OR REPLACE FUNCTION ops_internal.market_time_window() RETURNS tstzrange
    LANGUAGE sql STABLE
    AS $$ SELECT tstzrange('2000-01-01 00:00:00+00', now() + interval '1 day', '[]') $$;

-- apache edition: re-aggregate one rollup's buckets in [p_lo, p_hi), from the raw hypertable
-- (level 1) or from the next finer rollup. The SELECTs mirror the continuous aggregates of
-- migration 0102 exactly; tests check both editions against the same Python aggregation.
CREATE OR REPLACE FUNCTION ops_internal.materialize_rollup(p_name text, p_lo timestamptz, p_hi timestamptz)
    RETURNS bigint
    LANGUAGE plpgsql
    AS $$
DECLARE
    n bigint;
BEGIN
    CASE p_name
    WHEN 'trading.stock_prices_1m' THEN
        DELETE FROM trading.stock_prices_1m WHERE bucket >= p_lo AND bucket < p_hi;
        INSERT INTO trading.stock_prices_1m
            (bucket, symbol, open, high, low, close, volume, turnover, vwap, trade_count)
        SELECT time_bucket(interval '1 minute', "timestamp") AS bucket,
               symbol,
               first(COALESCE(open_price, close_price), "timestamp"),
               max(COALESCE(high_price, close_price)),
               min(COALESCE(low_price, close_price)),
               last(close_price, "timestamp"),
               sum(volume)::bigint,
               sum(COALESCE(vwap, close_price) * volume),
               round(sum(COALESCE(vwap, close_price) * volume) / NULLIF(sum(volume), 0), 6),
               count(*)
          FROM trading.stock_prices
         WHERE "timestamp" >= p_lo AND "timestamp" < p_hi
         GROUP BY 1, 2;
    WHEN 'trading.stock_prices_5m' THEN
        DELETE FROM trading.stock_prices_5m WHERE bucket >= p_lo AND bucket < p_hi;
        INSERT INTO trading.stock_prices_5m
            (bucket, symbol, open, high, low, close, volume, turnover, vwap, trade_count)
        SELECT time_bucket(interval '5 minutes', bucket), symbol, first(open, bucket), max(high), min(low),
               last(close, bucket), sum(volume)::bigint, sum(turnover),
               round(sum(turnover) / NULLIF(sum(volume), 0), 6), sum(trade_count)::bigint
          FROM trading.stock_prices_1m
         WHERE bucket >= p_lo AND bucket < p_hi
         GROUP BY 1, 2;
    WHEN 'trading.stock_prices_1h' THEN
        DELETE FROM trading.stock_prices_1h WHERE bucket >= p_lo AND bucket < p_hi;
        INSERT INTO trading.stock_prices_1h
            (bucket, symbol, open, high, low, close, volume, turnover, vwap, trade_count)
        SELECT time_bucket(interval '1 hour', bucket), symbol, first(open, bucket), max(high), min(low),
               last(close, bucket), sum(volume)::bigint, sum(turnover),
               round(sum(turnover) / NULLIF(sum(volume), 0), 6), sum(trade_count)::bigint
          FROM trading.stock_prices_5m
         WHERE bucket >= p_lo AND bucket < p_hi
         GROUP BY 1, 2;
    WHEN 'trading.stock_prices_1d' THEN
        DELETE FROM trading.stock_prices_1d WHERE bucket >= p_lo AND bucket < p_hi;
        INSERT INTO trading.stock_prices_1d
            (bucket, symbol, open, high, low, close, volume, turnover, vwap, trade_count)
        SELECT time_bucket(interval '1 day', bucket), symbol, first(open, bucket), max(high), min(low),
               last(close, bucket), sum(volume)::bigint, sum(turnover),
               round(sum(turnover) / NULLIF(sum(volume), 0), 6), sum(trade_count)::bigint
          FROM trading.stock_prices_1h
         WHERE bucket >= p_lo AND bucket < p_hi
         GROUP BY 1, 2;
    WHEN 'trading.options_volume_1h' THEN
        DELETE FROM trading.options_volume_1h WHERE bucket >= p_lo AND bucket < p_hi;
        INSERT INTO trading.options_volume_1h
            (bucket, underlying_symbol, call_volume, put_volume, put_call_ratio, avg_implied_volatility, quote_count)
        SELECT time_bucket(interval '1 hour', "timestamp"),
               underlying_symbol,
               COALESCE(sum(volume) FILTER (WHERE option_type = 'CALL'), 0)::bigint,
               COALESCE(sum(volume) FILTER (WHERE option_type = 'PUT'), 0)::bigint,
               round(COALESCE(sum(volume) FILTER (WHERE option_type = 'PUT'), 0)
                     / NULLIF(sum(volume) FILTER (WHERE option_type = 'CALL'), 0), 6),
               round(avg(implied_volatility), 6),
               count(*)
          FROM trading.options_data
         WHERE "timestamp" >= p_lo AND "timestamp" < p_hi
         GROUP BY 1, 2;
    WHEN 'trading.signal_performance_1d' THEN
        DELETE FROM trading.signal_performance_1d WHERE bucket >= p_lo AND bucket < p_hi;
        INSERT INTO trading.signal_performance_1d
            (bucket, symbol, strategy, total_signals, buy_signals, sell_signals, hold_signals, avg_confidence,
             max_confidence, high_confidence_signals)
        SELECT time_bucket(interval '1 day', "timestamp"),
               symbol,
               strategy,
               count(*),
               count(*) FILTER (WHERE signal_type = 'BUY'),
               count(*) FILTER (WHERE signal_type = 'SELL'),
               count(*) FILTER (WHERE signal_type = 'HOLD'),
               round(avg(confidence), 6),
               max(confidence),
               count(*) FILTER (WHERE confidence > 0.8)
          FROM trading.signals
         WHERE "timestamp" >= p_lo AND "timestamp" < p_hi
         GROUP BY 1, 2, 3;
    END CASE;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

-- apache edition: consume the invalidation log and re-aggregate exactly the buckets it covers,
-- finest level first, each coarser level over the buckets its finer level rewrote. Level-1
-- rollups never refresh buckets older than the refresh-policy start (retention minus a day):
-- their raw rows may be gone, and re-aggregating nothing would erase the bars.
-- Changes outside ops_internal.market_time_window() are consumed and skipped: each is reported
-- as a row naming the raw hypertable itself (done false, 0 buckets, its range clamped to what
-- a client can represent), so that a poison row never makes a refresh fail again and again.
-- On the timescale edition refresh policies do this; the function returns nothing there.
CREATE OR REPLACE FUNCTION ops_internal.refresh_rollup_tables(p_dry_run boolean DEFAULT false)
    RETURNS TABLE (target text, range_lo timestamptz, range_hi timestamptz, buckets bigint, done boolean)
    LANGUAGE plpgsql
    AS $$
#variable_conflict use_column
DECLARE
    v_now timestamptz := now();
    src record;
    r record;
    rng tstzrange;
    v_touched tstzmultirange;
    v_prev tstzmultirange;
    v_cur tstzmultirange;
    v_start interval;
    v_floor timestamptz;
    v_buckets bigint;
    v_window tstzmultirange := tstzmultirange(ops_internal.market_time_window());
    v_outside tstzmultirange;
BEGIN
    IF ops_internal.timescaledb_edition() = 'timescale' THEN
        RETURN;
    END IF;
    -- One refresh at a time; a second waits and then finds little to do. A table lock, not an
    -- advisory one: any role may take any advisory lock, and so could stall maintain for good;
    -- EXCLUSIVE on ops_internal.rollup needs a privilege the app and readers do not have, and
    -- does not conflict with their reads (ACCESS SHARE).
    LOCK TABLE ops_internal.rollup IN EXCLUSIVE MODE;
    FOR src IN SELECT DISTINCT raw_hypertable FROM ops_internal.rollup ORDER BY 1 LOOP
        IF p_dry_run THEN
            SELECT range_agg(tstzrange(i.lo, i.hi, '[]')) INTO v_touched
              FROM ops_internal.rollup_invalidation i WHERE i.hypertable = src.raw_hypertable;
        ELSE
            WITH gone AS (
                DELETE FROM ops_internal.rollup_invalidation i WHERE i.hypertable = src.raw_hypertable
                RETURNING i.lo, i.hi
            )
            SELECT range_agg(tstzrange(gone.lo, gone.hi, '[]')) INTO v_touched FROM gone;
        END IF;
        v_outside := v_touched - v_window;
        IF v_outside IS NOT NULL AND NOT isempty(v_outside) THEN
            FOR rng IN SELECT x FROM unnest(v_outside) AS x ORDER BY lower(x) LOOP
                target := src.raw_hypertable;
                range_lo := GREATEST(lower(rng), '0001-01-02 00:00:00+00');
                range_hi := LEAST(upper(rng), '9999-12-30 00:00:00+00');
                buckets := 0;
                done := false;
                RETURN NEXT;
            END LOOP;
        END IF;
        v_prev := v_touched * v_window;
        FOR r IN SELECT * FROM ops_internal.rollup WHERE raw_hypertable = src.raw_hypertable ORDER BY level LOOP
            IF v_prev IS NULL OR isempty(v_prev) THEN
                v_cur := NULL;
            ELSIF r.level = 1 THEN
                v_start := ops_internal.rollup_policy_start_offset(r.name);
                v_floor := CASE WHEN v_start IS NULL THEN '-infinity'::timestamptz
                                ELSE time_bucket(r.bucket_width, v_now - v_start) + r.bucket_width END;
                SELECT range_agg(tstzrange(GREATEST(time_bucket(r.bucket_width, lower(x)), v_floor),
                                           time_bucket(r.bucket_width, upper(x)) + r.bucket_width))
                  INTO v_cur
                  FROM unnest(v_prev) AS x
                 WHERE time_bucket(r.bucket_width, upper(x)) + r.bucket_width > v_floor;
            ELSE
                SELECT range_agg(tstzrange(time_bucket(r.bucket_width, lower(x)),
                                           time_bucket(r.bucket_width, upper(x) - interval '1 microsecond')
                                               + r.bucket_width))
                  INTO v_cur
                  FROM unnest(v_prev) AS x;
            END IF;
            IF v_cur IS NOT NULL AND NOT isempty(v_cur) THEN
                FOR rng IN SELECT x FROM unnest(v_cur) AS x ORDER BY lower(x) LOOP
                    v_buckets := ((extract(epoch FROM upper(rng) - lower(rng)))
                                  / extract(epoch FROM r.bucket_width))::bigint;
                    IF NOT p_dry_run THEN
                        PERFORM ops_internal.materialize_rollup(r.name, lower(rng), upper(rng));
                    END IF;
                    target := r.name;
                    range_lo := lower(rng);
                    range_hi := upper(rng);
                    buckets := v_buckets;
                    done := NOT p_dry_run;
                    RETURN NEXT;
                END LOOP;
            END IF;
            IF NOT p_dry_run THEN
                UPDATE ops_internal.rollup SET refreshed_through = v_now, refreshed_at = clock_timestamp()
                 WHERE name = r.name;
            END IF;
            v_prev := v_cur;
        END LOOP;
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION ops_internal.refresh_rollup_tables(boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION ops_internal.materialize_rollup(text, timestamptz, timestamptz) FROM PUBLIC;

-- Retention per ops_internal.retention. apache: drop chunks older than drop_after.
-- timescale: make the retention policies say what the table says (an operator's UPDATE takes
-- effect here), and keep each refresh policy's window inside its raw data's retention.
CREATE OR REPLACE FUNCTION ops_internal.apply_retention(p_dry_run boolean DEFAULT false)
    RETURNS TABLE (kind text, target text, detail text, done boolean)
    LANGUAGE plpgsql
    AS $$
#variable_conflict use_column
DECLARE
    v_timescale boolean := ops_internal.timescaledb_edition() = 'timescale';
    r record;
    j record;
    v_cutoff timestamptz;
    v_chunks bigint;
    v_start interval;
BEGIN
    -- As in refresh_rollup_tables: a lock no client role can take first.
    LOCK TABLE ops_internal.retention IN EXCLUSIVE MODE;
    FOR r IN
        SELECT ret.hypertable, ret.drop_after, ht.hypertable_name IS NOT NULL AS is_hypertable
          FROM ops_internal.retention ret
          LEFT JOIN timescaledb_information.hypertables ht
            ON ht.hypertable_schema || '.' || ht.hypertable_name = ret.hypertable
         ORDER BY ret.hypertable
    LOOP
        IF NOT r.is_hypertable THEN
            kind := 'retention'; target := r.hypertable; done := false;
            detail := 'skipped: no such hypertable in this database';
            RETURN NEXT;
            CONTINUE;
        END IF;
        IF v_timescale THEN
            SELECT jb.job_id, jb.config INTO j
              FROM timescaledb_information.jobs jb
             WHERE jb.proc_name = 'policy_retention'
               AND jb.hypertable_schema || '.' || jb.hypertable_name = r.hypertable;
            IF j.job_id IS NOT NULL AND (j.config ->> 'drop_after')::interval::text = r.drop_after::text THEN
                CONTINUE;
            END IF;
            IF NOT p_dry_run THEN
                IF j.job_id IS NOT NULL THEN
                    PERFORM alter_job(j.job_id,
                        config => jsonb_set(j.config, '{drop_after}', to_jsonb(r.drop_after::text)));
                ELSE
                    PERFORM add_retention_policy(r.hypertable::regclass, drop_after => r.drop_after);
                END IF;
            END IF;
            kind := 'policy'; target := r.hypertable; done := NOT p_dry_run;
            detail := format('retention policy: drop chunks older than %s%s', r.drop_after,
                             CASE WHEN j.job_id IS NULL THEN ' (new)'
                                  ELSE format(' (was %s)', j.config ->> 'drop_after') END);
            RETURN NEXT;
        ELSE
            v_cutoff := now() - r.drop_after;
            SELECT count(*) INTO v_chunks FROM show_chunks(r.hypertable::regclass, older_than => v_cutoff);
            IF v_chunks > 0 THEN
                IF NOT p_dry_run THEN
                    PERFORM drop_chunks(r.hypertable::regclass, older_than => v_cutoff);
                END IF;
                kind := 'retention'; target := r.hypertable; done := NOT p_dry_run;
                detail := format('%s %s chunk(s) older than %s (%s)', CASE WHEN p_dry_run THEN 'would drop'
                                 ELSE 'dropped' END, v_chunks,
                                 to_char(v_cutoff AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"'), r.drop_after);
                RETURN NEXT;
            END IF;
        END IF;
    END LOOP;
    IF NOT v_timescale THEN
        RETURN;
    END IF;
    -- A retention row deleted by an operator means "keep forever": drop the policy too.
    FOR j IN
        SELECT jb.job_id, jb.hypertable_schema || '.' || jb.hypertable_name AS hypertable
          FROM timescaledb_information.jobs jb
         WHERE jb.proc_name = 'policy_retention' AND jb.hypertable_schema IN ('trading', 'ops_internal')
           AND NOT EXISTS (SELECT FROM ops_internal.retention ret
                            WHERE ret.hypertable = jb.hypertable_schema || '.' || jb.hypertable_name)
    LOOP
        IF NOT p_dry_run THEN
            PERFORM remove_retention_policy(j.hypertable::regclass);
        END IF;
        kind := 'policy'; target := j.hypertable; done := NOT p_dry_run;
        detail := 'retention policy removed: no row in ops_internal.retention';
        RETURN NEXT;
    END LOOP;
    FOR r IN SELECT ru.name FROM ops_internal.rollup ru ORDER BY ru.level, ru.name LOOP
        v_start := ops_internal.rollup_policy_start_offset(r.name);
        SELECT jb.job_id, jb.config INTO j
          FROM timescaledb_information.jobs jb
         WHERE jb.proc_name = 'policy_refresh_continuous_aggregate'
           AND jb.hypertable_schema || '.' || jb.hypertable_name = r.name;
        IF j.job_id IS NULL OR (j.config ->> 'start_offset')::interval::text IS NOT DISTINCT FROM v_start::text THEN
            CONTINUE;
        END IF;
        IF NOT p_dry_run THEN
            PERFORM alter_job(j.job_id, config => jsonb_set(j.config, '{start_offset}', to_jsonb(v_start::text)));
        END IF;
        kind := 'policy'; target := r.name; done := NOT p_dry_run;
        detail := format('refresh window now starts %s back (was %s), inside retention',
                         v_start, j.config ->> 'start_offset');
        RETURN NEXT;
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION ops_internal.apply_retention(boolean) FROM PUBLIC;

-- How current each rollup is: the continuous aggregate's watermark, or (apache) the time of
-- the last refresh; NULL when never refreshed.
CREATE OR REPLACE FUNCTION ops_internal.rollup_status()
    RETURNS TABLE (name text, kind text, refreshed_through timestamptz, lag interval)
    LANGUAGE plpgsql STABLE
    AS $$
#variable_conflict use_column
BEGIN
    IF ops_internal.timescaledb_edition() = 'timescale' THEN
        RETURN QUERY
            SELECT r.name, 'continuous aggregate'::text, w.through, now() - w.through
              FROM ops_internal.rollup r
              JOIN _timescaledb_catalog.continuous_agg ca
                ON ca.user_view_schema || '.' || ca.user_view_name = r.name
             CROSS JOIN LATERAL (
                SELECT CASE WHEN wm.v <= -210866803200000000 THEN NULL
                            ELSE _timescaledb_functions.to_timestamp(wm.v) END AS through
                  FROM (SELECT _timescaledb_functions.cagg_watermark(ca.mat_hypertable_id) AS v) wm
             ) w
             ORDER BY r.level, r.name;
    ELSE
        RETURN QUERY
            SELECT r.name, 'rollup table'::text, r.refreshed_through, now() - r.refreshed_through
              FROM ops_internal.rollup r
             ORDER BY r.level, r.name;
    END IF;
END
$$;

-- @drop
DROP FUNCTION IF EXISTS ops_internal.market_time_window();
DROP FUNCTION IF EXISTS ops_internal.rollup_status();
DROP FUNCTION IF EXISTS ops_internal.apply_retention(boolean);
DROP FUNCTION IF EXISTS ops_internal.refresh_rollup_tables(boolean);
DROP FUNCTION IF EXISTS ops_internal.materialize_rollup(text, timestamptz, timestamptz);
