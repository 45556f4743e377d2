-- The ops-db schema, generated from a freshly migrated database (TimescaleDB apache edition) by
-- `python -m tests.schema_sql --regenerate` (`make docs`); tests/test_schema_sql.py fails when the
-- migrations and this file disagree. Documentation, not a migration: build a database with
-- `ops-db migrate`. pg_dump --schema-only without SET lines, owners and TimescaleDB's catalog;
-- on the timescale edition the rollups (*_1m .. *_1d, options_volume_1h, signal_performance_1d)
-- are continuous aggregates instead of tables.

-- Roles (cluster-wide; created by the migrations, shown as the server has them):
-- CREATE ROLE ops_app NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB NOLOGIN NOREPLICATION NOBYPASSRLS;
-- CREATE ROLE ops_owner NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION NOBYPASSRLS;
-- CREATE ROLE ops_readonly NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB NOLOGIN NOREPLICATION NOBYPASSRLS;
-- CREATE ROLE ops_risk NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB NOLOGIN NOREPLICATION NOBYPASSRLS;
-- GRANT ops_readonly TO ops_risk;

-- Hypertables (TimescaleDB; pg_dump shows them as plain tables):
-- SELECT create_hypertable('ops_internal.system_events_critical', by_range('timestamp', INTERVAL '30 days'));
-- SELECT create_hypertable('ops_internal.system_events_routine', by_range('timestamp', INTERVAL '1 day'));
-- SELECT create_hypertable('trading.agent_decisions', by_range('decided_at', INTERVAL '7 days'));
-- SELECT create_hypertable('trading.data_quality', by_range('checked_at', INTERVAL '1 day'));
-- SELECT create_hypertable('trading.market_events', by_range('timestamp', INTERVAL '7 days'));
-- SELECT create_hypertable('trading.options_data', by_range('timestamp', INTERVAL '1 day'));
-- SELECT create_hypertable('trading.order_events', by_range('occurred_at', INTERVAL '7 days'));
-- SELECT create_hypertable('trading.performance_metrics', by_range('recorded_at', INTERVAL '7 days'));
-- SELECT create_hypertable('trading.portfolio_snapshots', by_range('snapshot_at', INTERVAL '7 days'));
-- SELECT create_hypertable('trading.signals', by_range('timestamp', INTERVAL '1 day'));
-- SELECT create_hypertable('trading.stock_prices', by_range('timestamp', INTERVAL '1 day'));
-- SELECT create_hypertable('trading.system_health', by_range('checked_at', INTERVAL '1 day'));

-- EXTENSION timescaledb

CREATE EXTENSION IF NOT EXISTS timescaledb WITH SCHEMA public;

-- SCHEMA ops_internal

CREATE SCHEMA ops_internal;

COMMENT ON SCHEMA ops_internal IS 'ops-db internals operators read: retention periods, rollup bookkeeping, maintenance runs, the routed system event tables.';

-- SCHEMA trading

CREATE SCHEMA trading;

COMMENT ON SCHEMA trading IS 'What the desk queries: market data, signals, orders, fills, positions, risk and monitoring. Times are instants (timestamptz, shown in the session TimeZone; buckets aligned in UTC); prices and money in the instrument''s currency; quantities in shares or contracts.';

-- FUNCTION ops_internal.apply_retention(boolean)

CREATE FUNCTION ops_internal.apply_retention(p_dry_run boolean DEFAULT false) RETURNS TABLE(kind text, target text, detail text, done boolean)
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

COMMENT ON FUNCTION ops_internal.apply_retention(p_dry_run boolean) IS 'Apply ops_internal.retention: drop old chunks (apache) or align retention and refresh policies (timescale); p_dry_run only reports. Owner only.';

-- FUNCTION ops_internal.current_actor()

CREATE FUNCTION ops_internal.current_actor() RETURNS text
    LANGUAGE sql STABLE
    AS $$ SELECT session_user::text $$;

COMMENT ON FUNCTION ops_internal.current_actor() IS 'The authenticated login role (session_user): what the database records when no validated actor is given.';

-- FUNCTION ops_internal.executions_apply_fill()

CREATE FUNCTION ops_internal.executions_apply_fill() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    o trading.staged_orders;
    p trading.positions;
    signed_qty numeric;
    new_filled numeric;
    closing numeric;
    remaining numeric;
    costs numeric;
BEGIN
    -- Bad numbers: leave the refusal to the table's named constraints, which say what is wrong.
    IF NOT coalesce(NEW.quantity > 0 AND NEW.quantity <= 1e9 AND NEW.price > 0 AND NEW.price <= 1e9, false)
       OR NEW.recorded_by IS NULL OR NEW.recorded_by !~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$' THEN
        RETURN NEW;
    END IF;
    SELECT * INTO o FROM trading.staged_orders WHERE id = NEW.order_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no order with id %', NEW.order_id USING ERRCODE = 'OPS05';
    END IF;
    IF o.status NOT IN ('submitted', 'partially_filled') THEN
        RAISE EXCEPTION 'order % is %: fills are recorded only for submitted orders', o.id, o.status
            USING ERRCODE = 'OPS01';
    END IF;
    new_filled := o.filled_quantity + NEW.quantity;
    IF new_filled > o.quantity THEN
        RAISE EXCEPTION 'a fill of % would take order % to % of %: overfill refused',
            NEW.quantity, o.id, new_filled, o.quantity
            USING ERRCODE = 'OPS02';
    END IF;

    -- One fill at a time per symbol, after the order lock (always in this order: no deadlock);
    -- every statement below takes a new snapshot, so it sees the fills committed before.
    PERFORM ops_internal.lock_symbol(o.symbol);
    NEW.sequenced_at := clock_timestamp();
    NEW.symbol := o.symbol;
    NEW.side := o.side;
    NEW.created_at := now();
    costs := coalesce(NEW.commission, 0) + coalesce(NEW.fees, 0);

    INSERT INTO ops_internal.order_change_context (xid, order_id, kind, actor, details)
    VALUES (pg_current_xact_id(), o.id, 'fill', NEW.recorded_by, jsonb_build_object(
        'execution_id', NEW.id, 'fill_quantity', NEW.quantity, 'fill_price', NEW.price,
        'broker_trade_id', NEW.broker_trade_id));
    UPDATE trading.staged_orders
       SET filled_quantity = new_filled,
           avg_fill_price = round((coalesce(avg_fill_price, 0) * filled_quantity + NEW.quantity * NEW.price)
                                  / new_filled, 10),
           status = CASE WHEN new_filled = quantity THEN 'filled' ELSE 'partially_filled' END,
           executed_at = CASE WHEN new_filled = quantity THEN NEW.executed_at ELSE executed_at END
     WHERE id = o.id;
    DELETE FROM ops_internal.order_change_context WHERE xid = pg_current_xact_id() AND order_id = o.id;

    -- The position: average cost; reductions realize (price - avg_cost) per unit closed.
    signed_qty := CASE o.side WHEN 'buy' THEN NEW.quantity ELSE -NEW.quantity END;
    NEW.realized_pnl := 0;
    SELECT * INTO p FROM trading.positions WHERE symbol = o.symbol AND status = 'open' FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO trading.positions (symbol, quantity, avg_cost, fees, opened_at)
        VALUES (o.symbol, signed_qty, NEW.price, costs, NEW.executed_at)
        RETURNING * INTO p;
        NEW.position_id := p.id;
        RETURN NEW;
    END IF;
    NEW.position_id := p.id;

    IF sign(signed_qty) = sign(p.quantity) THEN
        UPDATE trading.positions
           SET avg_cost = round((abs(quantity) * avg_cost + NEW.quantity * NEW.price)
                                / (abs(quantity) + NEW.quantity), 10),
               quantity = quantity + signed_qty,
               fees = fees + costs,
               updated_at = now()
         WHERE id = p.id;
        RETURN NEW;
    END IF;

    closing := least(NEW.quantity, abs(p.quantity));
    NEW.realized_pnl := closing * (NEW.price - p.avg_cost) * sign(p.quantity);
    remaining := p.quantity + signed_qty;
    IF remaining <> 0 AND sign(remaining) = sign(p.quantity) THEN
        UPDATE trading.positions
           SET quantity = remaining,
               realized_pnl = realized_pnl + NEW.realized_pnl,
               fees = fees + costs,
               updated_at = now()
         WHERE id = p.id;
        RETURN NEW;
    END IF;

    -- Back to zero: the position closes. Past zero: the rest opens a new one at the fill price.
    UPDATE trading.positions
       SET quantity = 0,
           status = 'closed',
           realized_pnl = realized_pnl + NEW.realized_pnl,
           fees = fees + costs,
           closed_at = NEW.executed_at,
           close_price = NEW.price,
           close_reason = CASE WHEN remaining = 0 THEN 'flat' ELSE 'flipped' END,
           updated_at = now()
     WHERE id = p.id;
    IF remaining <> 0 THEN
        INSERT INTO trading.positions (symbol, quantity, avg_cost, opened_at)
        VALUES (o.symbol, remaining, NEW.price, NEW.executed_at);
    END IF;
    RETURN NEW;
END
$_$;

COMMENT ON FUNCTION ops_internal.executions_apply_fill() IS 'Trigger on trading.executions (before insert): moves the order and the symbol''s position in the same statement, one fill of a symbol at a time.';

-- FUNCTION ops_internal.kill_switch_hold()

CREATE FUNCTION ops_internal.kill_switch_hold() RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    halted boolean;
BEGIN
    SELECT active INTO halted FROM trading.kill_switch_state FOR SHARE;
    RETURN coalesce(halted, false);
END
$$;

COMMENT ON FUNCTION ops_internal.kill_switch_hold() IS 'Internal to the order guard: reads the kill switch FOR SHARE, so a halt waits for orders in flight.';

-- FUNCTION ops_internal.lock_symbol(text)

CREATE FUNCTION ops_internal.lock_symbol(p_symbol text) RETURNS void
    LANGUAGE sql
    AS $$ SELECT pg_advisory_xact_lock(1869640560, hashtext(p_symbol)) $$;

COMMENT ON FUNCTION ops_internal.lock_symbol(p_symbol text) IS 'Internal: the per-symbol transaction lock that fills and position closes take, so they apply one at a time.';

-- FUNCTION ops_internal.market_time_window()

CREATE FUNCTION ops_internal.market_time_window() RETURNS tstzrange
    LANGUAGE sql STABLE
    AS $$ SELECT tstzrange('2000-01-01 00:00:00+00', now() + interval '1 day', '[]') $$;

COMMENT ON FUNCTION ops_internal.market_time_window() IS 'The times market data may carry: from 2000-01-01 to one day ahead of now; rollups refresh only inside it.';

-- FUNCTION ops_internal.materialize_rollup(text, timestamp with time zone, timestamp with time zone)

CREATE FUNCTION ops_internal.materialize_rollup(p_name text, p_lo timestamp with time zone, p_hi timestamp with time zone) RETURNS bigint
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

COMMENT ON FUNCTION ops_internal.materialize_rollup(p_name text, p_lo timestamp with time zone, p_hi timestamp with time zone) IS 'apache edition: re-aggregate the rollup p_name''s buckets in [p_lo, p_hi) from its source; returns the rows written. Owner only.';

-- TABLE ops_internal.order_change_context

CREATE TABLE ops_internal.order_change_context (
    xid xid8 NOT NULL,
    order_id bigint NOT NULL,
    kind text NOT NULL,
    actor text NOT NULL,
    details jsonb DEFAULT '{}'::jsonb NOT NULL,
    CONSTRAINT order_change_context_actor_valid CHECK ((actor ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$'::text)),
    CONSTRAINT order_change_context_kind_valid CHECK ((kind = ANY (ARRAY['transition'::text, 'fill'::text])))
);

COMMENT ON TABLE ops_internal.order_change_context IS 'Transient: who acts in the order change an owner function is making; empty between statements.';

-- FUNCTION ops_internal.order_change_context(bigint)

CREATE FUNCTION ops_internal.order_change_context(p_order_id bigint) RETURNS ops_internal.order_change_context
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
        SELECT * FROM ops_internal.order_change_context WHERE xid = pg_current_xact_id() AND order_id = p_order_id
    $$;

COMMENT ON FUNCTION ops_internal.order_change_context(p_order_id bigint) IS 'Internal: who acts in the order change an owner function is making (read by the audit trigger).';

-- FUNCTION ops_internal.order_events_append_only()

CREATE FUNCTION ops_internal.order_events_append_only() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    RAISE EXCEPTION 'the order audit trail is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

COMMENT ON FUNCTION ops_internal.order_events_append_only() IS 'Trigger on trading.order_events: refuses UPDATE, DELETE and TRUNCATE of the audit trail for every role but a superuser.';

-- FUNCTION ops_internal.refresh_rollup_tables(boolean)

CREATE FUNCTION ops_internal.refresh_rollup_tables(p_dry_run boolean DEFAULT false) RETURNS TABLE(target text, range_lo timestamp with time zone, range_hi timestamp with time zone, buckets bigint, done boolean)
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

COMMENT ON FUNCTION ops_internal.refresh_rollup_tables(p_dry_run boolean) IS 'apache edition: refresh every rollup over the ranges logged in rollup_invalidation (what ops-db maintain runs); nothing on timescale. Owner only.';

-- FUNCTION ops_internal.replay_lag()

CREATE FUNCTION ops_internal.replay_lag() RETURNS double precision
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
        SELECT CASE
            WHEN NOT pg_is_in_recovery() THEN 0::float8
            WHEN coalesce((SELECT coalesce(status, 'streaming') = 'streaming' FROM pg_stat_wal_receiver), false)
                 AND pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0::float8
            ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8
        END
    $$;

COMMENT ON FUNCTION ops_internal.replay_lag() IS 'Seconds this server''s data is behind its primary: 0 on a primary or a streaming, caught-up standby.';

-- FUNCTION ops_internal.rollup_log_changes()

CREATE FUNCTION ops_internal.rollup_log_changes() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_lo timestamptz;
    v_hi timestamptz;
    v_old_lo timestamptz;
    v_old_hi timestamptz;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT min(n."timestamp"), max(n."timestamp") INTO v_lo, v_hi FROM new_rows n;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT min(o."timestamp"), max(o."timestamp") INTO v_lo, v_hi FROM old_rows o;
    ELSE
        SELECT min(n."timestamp"), max(n."timestamp") INTO v_lo, v_hi FROM new_rows n;
        SELECT min(o."timestamp"), max(o."timestamp") INTO v_old_lo, v_old_hi FROM old_rows o;
        v_lo := LEAST(v_lo, v_old_lo);
        v_hi := GREATEST(v_hi, v_old_hi);
    END IF;
    IF v_lo IS NOT NULL THEN
        INSERT INTO ops_internal.rollup_invalidation (hypertable, lo, hi) VALUES (TG_ARGV[0], v_lo, v_hi);
    END IF;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION ops_internal.rollup_log_changes() IS 'Trigger (apache edition): logs the time range of the rows a statement wrote (its transition tables) into ops_internal.rollup_invalidation.';

-- FUNCTION ops_internal.rollup_policy_start_offset(text)

CREATE FUNCTION ops_internal.rollup_policy_start_offset(p_rollup text) RETURNS interval
    LANGUAGE sql STABLE
    AS $$
        SELECT ret.drop_after - interval '1 day'
          FROM ops_internal.rollup r
          LEFT JOIN ops_internal.retention ret ON ret.hypertable = r.raw_hypertable
         WHERE r.name = p_rollup
    $$;

COMMENT ON FUNCTION ops_internal.rollup_policy_start_offset(p_rollup text) IS 'How far back a refresh of this rollup may reach: its raw data''s retention minus one day (NULL: no retention).';

-- FUNCTION ops_internal.rollup_status()

CREATE FUNCTION ops_internal.rollup_status() RETURNS TABLE(name text, kind text, refreshed_through timestamp with time zone, lag interval)
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

COMMENT ON FUNCTION ops_internal.rollup_status() IS 'How current each rollup is: refreshed through when (continuous aggregate watermark or last refresh), and the lag behind now().';

-- FUNCTION ops_internal.route_system_event()

CREATE FUNCTION ops_internal.route_system_event() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    NEW.severity := upper(NEW.severity);
    IF NEW.severity IS NULL OR NEW.severity NOT IN ('DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL', 'EMERGENCY') THEN
        RAISE EXCEPTION 'unknown severity %: use DEBUG, INFO, WARNING, ERROR, CRITICAL or EMERGENCY', NEW.severity
            USING ERRCODE = 'OPS04';
    END IF;
    NEW.id := COALESCE(NEW.id, nextval('ops_internal.system_events_id_seq'));
    NEW."timestamp" := COALESCE(NEW."timestamp", now());
    NEW.details := COALESCE(NEW.details, '{}');
    NEW.created_at := COALESCE(NEW.created_at, now());
    IF NEW.severity IN ('CRITICAL', 'EMERGENCY') THEN
        INSERT INTO ops_internal.system_events_critical
            (id, "timestamp", severity, component, event_type, message, details, created_at)
        VALUES (NEW.id, NEW."timestamp", NEW.severity, NEW.component, NEW.event_type, NEW.message, NEW.details,
                NEW.created_at);
    ELSE
        INSERT INTO ops_internal.system_events_routine
            (id, "timestamp", severity, component, event_type, message, details, created_at)
        VALUES (NEW.id, NEW."timestamp", NEW.severity, NEW.component, NEW.event_type, NEW.message, NEW.details,
                NEW.created_at);
    END IF;
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION ops_internal.route_system_event() IS 'Trigger: routes an INSERT into trading.system_events to the routine or critical table by severity.';

-- FUNCTION ops_internal.staged_orders_audit()

CREATE FUNCTION ops_internal.staged_orders_audit() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    changed jsonb := '{}';
    extra jsonb := '{}';
    claim ops_internal.order_change_context;
    who text;
    kind text;
    event_id bigint;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        SELECT coalesce(jsonb_object_agg(n.key, n.value), '{}') INTO changed
        FROM jsonb_each(to_jsonb(NEW)) n
        JOIN jsonb_each(to_jsonb(OLD)) o USING (key)
        WHERE n.value IS DISTINCT FROM o.value AND n.key NOT IN ('updated_at');
        IF changed = '{}' THEN
            RETURN NULL;  -- nothing changed: nothing to record
        END IF;
        SELECT * INTO claim FROM ops_internal.order_change_context
         WHERE xid = pg_current_xact_id() AND order_id = NEW.id;
        who := coalesce(claim.actor, session_user::text);
        extra := coalesce(claim.details, '{}');
        IF NEW.status = 'approved' AND OLD.status <> 'approved' THEN
            extra := extra || jsonb_build_object('approved_by', NEW.approved_by, 'created_by', NEW.created_by);
        END IF;
    ELSE
        who := NEW.created_by;
    END IF;
    kind := CASE
        WHEN TG_OP = 'INSERT' THEN 'created'
        WHEN NEW.filled_quantity <> OLD.filled_quantity THEN 'fill'
        WHEN NEW.status <> OLD.status THEN 'transition'
        ELSE 'changed' END;
    INSERT INTO trading.order_events (order_id, event_type, from_status, to_status, actor, login_role, details)
    VALUES (NEW.id, kind, CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END, NEW.status, who, session_user,
            CASE WHEN TG_OP = 'INSERT'
                 THEN jsonb_build_object('symbol', NEW.symbol, 'side', NEW.side, 'quantity', NEW.quantity,
                                         'order_type', NEW.order_type, 'approval_required', NEW.approval_required,
                                         'approval_reasons', to_jsonb(NEW.approval_reasons))
                 ELSE jsonb_build_object('changed', changed) END || extra)
    RETURNING id INTO event_id;
    PERFORM pg_notify('order_updates', json_build_object(
        'order_id', NEW.id,
        'client_order_id', NEW.client_order_id,
        'event_id', event_id,
        'event', kind,
        'symbol', NEW.symbol,
        'from', CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END,
        'to', NEW.status,
        'filled_quantity', NEW.filled_quantity)::text);
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION ops_internal.staged_orders_audit() IS 'Trigger on trading.staged_orders (after insert and update): one trading.order_events row per change, and a NOTIFY order_updates hint.';

-- FUNCTION ops_internal.staged_orders_guard()

CREATE FUNCTION ops_internal.staged_orders_guard() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    strategy_active boolean;
    by_fill boolean := false;
    claim ops_internal.order_change_context;
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'staged' THEN
            RAISE EXCEPTION 'a new order starts as staged, not %', NEW.status
                USING ERRCODE = 'OPS01';
        END IF;
        IF NEW.filled_quantity <> 0 OR NEW.avg_fill_price IS NOT NULL OR NEW.approved_by IS NOT NULL
           OR NEW.broker_order_id IS NOT NULL THEN
            RAISE EXCEPTION 'a new order has no fills, approval or broker order id yet'
                USING ERRCODE = 'OPS04';
        END IF;
        SELECT active INTO strategy_active FROM trading.strategies WHERE id = NEW.strategy_id;
        IF strategy_active IS FALSE THEN
            RAISE EXCEPTION 'strategy % is not active; it cannot stage orders', NEW.strategy_id
                USING ERRCODE = 'OPS04';
        END IF;
        IF ops_internal.kill_switch_hold() THEN
            RAISE EXCEPTION 'trading is halted by the kill switch: no new orders'
                USING ERRCODE = 'OPS03';
        END IF;
        NEW.created_at := now();
        NEW.updated_at := NEW.created_at;
        NEW.submitted_at := NULL;
        NEW.executed_at := NULL;
        NEW.closed_at := NULL;
        NEW.approved_at := NULL;
        NEW.rejection_reason := NULL;
        NEW.status_reason := NULL;
        NEW.approval_reasons := trading.order_approval_reasons(NEW);
        NEW.approval_required := cardinality(NEW.approval_reasons) > 0;
        RETURN NEW;
    END IF;

    -- UPDATE. Fill state moves only inside the fill trigger, which runs as the owner and has
    -- recorded the change in the owner-only context table (a client's own trigger cannot).
    claim := ops_internal.order_change_context(OLD.id);
    by_fill := claim.kind IS NOT DISTINCT FROM 'fill';
    IF trading.order_status_terminal(OLD.status) THEN
        RAISE EXCEPTION 'order % is %; it can no longer change', OLD.id, OLD.status
            USING ERRCODE = 'OPS01';
    END IF;
    IF NEW.status <> OLD.status AND NOT trading.order_transition_allowed(OLD.status, NEW.status) THEN
        RAISE EXCEPTION 'order % is %: it cannot become %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'OPS01',
                  HINT = 'see the order state machine in docs/trading-ledger.md';
    END IF;
    IF NEW.id <> OLD.id OR NEW.client_order_id <> OLD.client_order_id OR NEW.created_at <> OLD.created_at
       OR NEW.created_by <> OLD.created_by THEN
        RAISE EXCEPTION 'the id, client order id, creator and creation time of order % cannot change', OLD.id
            USING ERRCODE = 'OPS04';
    END IF;
    IF OLD.status <> 'staged' AND (
        NEW.strategy_id, NEW.symbol, NEW.side, NEW.order_type, NEW.quantity, NEW.limit_price, NEW.stop_price,
        NEW.time_in_force, NEW.risk_score, NEW.compliance_flags, NEW.concentration_check)
        IS DISTINCT FROM (
        OLD.strategy_id, OLD.symbol, OLD.side, OLD.order_type, OLD.quantity, OLD.limit_price, OLD.stop_price,
        OLD.time_in_force, OLD.risk_score, OLD.compliance_flags, OLD.concentration_check) THEN
        RAISE EXCEPTION 'order % is %: its terms, risk and compliance can change only while it is staged',
            OLD.id, OLD.status
            USING ERRCODE = 'OPS01';
    END IF;
    IF NOT by_fill AND (NEW.filled_quantity, NEW.avg_fill_price, NEW.executed_at)
                       IS DISTINCT FROM (OLD.filled_quantity, OLD.avg_fill_price, OLD.executed_at) THEN
        RAISE EXCEPTION 'the filled quantity of order % changes only by recording a fill', OLD.id
            USING ERRCODE = 'OPS01';
    END IF;
    IF NEW.status = 'staged' THEN
        NEW.approval_reasons := trading.order_approval_reasons(NEW);
        NEW.approval_required := cardinality(NEW.approval_reasons) > 0;
    ELSIF (NEW.approval_required, NEW.approval_reasons) IS DISTINCT FROM (OLD.approval_required, OLD.approval_reasons)
    THEN
        RAISE EXCEPTION 'whether order % needs approval is decided by the database when it is staged', OLD.id
            USING ERRCODE = 'OPS01';
    END IF;
    IF NEW.broker_order_id IS DISTINCT FROM OLD.broker_order_id
       AND NOT (OLD.broker_order_id IS NULL AND NEW.status = 'submitted' AND OLD.status = 'approved') THEN
        RAISE EXCEPTION 'the broker order id of order % is set once, when it is submitted', OLD.id
            USING ERRCODE = 'OPS01';
    END IF;
    IF (NEW.approved_by, NEW.approved_at) IS DISTINCT FROM (OLD.approved_by, OLD.approved_at)
       AND NOT (NEW.status = 'approved' AND OLD.status <> 'approved') THEN
        RAISE EXCEPTION 'approval of order % is recorded only when it is approved', OLD.id
            USING ERRCODE = 'OPS01';
    END IF;
    IF NEW.status_reason IS DISTINCT FROM OLD.status_reason
       AND NOT (NEW.status <> OLD.status AND NEW.status IN ('cancelled', 'expired', 'rejected')) THEN
        RAISE EXCEPTION 'the reason of order % is recorded only when it is cancelled, expired or rejected', OLD.id
            USING ERRCODE = 'OPS01';
    END IF;

    IF NEW.status <> OLD.status THEN
        IF NEW.status IN ('partially_filled', 'filled') AND NOT by_fill THEN
            RAISE EXCEPTION 'order % becomes % only by recording fills', OLD.id, NEW.status
                USING ERRCODE = 'OPS01';
        END IF;
        IF OLD.status = 'staged' AND NEW.status = 'approved' AND OLD.approval_required THEN
            RAISE EXCEPTION 'order % needs approval (%): it must go to pending_approval first',
                OLD.id, array_to_string(OLD.approval_reasons, '; ')
                USING ERRCODE = 'OPS01';
        END IF;
        IF OLD.status = 'staged' AND NEW.status = 'pending_approval' AND NOT OLD.approval_required THEN
            RAISE EXCEPTION 'order % needs no approval: approve it directly', OLD.id
                USING ERRCODE = 'OPS01';
        END IF;
        IF NEW.status IN ('approved', 'submitted') AND ops_internal.kill_switch_hold() THEN
            RAISE EXCEPTION 'trading is halted by the kill switch: order % cannot become %', OLD.id, NEW.status
                USING ERRCODE = 'OPS03';
        END IF;
        IF NEW.status = 'approved' THEN
            NEW.approved_by := coalesce(NEW.approved_by, claim.actor, session_user::text);
            NEW.approved_at := now();
            -- Four eyes: an order that needs approval is approved by someone other than its creator.
            IF OLD.approval_required AND lower(NEW.approved_by) = lower(OLD.created_by) THEN
                RAISE EXCEPTION 'order % was staged by %: it must be approved by someone else (four eyes)',
                    OLD.id, OLD.created_by
                    USING ERRCODE = 'OPS06';
            END IF;
        END IF;
        IF NEW.status = 'rejected' THEN
            NEW.rejection_reason := coalesce(NEW.rejection_reason, NEW.status_reason);
            NEW.status_reason := coalesce(NEW.status_reason, NEW.rejection_reason);
            IF NEW.rejection_reason IS NULL THEN
                RAISE EXCEPTION 'rejecting order % needs a reason', OLD.id
                    USING ERRCODE = 'OPS04';
            END IF;
        END IF;
        IF NEW.status = 'submitted' THEN
            IF NEW.broker_order_id IS NULL THEN
                RAISE EXCEPTION 'submitting order % needs the broker order id', OLD.id
                    USING ERRCODE = 'OPS04';
            END IF;
            NEW.submitted_at := now();
        END IF;
        IF trading.order_status_terminal(NEW.status) THEN
            NEW.closed_at := now();
        END IF;
    ELSIF NEW.rejection_reason IS DISTINCT FROM OLD.rejection_reason THEN
        RAISE EXCEPTION 'a rejection reason is recorded only when order % is rejected', OLD.id
            USING ERRCODE = 'OPS01';
    END IF;
    -- Times the database keeps: set on the transition that owns them, never by hand.
    IF NOT (NEW.status = 'submitted' AND OLD.status <> 'submitted') THEN
        NEW.submitted_at := OLD.submitted_at;
    END IF;
    IF NEW.status = OLD.status THEN
        NEW.closed_at := OLD.closed_at;
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

COMMENT ON FUNCTION ops_internal.staged_orders_guard() IS 'Trigger on trading.staged_orders (before insert and update): the order state machine, approval rules, kill switch and four eyes.';

-- FUNCTION ops_internal.text_array_valid(text[], text, integer)

CREATE FUNCTION ops_internal.text_array_valid(arr text[], pattern text, max_count integer) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$
        SELECT cardinality(arr) <= max_count
           AND NOT EXISTS (SELECT 1 FROM unnest(arr) AS element WHERE element IS NULL OR element !~ pattern)
    $$;

COMMENT ON FUNCTION ops_internal.text_array_valid(arr text[], pattern text, max_count integer) IS 'True when arr has at most max_count elements and each matches pattern; used by CHECK constraints.';

-- FUNCTION ops_internal.timescaledb_edition()

CREATE FUNCTION ops_internal.timescaledb_edition() RETURNS text
    LANGUAGE sql STABLE
    AS $$
        SELECT CASE WHEN current_setting('timescaledb.license', true) = 'timescale'
                    THEN 'timescale' ELSE 'apache' END
    $$;

COMMENT ON FUNCTION ops_internal.timescaledb_edition() IS 'timescale when the TSL features (continuous aggregates, columnstore, jobs) are on, else apache';

-- FUNCTION trading.calculate_bollinger_bands(text, integer, numeric, interval)

CREATE FUNCTION trading.calculate_bollinger_bands(p_symbol text, p_period integer DEFAULT 20, p_num_std numeric DEFAULT 2.0, p_interval interval DEFAULT '00:05:00'::interval) RETURNS TABLE("timestamp" timestamp with time zone, symbol text, close numeric, middle_band numeric, upper_band numeric, lower_band numeric)
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

COMMENT ON FUNCTION trading.calculate_bollinger_bands(p_symbol text, p_period integer, p_num_std numeric, p_interval interval) IS 'Bollinger bands of p_symbol: SMA of p_period closes +/- p_num_std population standard deviations; NULL until p_period bars exist.';

-- FUNCTION trading.calculate_moving_average(text, integer, interval)

CREATE FUNCTION trading.calculate_moving_average(p_symbol text, p_period integer DEFAULT 20, p_interval interval DEFAULT '00:05:00'::interval) RETURNS TABLE("timestamp" timestamp with time zone, symbol text, close numeric, sma numeric, ema numeric)
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

COMMENT ON FUNCTION trading.calculate_moving_average(p_symbol text, p_period integer, p_interval interval) IS 'Simple and exponential moving averages of p_symbol''s closes over p_period bars of p_interval (EMA seeded with the first SMA).';

-- FUNCTION trading.calculate_rsi(text, integer, interval)

CREATE FUNCTION trading.calculate_rsi(p_symbol text, p_period integer DEFAULT 14, p_interval interval DEFAULT '00:05:00'::interval) RETURNS TABLE("timestamp" timestamp with time zone, symbol text, close numeric, rsi numeric)
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

COMMENT ON FUNCTION trading.calculate_rsi(p_symbol text, p_period integer, p_interval interval) IS 'Wilder''s RSI (0..100) of p_symbol''s closes over p_period bars of p_interval; NULL until p_period changes exist.';

-- FUNCTION trading.calculate_vwap(text, timestamp with time zone, timestamp with time zone)

CREATE FUNCTION trading.calculate_vwap(p_symbol text, p_from timestamp with time zone, p_to timestamp with time zone DEFAULT now()) RETURNS numeric
    LANGUAGE sql STABLE
    AS $$
        SELECT round(sum(COALESCE(p.vwap, p.close_price) * p.volume) / NULLIF(sum(p.volume), 0), 6)
          FROM trading.stock_prices p
         WHERE p.symbol = p_symbol AND p."timestamp" >= p_from AND p."timestamp" < p_to
    $$;

COMMENT ON FUNCTION trading.calculate_vwap(p_symbol text, p_from timestamp with time zone, p_to timestamp with time zone) IS 'Volume-weighted average price of p_symbol''s raw prices in [p_from, p_to); NULL without volume.';

-- TABLE trading.positions

CREATE TABLE trading.positions (
    id bigint NOT NULL,
    symbol text NOT NULL,
    quantity numeric NOT NULL,
    avg_cost numeric NOT NULL,
    realized_pnl numeric DEFAULT 0 NOT NULL,
    fees numeric DEFAULT 0 NOT NULL,
    status text DEFAULT 'open'::text NOT NULL,
    current_price numeric,
    market_value numeric GENERATED ALWAYS AS ((quantity * current_price)) STORED,
    unrealized_pnl numeric GENERATED ALWAYS AS (((current_price - avg_cost) * quantity)) STORED,
    opened_at timestamp with time zone DEFAULT now() NOT NULL,
    closed_at timestamp with time zone,
    close_price numeric,
    close_reason text,
    last_marked_at timestamp with time zone,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT positions_avg_cost_valid CHECK (((avg_cost > (0)::numeric) AND (avg_cost <= '1000000000'::numeric))),
    CONSTRAINT positions_close_reason_valid CHECK (((close_reason IS NULL) OR ((length(btrim(close_reason)) >= 1) AND (length(btrim(close_reason)) <= 2000)))),
    CONSTRAINT positions_closed_at_matches_status CHECK (((status = 'closed'::text) = (closed_at IS NOT NULL))),
    CONSTRAINT positions_closed_at_valid CHECK (((closed_at IS NULL) OR ((closed_at >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND (closed_at <= (now() + '00:05:00'::interval))))),
    CONSTRAINT positions_current_price_valid CHECK (((current_price IS NULL) OR ((current_price > (0)::numeric) AND (current_price <= '1000000000'::numeric)))),
    CONSTRAINT positions_last_marked_at_valid CHECK (((last_marked_at IS NULL) OR ((last_marked_at >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND (last_marked_at <= (now() + '00:05:00'::interval))))),
    CONSTRAINT positions_open_has_quantity CHECK (((status = 'open'::text) = (quantity <> (0)::numeric))),
    CONSTRAINT positions_opened_at_valid CHECK (((opened_at >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND (opened_at <= (now() + '00:05:00'::interval)))),
    CONSTRAINT positions_status_valid CHECK ((status = ANY (ARRAY['open'::text, 'closed'::text]))),
    CONSTRAINT positions_symbol_valid CHECK ((symbol ~ '^[A-Z0-9][A-Z0-9./ -]{0,31}$'::text)),
    CONSTRAINT positions_updated_at_valid CHECK (((updated_at >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND (updated_at <= (now() + '00:05:00'::interval))))
);

COMMENT ON TABLE trading.positions IS 'Positions at average cost; moved only by fills (trading.executions) and trading.close_position().';

COMMENT ON COLUMN trading.positions.id IS 'Position id: one row per position''s life, from opening to flat.';

COMMENT ON COLUMN trading.positions.symbol IS 'Instrument: ticker or option symbol; at most one open position per symbol.';

COMMENT ON COLUMN trading.positions.quantity IS 'Signed quantity: positive long, negative short; 0 once closed.';

COMMENT ON COLUMN trading.positions.avg_cost IS 'Average entry price per unit (average cost method); reductions leave it unchanged.';

COMMENT ON COLUMN trading.positions.realized_pnl IS 'P&L realized by reductions and the close, before costs.';

COMMENT ON COLUMN trading.positions.fees IS 'Commissions and fees of the fills applied to it (a cost: positive).';

COMMENT ON COLUMN trading.positions.status IS 'open or closed.';

COMMENT ON COLUMN trading.positions.current_price IS 'Last mark (mark_to_market); NULL until marked.';

COMMENT ON COLUMN trading.positions.market_value IS 'quantity x current_price (negative for a short); NULL until marked.';

COMMENT ON COLUMN trading.positions.unrealized_pnl IS '(current_price - avg_cost) x quantity, before costs; NULL until marked.';

COMMENT ON COLUMN trading.positions.opened_at IS 'Execution time of the fill that opened it.';

COMMENT ON COLUMN trading.positions.closed_at IS 'When it closed; set exactly when status is closed.';

COMMENT ON COLUMN trading.positions.close_price IS 'Price of the closing fill, or the price given to close_position().';

COMMENT ON COLUMN trading.positions.close_reason IS 'flat (fills took it to zero), flipped (a fill went through zero), or the reason given to close_position().';

COMMENT ON COLUMN trading.positions.last_marked_at IS 'When current_price was set.';

COMMENT ON COLUMN trading.positions.updated_at IS 'When a fill or close last changed it.';

-- FUNCTION trading.close_position(text, numeric, text)

CREATE FUNCTION trading.close_position(p_symbol text, p_price numeric, p_reason text) RETURNS trading.positions
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    p trading.positions;
BEGIN
    IF NOT coalesce(p_price > 0 AND p_price <= 1e9, false) THEN
        RAISE EXCEPTION 'closing price must be a positive number up to 1e9, not %', p_price
            USING ERRCODE = 'OPS04';
    END IF;
    IF coalesce(length(btrim(p_reason)), 0) NOT BETWEEN 1 AND 2000 THEN
        RAISE EXCEPTION 'closing a position needs a reason' USING ERRCODE = 'OPS04';
    END IF;
    PERFORM ops_internal.lock_symbol(p_symbol);
    SELECT * INTO p FROM trading.positions WHERE symbol = p_symbol AND status = 'open' FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no open position in %', p_symbol USING ERRCODE = 'OPS05';
    END IF;
    UPDATE trading.positions
       SET realized_pnl = realized_pnl + quantity * (p_price - avg_cost),
           quantity = 0,
           status = 'closed',
           closed_at = now(),
           close_price = p_price,
           close_reason = p_reason,
           current_price = p_price,
           updated_at = now()
     WHERE id = p.id
    RETURNING * INTO p;
    RETURN p;
END
$$;

COMMENT ON FUNCTION trading.close_position(p_symbol text, p_price numeric, p_reason text) IS 'Close the open position in p_symbol at p_price without a fill (expiry, assignment, write-off), realizing the difference to average cost.';

-- TABLE trading.staged_orders

CREATE TABLE trading.staged_orders (
    id bigint NOT NULL,
    client_order_id text NOT NULL,
    strategy_id bigint NOT NULL,
    signal_id bigint,
    symbol text NOT NULL,
    side text NOT NULL,
    order_type text NOT NULL,
    quantity numeric NOT NULL,
    limit_price numeric,
    stop_price numeric,
    stop_loss numeric,
    take_profit numeric,
    time_in_force text DEFAULT 'day'::text NOT NULL,
    status text DEFAULT 'staged'::text NOT NULL,
    created_by text NOT NULL,
    risk_score numeric,
    risk_factors jsonb DEFAULT '{}'::jsonb NOT NULL,
    portfolio_impact jsonb DEFAULT '{}'::jsonb NOT NULL,
    concentration_check boolean,
    compliance_flags jsonb DEFAULT '{}'::jsonb NOT NULL,
    approval_required boolean DEFAULT false NOT NULL,
    approval_reasons text[] DEFAULT '{}'::text[] NOT NULL,
    approved_by text,
    approved_at timestamp with time zone,
    rejection_reason text,
    broker_order_id text,
    filled_quantity numeric DEFAULT 0 NOT NULL,
    avg_fill_price numeric,
    metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    market_data jsonb DEFAULT '{}'::jsonb NOT NULL,
    tags text[] DEFAULT '{}'::text[] NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone,
    submitted_at timestamp with time zone,
    executed_at timestamp with time zone,
    closed_at timestamp with time zone,
    status_reason text,
    CONSTRAINT staged_orders_approval_reasons_valid CHECK (ops_internal.text_array_valid(approval_reasons, '^[[:print:]]{1,200}$'::text, 16)),
    CONSTRAINT staged_orders_approved_at_valid CHECK (((approved_at IS NULL) OR ((approved_at >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND (approved_at <= (now() + '00:05:00'::interval))))),
    CONSTRAINT staged_orders_approved_by_valid CHECK (((approved_by IS NULL) OR (approved_by ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$'::text))),
    CONSTRAINT staged_orders_broker_order_id_valid CHECK (((broker_order_id IS NULL) OR (broker_order_id ~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$'::text))),
    CONSTRAINT staged_orders_client_order_id_valid CHECK ((client_order_id ~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$'::text)),
    CONSTRAINT staged_orders_closed_at_valid CHECK (((closed_at IS NULL) OR ((closed_at >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND (closed_at <= (now() + '00:05:00'::interval))))),
    CONSTRAINT staged_orders_created_at_valid CHECK (((created_at >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND (created_at <= (now() + '00:05:00'::interval)))),
    CONSTRAINT staged_orders_created_by_valid CHECK ((created_by ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$'::text)),
    CONSTRAINT staged_orders_executed_at_valid CHECK (((executed_at IS NULL) OR ((executed_at >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND (executed_at <= (now() + '00:05:00'::interval))))),
    CONSTRAINT staged_orders_expires_after_creation CHECK (((expires_at IS NULL) OR (expires_at > created_at))),
    CONSTRAINT staged_orders_expires_at_valid CHECK (((expires_at IS NULL) OR ((expires_at >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND (expires_at <= (now() + '1 year'::interval))))),
    CONSTRAINT staged_orders_filled_quantity_valid CHECK (((filled_quantity >= (0)::numeric) AND ((filled_quantity <= quantity) OR (NOT (quantity > (0)::numeric))))),
    CONSTRAINT staged_orders_json_objects CHECK (((jsonb_typeof(risk_factors) = 'object'::text) AND (jsonb_typeof(portfolio_impact) = 'object'::text) AND (jsonb_typeof(compliance_flags) = 'object'::text) AND (jsonb_typeof(metadata) = 'object'::text) AND (jsonb_typeof(market_data) = 'object'::text))),
    CONSTRAINT staged_orders_limit_price_matches_type CHECK (((limit_price IS NOT NULL) = (order_type = ANY (ARRAY['limit'::text, 'stop_limit'::text])))),
    CONSTRAINT staged_orders_order_type_valid CHECK ((order_type = ANY (ARRAY['market'::text, 'limit'::text, 'stop'::text, 'stop_limit'::text]))),
    CONSTRAINT staged_orders_prices_valid CHECK ((((limit_price IS NULL) OR ((limit_price > (0)::numeric) AND (limit_price <= '1000000000'::numeric))) AND ((stop_price IS NULL) OR ((stop_price > (0)::numeric) AND (stop_price <= '1000000000'::numeric))) AND ((stop_loss IS NULL) OR ((stop_loss > (0)::numeric) AND (stop_loss <= '1000000000'::numeric))) AND ((take_profit IS NULL) OR ((take_profit > (0)::numeric) AND (take_profit <= '1000000000'::numeric))))),
    CONSTRAINT staged_orders_quantity_valid CHECK (((quantity > (0)::numeric) AND (quantity <= '1000000000'::numeric) AND (scale(quantity) <= 8))),
    CONSTRAINT staged_orders_rejection_reason_valid CHECK (((rejection_reason IS NULL) OR ((length(btrim(rejection_reason)) >= 1) AND (length(btrim(rejection_reason)) <= 2000)))),
    CONSTRAINT staged_orders_risk_score_valid CHECK (((risk_score IS NULL) OR ((risk_score >= (0)::numeric) AND (risk_score <= (100)::numeric)))),
    CONSTRAINT staged_orders_side_valid CHECK ((side = ANY (ARRAY['buy'::text, 'sell'::text]))),
    CONSTRAINT staged_orders_status_reason_valid CHECK (((status_reason IS NULL) OR ((length(btrim(status_reason)) >= 1) AND (length(btrim(status_reason)) <= 2000)))),
    CONSTRAINT staged_orders_status_valid CHECK ((status = ANY (ARRAY['staged'::text, 'pending_approval'::text, 'approved'::text, 'submitted'::text, 'partially_filled'::text, 'filled'::text, 'cancelled'::text, 'rejected'::text, 'expired'::text]))),
    CONSTRAINT staged_orders_stop_price_matches_type CHECK (((stop_price IS NOT NULL) = (order_type = ANY (ARRAY['stop'::text, 'stop_limit'::text])))),
    CONSTRAINT staged_orders_submitted_at_valid CHECK (((submitted_at IS NULL) OR ((submitted_at >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND (submitted_at <= (now() + '00:05:00'::interval))))),
    CONSTRAINT staged_orders_symbol_valid CHECK ((symbol ~ '^[A-Z0-9][A-Z0-9./ -]{0,31}$'::text)),
    CONSTRAINT staged_orders_tags_elements_valid CHECK (ops_internal.text_array_valid(tags, '^[A-Za-z0-9][A-Za-z0-9._:/-]{0,31}$'::text, 32)),
    CONSTRAINT staged_orders_tags_valid CHECK ((cardinality(tags) <= 32)),
    CONSTRAINT staged_orders_time_in_force_valid CHECK ((time_in_force = ANY (ARRAY['day'::text, 'gtc'::text, 'ioc'::text, 'fok'::text, 'opg'::text, 'cls'::text]))),
    CONSTRAINT staged_orders_updated_at_valid CHECK (((updated_at >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND (updated_at <= (now() + '00:05:00'::interval))))
);

COMMENT ON TABLE trading.staged_orders IS 'Orders through their whole life; status changes are checked by trigger (see docs/trading-ledger.md).';

COMMENT ON COLUMN trading.staged_orders.id IS 'Order id.';

COMMENT ON COLUMN trading.staged_orders.client_order_id IS 'The application''s unique id for the order: a retried insert with it is refused as a duplicate.';

COMMENT ON COLUMN trading.staged_orders.strategy_id IS 'Strategy the order belongs to (trading.strategies).';

COMMENT ON COLUMN trading.staged_orders.signal_id IS 'Signal that prompted it (trading.signals.id, no foreign key: signals is a hypertable).';

COMMENT ON COLUMN trading.staged_orders.symbol IS 'Instrument: ticker or option symbol.';

COMMENT ON COLUMN trading.staged_orders.side IS 'buy or sell.';

COMMENT ON COLUMN trading.staged_orders.order_type IS 'market, limit, stop or stop_limit.';

COMMENT ON COLUMN trading.staged_orders.quantity IS 'Quantity ordered, always positive (side gives the direction); at most 8 decimals.';

COMMENT ON COLUMN trading.staged_orders.limit_price IS 'Limit price; set exactly for limit and stop_limit orders.';

COMMENT ON COLUMN trading.staged_orders.stop_price IS 'Stop (trigger) price; set exactly for stop and stop_limit orders.';

COMMENT ON COLUMN trading.staged_orders.stop_loss IS 'Stop-loss price for the resulting position (recorded; the database does not act on it).';

COMMENT ON COLUMN trading.staged_orders.take_profit IS 'Take-profit price for the resulting position (recorded; the database does not act on it).';

COMMENT ON COLUMN trading.staged_orders.time_in_force IS 'day, gtc (good till cancelled), ioc, fok, opg (at the open) or cls (at the close).';

COMMENT ON COLUMN trading.staged_orders.status IS 'staged, pending_approval, approved, submitted, partially_filled, filled, cancelled, rejected or expired (the last four are final).';

COMMENT ON COLUMN trading.staged_orders.created_by IS 'Who staged the order (user or service name).';

COMMENT ON COLUMN trading.staged_orders.risk_score IS 'Risk score 0..100 from the risk check; above 75 the order needs approval.';

COMMENT ON COLUMN trading.staged_orders.risk_factors IS 'The risk check''s breakdown as a JSON object (e.g. position_size_risk, volatility_risk).';

COMMENT ON COLUMN trading.staged_orders.portfolio_impact IS 'Expected effect on the portfolio as a JSON object.';

COMMENT ON COLUMN trading.staged_orders.concentration_check IS 'Concentration limit check: false needs approval; NULL: not checked.';

COMMENT ON COLUMN trading.staged_orders.compliance_flags IS 'Compliance checks as a JSON object of {"passed": bool, ...} objects; any passed = false needs approval.';

COMMENT ON COLUMN trading.staged_orders.approval_required IS 'Computed by the database when staged: approval_reasons is not empty.';

COMMENT ON COLUMN trading.staged_orders.approval_reasons IS 'Why approval is needed, one readable line per rule (computed by the database).';

COMMENT ON COLUMN trading.staged_orders.approved_by IS 'Who approved it (set on entering approved).';

COMMENT ON COLUMN trading.staged_orders.approved_at IS 'When it was approved (set by the database).';

COMMENT ON COLUMN trading.staged_orders.rejection_reason IS 'Why it was rejected (required on entering rejected).';

COMMENT ON COLUMN trading.staged_orders.broker_order_id IS 'The broker''s order id: set once, when submitted; unique.';

COMMENT ON COLUMN trading.staged_orders.filled_quantity IS 'Quantity filled so far, 0..quantity; moves only with fills (trading.executions).';

COMMENT ON COLUMN trading.staged_orders.avg_fill_price IS 'Quantity-weighted average price of the fills so far; NULL before the first fill.';

COMMENT ON COLUMN trading.staged_orders.metadata IS 'Strategy-specific parameters as a JSON object.';

COMMENT ON COLUMN trading.staged_orders.market_data IS 'Market data when staged as a JSON object; last_price values a market order against max_order_value.';

COMMENT ON COLUMN trading.staged_orders.tags IS 'Free labels (at most 32).';

COMMENT ON COLUMN trading.staged_orders.created_at IS 'When the order was staged (set by the database).';

COMMENT ON COLUMN trading.staged_orders.updated_at IS 'When the order last changed (set by the database).';

COMMENT ON COLUMN trading.staged_orders.expires_at IS 'When an open order expires (trading.expire_due_orders); NULL: never.';

COMMENT ON COLUMN trading.staged_orders.submitted_at IS 'When it was submitted to the broker (set by the database).';

COMMENT ON COLUMN trading.staged_orders.executed_at IS 'Execution time of the fill that completed the order; NULL until filled.';

COMMENT ON COLUMN trading.staged_orders.closed_at IS 'When it reached a final status (set by the database).';

COMMENT ON COLUMN trading.staged_orders.status_reason IS 'Why it last changed status, when given (cancel, expiry, rejection); recorded in the audit trail.';

-- FUNCTION trading.expire_due_orders(timestamp with time zone, text)

CREATE FUNCTION trading.expire_due_orders(p_now timestamp with time zone DEFAULT now(), p_actor text DEFAULT 'system'::text) RETURNS SETOF trading.staged_orders
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    due bigint;
BEGIN
    IF p_now IS NULL OR p_now > clock_timestamp() + interval '5 minutes' OR p_now < '2000-01-01 00:00+00' THEN
        RAISE EXCEPTION 'now (the time to expire orders at) must be given, from 2000 to at most 5 minutes ahead, not %',
            p_now USING ERRCODE = 'OPS04';
    END IF;
    IF p_actor IS NULL OR p_actor !~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$' THEN
        RAISE EXCEPTION 'actor (who expires) must be 1-64 letters, digits, ''.'', ''_'', ''@'' or ''-'', '
                        'starting with a letter or digit' USING ERRCODE = 'OPS04';
    END IF;
    FOR due IN
        SELECT id FROM trading.staged_orders
         WHERE expires_at <= p_now
           AND status IN ('staged', 'pending_approval', 'approved', 'submitted', 'partially_filled')
         ORDER BY id
           FOR UPDATE SKIP LOCKED
    LOOP
        RETURN QUERY SELECT * FROM trading.transition_order(due, 'expired', p_actor, 'expired at ' || p_now::text);
    END LOOP;
END
$_$;

COMMENT ON FUNCTION trading.expire_due_orders(p_now timestamp with time zone, p_actor text) IS 'Expire every open order whose expires_at <= p_now (cron-safe, skips locked orders); returns the expired orders.';

-- FUNCTION trading.get_order_to_trade_ratio()

CREATE FUNCTION trading.get_order_to_trade_ratio() RETURNS numeric
    LANGUAGE sql STABLE
    AS $$
        SELECT round((SELECT count(*) FROM trading.staged_orders o
                       WHERE o.created_at >= date_trunc('day', now())
                         AND o.created_at < date_trunc('day', now()) + interval '1 day')::numeric
                     / nullif((SELECT count(*) FROM trading.executions e
                                WHERE e.executed_at >= date_trunc('day', now())
                                  AND e.executed_at < date_trunc('day', now()) + interval '1 day'), 0), 2)
    $$;

COMMENT ON FUNCTION trading.get_order_to_trade_ratio() IS 'Orders staged today per fill recorded today, 2 decimals; NULL while nothing has traded today.';

-- FUNCTION trading.get_today_pnl()

CREATE FUNCTION trading.get_today_pnl() RETURNS numeric
    LANGUAGE sql STABLE
    AS $$
        SELECT coalesce(sum(e.realized_pnl - e.commission - e.fees), 0)
          FROM trading.executions e
         WHERE e.executed_at >= date_trunc('day', now())
           AND e.executed_at < date_trunc('day', now()) + interval '1 day'
    $$;

COMMENT ON FUNCTION trading.get_today_pnl() IS 'Today''s net realized P&L: realized P&L of today''s fills minus their commissions and fees (today in the session''s time zone).';

-- FUNCTION trading.kill_switch_active()

CREATE FUNCTION trading.kill_switch_active() RETURNS boolean
    LANGUAGE sql STABLE
    AS $$ SELECT coalesce((SELECT active FROM trading.kill_switch_state), false) $$;

COMMENT ON FUNCTION trading.kill_switch_active() IS 'Whether trading is halted: trading.kill_switch_state.active.';

-- FUNCTION trading.options_chain(text, date, date, timestamp with time zone)

CREATE FUNCTION trading.options_chain(p_underlying text, p_expires_from date DEFAULT CURRENT_DATE, p_expires_to date DEFAULT (CURRENT_DATE + 7), p_quoted_since timestamp with time zone DEFAULT (now() - '01:00:00'::interval)) RETURNS TABLE(option_symbol text, expiration_date date, strike_price numeric, option_type text, bid_price numeric, ask_price numeric, last_price numeric, volume bigint, open_interest bigint, implied_volatility numeric, delta numeric, gamma numeric, theta numeric, vega numeric, rho numeric, "timestamp" timestamp with time zone)
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

COMMENT ON FUNCTION trading.options_chain(p_underlying text, p_expires_from date, p_expires_to date, p_quoted_since timestamp with time zone) IS 'Latest quote since p_quoted_since of every p_underlying contract expiring in [p_expires_from, p_expires_to], by expiry, type, strike.';

-- FUNCTION trading.order_approval_reasons(trading.staged_orders)

CREATE FUNCTION trading.order_approval_reasons(o trading.staged_orders) RETURNS text[]
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    reasons text[] := '{}';
    strategy trading.strategies;
    failed text;
    reference_price numeric;
BEGIN
    IF o.risk_score > 75 THEN
        reasons := reasons || format('risk score %s is above 75', o.risk_score);
    END IF;
    IF o.concentration_check IS FALSE THEN
        reasons := reasons || 'concentration check failed'::text;
    END IF;
    FOR failed IN
        SELECT key FROM jsonb_each(o.compliance_flags)
        WHERE jsonb_typeof(value) = 'object' AND value -> 'passed' = 'false'::jsonb
        ORDER BY key
    LOOP
        reasons := reasons || format('compliance check %s failed', failed);
    END LOOP;
    SELECT * INTO strategy FROM trading.strategies WHERE id = o.strategy_id;
    IF strategy.requires_approval THEN
        reasons := reasons || format('strategy %s requires approval of every order', strategy.name);
    END IF;
    IF o.quantity > strategy.max_order_quantity THEN
        reasons := reasons || format('quantity %s is above the strategy limit of %s', o.quantity,
                                     strategy.max_order_quantity);
    END IF;
    -- Market orders carry no price; their value is judged on the last price staged with them.
    reference_price := coalesce(o.limit_price, o.stop_price,
                                CASE WHEN jsonb_typeof(o.market_data -> 'last_price') = 'number'
                                     THEN (o.market_data ->> 'last_price')::numeric END);
    IF o.quantity * reference_price > strategy.max_order_value THEN
        reasons := reasons || format('order value %s is above the strategy limit of %s',
                                     round(o.quantity * reference_price, 2), strategy.max_order_value);
    END IF;
    RETURN reasons;
END
$$;

COMMENT ON FUNCTION trading.order_approval_reasons(o trading.staged_orders) IS 'Why an order needs approval (risk score > 75, failed compliance or concentration check, strategy limits): one line each.';

-- FUNCTION trading.order_status_terminal(text)

CREATE FUNCTION trading.order_status_terminal(status text) RETURNS boolean
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT status IN ('filled', 'cancelled', 'rejected', 'expired') $$;

COMMENT ON FUNCTION trading.order_status_terminal(status text) IS 'Whether an order status is final: filled, cancelled, rejected or expired.';

-- FUNCTION trading.order_transition_allowed(text, text)

CREATE FUNCTION trading.order_transition_allowed(from_status text, to_status text) RETURNS boolean
    LANGUAGE sql IMMUTABLE
    AS $$
        SELECT CASE from_status
            WHEN 'staged' THEN to_status IN ('pending_approval', 'approved', 'rejected', 'cancelled', 'expired')
            WHEN 'pending_approval' THEN to_status IN ('approved', 'rejected', 'cancelled', 'expired')
            WHEN 'approved' THEN to_status IN ('submitted', 'cancelled', 'expired')
            WHEN 'submitted' THEN to_status IN ('partially_filled', 'filled', 'rejected', 'cancelled', 'expired')
            WHEN 'partially_filled' THEN to_status IN ('filled', 'cancelled', 'expired')
            ELSE false
        END
    $$;

COMMENT ON FUNCTION trading.order_transition_allowed(from_status text, to_status text) IS 'The order state machine: whether status to_status may follow from_status.';

-- FUNCTION trading.price_bars(text, interval, timestamp with time zone, timestamp with time zone)

CREATE FUNCTION trading.price_bars(p_symbol text, p_interval interval DEFAULT '00:05:00'::interval, p_from timestamp with time zone DEFAULT '-infinity'::timestamp with time zone, p_to timestamp with time zone DEFAULT 'infinity'::timestamp with time zone) RETURNS TABLE(bucket timestamp with time zone, open numeric, high numeric, low numeric, close numeric, volume bigint, vwap numeric, trade_count bigint)
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

COMMENT ON FUNCTION trading.price_bars(p_symbol text, p_interval interval, p_from timestamp with time zone, p_to timestamp with time zone) IS 'OHLCV bars of p_symbol for any interval in [p_from, p_to): 1m/5m/1h/1d from the rollups, other intervals from raw prices (90 days).';

-- FUNCTION trading.put_call_ratio(timestamp with time zone, timestamp with time zone)

CREATE FUNCTION trading.put_call_ratio(p_from timestamp with time zone DEFAULT (now() - '1 day'::interval), p_to timestamp with time zone DEFAULT now()) RETURNS TABLE(underlying_symbol text, put_volume bigint, call_volume bigint, put_call_ratio numeric)
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

COMMENT ON FUNCTION trading.put_call_ratio(p_from timestamp with time zone, p_to timestamp with time zone) IS 'Put and call volume and put/call ratio per underlying over [p_from, p_to) of the raw quotes.';

-- FUNCTION trading.screen_order(bigint, text)

CREATE FUNCTION trading.screen_order(p_order_id bigint, p_actor text) RETURNS SETOF trading.staged_orders
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    needs_approval boolean;
BEGIN
    SELECT approval_required INTO needs_approval FROM trading.staged_orders WHERE id = p_order_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no order with id %', p_order_id USING ERRCODE = 'OPS05';
    END IF;
    RETURN QUERY SELECT * FROM trading.transition_order(
        p_order_id, CASE WHEN needs_approval THEN 'pending_approval' ELSE 'approved' END, p_actor);
END
$$;

COMMENT ON FUNCTION trading.screen_order(p_order_id bigint, p_actor text) IS 'Automatic screening: a staged order goes to pending_approval when it needs approval, else to approved; returns it.';

-- TABLE trading.kill_switch_state

CREATE TABLE trading.kill_switch_state (
    singleton boolean DEFAULT true NOT NULL,
    active boolean NOT NULL,
    reason text,
    actor text,
    login_role text,
    changed_at timestamp with time zone,
    CONSTRAINT kill_switch_state_actor_valid CHECK (((actor IS NULL) OR (actor ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$'::text))),
    CONSTRAINT kill_switch_state_login_role_valid CHECK (((login_role IS NULL) OR ((length(login_role) >= 1) AND (length(login_role) <= 64)))),
    CONSTRAINT kill_switch_state_reason_valid CHECK (((reason IS NULL) OR ((length(btrim(reason)) >= 1) AND (length(btrim(reason)) <= 2000)))),
    CONSTRAINT kill_switch_state_singleton CHECK (singleton)
);

COMMENT ON TABLE trading.kill_switch_state IS 'The kill switch now: one row, changed only by trading.set_kill_switch(); the last committed change wins.';

COMMENT ON COLUMN trading.kill_switch_state.singleton IS 'Always true: keeps the table to one row.';

COMMENT ON COLUMN trading.kill_switch_state.active IS 'true: trading halted (no new, approved or submitted orders); false: trading allowed.';

COMMENT ON COLUMN trading.kill_switch_state.reason IS 'Why it was last switched, in words.';

COMMENT ON COLUMN trading.kill_switch_state.actor IS 'Who claims to have last switched it (validated).';

COMMENT ON COLUMN trading.kill_switch_state.login_role IS 'The login role that last switched it (session_user).';

COMMENT ON COLUMN trading.kill_switch_state.changed_at IS 'When it was last switched (database clock).';

-- FUNCTION trading.set_kill_switch(boolean, text, text)

CREATE FUNCTION trading.set_kill_switch(p_active boolean, p_reason text, p_actor text) RETURNS trading.kill_switch_state
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET lock_timeout TO '10s'
    AS $_$
DECLARE
    s trading.kill_switch_state;
BEGIN
    IF p_active IS NULL THEN
        RAISE EXCEPTION 'active must be true (halt) or false (resume)' USING ERRCODE = 'OPS04';
    END IF;
    IF p_reason IS NULL OR length(btrim(p_reason)) NOT BETWEEN 1 AND 2000 THEN
        RAISE EXCEPTION 'the kill switch needs a reason of 1 to 2000 characters' USING ERRCODE = 'OPS04';
    END IF;
    IF p_actor IS NULL OR p_actor !~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$' THEN
        RAISE EXCEPTION 'who switches (actor) must be 1-64 letters, digits, ''.'', ''_'', ''@'' or ''-'''
            USING ERRCODE = 'OPS04';
    END IF;
    UPDATE trading.kill_switch_state
       SET active = p_active, reason = p_reason, actor = p_actor, login_role = session_user,
           changed_at = clock_timestamp()
     WHERE singleton
    RETURNING * INTO s;
    INSERT INTO trading.kill_switch_events (active, reason, actor, login_role, created_at)
    VALUES (s.active, s.reason, s.actor, s.login_role, s.changed_at);
    RETURN s;
END
$_$;

COMMENT ON FUNCTION trading.set_kill_switch(p_active boolean, p_reason text, p_actor text) IS 'Halt (true) or resume (false) trading, with a reason and the acting user; the only way to change the kill switch.';

-- FUNCTION trading.stage_order(text, bigint, bigint, text, text, text, numeric, numeric, numeric, numeric, numeric, text, text, numeric, jsonb, jsonb, boolean, jsonb, jsonb, jsonb, text[], timestamp with time zone)

CREATE FUNCTION trading.stage_order(p_client_order_id text, p_strategy_id bigint, p_signal_id bigint, p_symbol text, p_side text, p_order_type text, p_quantity numeric, p_limit_price numeric, p_stop_price numeric, p_stop_loss numeric, p_take_profit numeric, p_time_in_force text, p_created_by text, p_risk_score numeric, p_risk_factors jsonb, p_portfolio_impact jsonb, p_concentration_check boolean, p_compliance_flags jsonb, p_metadata jsonb, p_market_data jsonb, p_tags text[], p_expires_at timestamp with time zone) RETURNS trading.staged_orders
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    o trading.staged_orders;
    differing text[];
BEGIN
    INSERT INTO trading.staged_orders (
        client_order_id, strategy_id, signal_id, symbol, side, order_type, quantity, limit_price, stop_price,
        stop_loss, take_profit, time_in_force, created_by, risk_score, risk_factors, portfolio_impact,
        concentration_check, compliance_flags, metadata, market_data, tags, expires_at)
    VALUES (
        p_client_order_id, p_strategy_id, p_signal_id, p_symbol, p_side, p_order_type, p_quantity, p_limit_price,
        p_stop_price, p_stop_loss, p_take_profit, coalesce(p_time_in_force, 'day'), p_created_by, p_risk_score,
        coalesce(p_risk_factors, '{}'), coalesce(p_portfolio_impact, '{}'), p_concentration_check,
        coalesce(p_compliance_flags, '{}'), coalesce(p_metadata, '{}'), coalesce(p_market_data, '{}'),
        coalesce(p_tags, '{}'), p_expires_at)
    ON CONFLICT (client_order_id) DO NOTHING
    RETURNING * INTO o;
    IF FOUND THEN
        RETURN o;
    END IF;
    SELECT * INTO STRICT o FROM trading.staged_orders WHERE client_order_id = p_client_order_id;
    differing := array_remove(ARRAY[
        CASE WHEN o.strategy_id IS DISTINCT FROM p_strategy_id THEN 'strategy_id' END,
        CASE WHEN o.signal_id IS DISTINCT FROM p_signal_id THEN 'signal_id' END,
        CASE WHEN o.symbol IS DISTINCT FROM p_symbol THEN 'symbol' END,
        CASE WHEN o.side IS DISTINCT FROM p_side THEN 'side' END,
        CASE WHEN o.order_type IS DISTINCT FROM p_order_type THEN 'order_type' END,
        CASE WHEN o.quantity IS DISTINCT FROM p_quantity THEN 'quantity' END,
        CASE WHEN o.limit_price IS DISTINCT FROM p_limit_price THEN 'limit_price' END,
        CASE WHEN o.stop_price IS DISTINCT FROM p_stop_price THEN 'stop_price' END,
        CASE WHEN o.stop_loss IS DISTINCT FROM p_stop_loss THEN 'stop_loss' END,
        CASE WHEN o.take_profit IS DISTINCT FROM p_take_profit THEN 'take_profit' END,
        CASE WHEN o.time_in_force IS DISTINCT FROM coalesce(p_time_in_force, 'day') THEN 'time_in_force' END,
        CASE WHEN o.created_by IS DISTINCT FROM p_created_by THEN 'created_by' END,
        CASE WHEN o.risk_score IS DISTINCT FROM p_risk_score THEN 'risk_score' END,
        CASE WHEN o.risk_factors IS DISTINCT FROM coalesce(p_risk_factors, '{}') THEN 'risk_factors' END,
        CASE WHEN o.portfolio_impact IS DISTINCT FROM coalesce(p_portfolio_impact, '{}') THEN 'portfolio_impact' END,
        CASE WHEN o.concentration_check IS DISTINCT FROM p_concentration_check THEN 'concentration_check' END,
        CASE WHEN o.compliance_flags IS DISTINCT FROM coalesce(p_compliance_flags, '{}') THEN 'compliance_flags' END,
        CASE WHEN o.metadata IS DISTINCT FROM coalesce(p_metadata, '{}') THEN 'metadata' END,
        CASE WHEN o.market_data IS DISTINCT FROM coalesce(p_market_data, '{}') THEN 'market_data' END,
        CASE WHEN o.tags IS DISTINCT FROM coalesce(p_tags, '{}') THEN 'tags' END,
        CASE WHEN o.expires_at IS DISTINCT FROM p_expires_at THEN 'expires_at' END
    ], NULL);
    IF cardinality(differing) > 0 THEN
        RAISE EXCEPTION 'client order id % is already used by order % with a different %',
            p_client_order_id, o.id, array_to_string(differing, ', ')
            USING ERRCODE = 'OPS07';
    END IF;
    RETURN o;
END
$$;

COMMENT ON FUNCTION trading.stage_order(p_client_order_id text, p_strategy_id bigint, p_signal_id bigint, p_symbol text, p_side text, p_order_type text, p_quantity numeric, p_limit_price numeric, p_stop_price numeric, p_stop_loss numeric, p_take_profit numeric, p_time_in_force text, p_created_by text, p_risk_score numeric, p_risk_factors jsonb, p_portfolio_impact jsonb, p_concentration_check boolean, p_compliance_flags jsonb, p_metadata jsonb, p_market_data jsonb, p_tags text[], p_expires_at timestamp with time zone) IS 'Stage an order idempotently: a known client order id returns the existing order only when every term is identical, else raises naming the fields that differ.';

-- FUNCTION trading.transition_order(bigint, text, text, text, text)

CREATE FUNCTION trading.transition_order(p_order_id bigint, p_to_status text, p_actor text, p_reason text DEFAULT NULL::text, p_broker_order_id text DEFAULT NULL::text) RETURNS SETOF trading.staged_orders
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    current_status text;
BEGIN
    IF p_actor IS NULL OR p_actor !~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$' THEN
        RAISE EXCEPTION 'actor (the approver, or who rejects, cancels, expires or submits) must be 1-64 letters, '
                        'digits, ''.'', ''_'', ''@'' or ''-'', starting with a letter or digit'
            USING ERRCODE = 'OPS04';
    END IF;
    IF p_reason IS NOT NULL AND length(btrim(p_reason)) NOT BETWEEN 1 AND 2000 THEN
        RAISE EXCEPTION 'reason must have 1 to 2000 characters' USING ERRCODE = 'OPS04';
    END IF;
    SELECT status INTO current_status FROM trading.staged_orders WHERE id = p_order_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no order with id %', p_order_id USING ERRCODE = 'OPS05';
    END IF;
    IF current_status = p_to_status THEN
        RAISE EXCEPTION 'order % is already %', p_order_id, p_to_status USING ERRCODE = 'OPS01';
    END IF;
    INSERT INTO ops_internal.order_change_context (xid, order_id, kind, actor)
    VALUES (pg_current_xact_id(), p_order_id, 'transition', p_actor);
    RETURN QUERY
        UPDATE trading.staged_orders
           SET status = p_to_status,
               approved_by = CASE WHEN p_to_status = 'approved' THEN p_actor ELSE approved_by END,
               rejection_reason = CASE WHEN p_to_status = 'rejected' THEN p_reason ELSE rejection_reason END,
               status_reason = CASE WHEN p_to_status IN ('cancelled', 'expired', 'rejected') THEN p_reason
                                    ELSE status_reason END,
               broker_order_id = CASE WHEN p_to_status = 'submitted' THEN p_broker_order_id ELSE broker_order_id END
         WHERE id = p_order_id
        RETURNING *;
    DELETE FROM ops_internal.order_change_context WHERE xid = pg_current_xact_id() AND order_id = p_order_id;
END
$_$;

COMMENT ON FUNCTION trading.transition_order(p_order_id bigint, p_to_status text, p_actor text, p_reason text, p_broker_order_id text) IS 'Move order p_order_id to p_to_status as p_actor, locking it first; p_reason goes into the audit event (and is the rejection reason), p_broker_order_id is needed for submitted. Returns the order.';

-- VIEW ops_internal.data_relations

CREATE VIEW ops_internal.data_relations AS
 SELECT c.oid AS relid,
    (n.nspname)::text AS schema_name,
    (c.relname)::text AS relation_name,
        CASE
            WHEN (h.hypertable_name IS NOT NULL) THEN 'hypertable'::text
            WHEN (ca.view_name IS NOT NULL) THEN 'continuous_aggregate'::text
            WHEN (c.relkind = 'm'::"char") THEN 'materialized_view'::text
            ELSE 'table'::text
        END AS kind,
        CASE
            WHEN (ca.view_name IS NOT NULL) THEN (format('%I.%I'::text, ca.materialization_hypertable_schema, ca.materialization_hypertable_name))::regclass
            ELSE NULL::regclass
        END AS storage
   FROM (((pg_class c
     JOIN pg_namespace n ON ((n.oid = c.relnamespace)))
     LEFT JOIN timescaledb_information.hypertables h ON (((h.hypertable_schema = n.nspname) AND (h.hypertable_name = c.relname))))
     LEFT JOIN timescaledb_information.continuous_aggregates ca ON (((ca.view_schema = n.nspname) AND (ca.view_name = c.relname))))
  WHERE ((n.nspname = ANY (ARRAY['trading'::name, 'ops_internal'::name])) AND ((c.relkind = ANY (ARRAY['r'::"char", 'p'::"char", 'm'::"char"])) OR (ca.view_name IS NOT NULL)) AND (NOT c.relispartition));

COMMENT ON VIEW ops_internal.data_relations IS 'Relations of trading and ops_internal that hold data (tables, hypertables, rollups); what backups count and ops-db stats sizes.';

COMMENT ON COLUMN ops_internal.data_relations.relid IS 'The relation (pg_class oid).';

COMMENT ON COLUMN ops_internal.data_relations.schema_name IS 'Its schema.';

COMMENT ON COLUMN ops_internal.data_relations.relation_name IS 'Its name.';

COMMENT ON COLUMN ops_internal.data_relations.kind IS 'hypertable, continuous_aggregate, materialized_view or table.';

COMMENT ON COLUMN ops_internal.data_relations.storage IS 'Continuous aggregate: the materialization hypertable holding its rows; else NULL.';

-- TABLE ops_internal.maintenance_runs

CREATE TABLE ops_internal.maintenance_runs (
    id bigint NOT NULL,
    started_at timestamp with time zone DEFAULT now() NOT NULL,
    finished_at timestamp with time zone,
    edition text NOT NULL,
    dry_run boolean DEFAULT false NOT NULL,
    succeeded boolean,
    actions jsonb DEFAULT '[]'::jsonb NOT NULL,
    error text,
    CONSTRAINT maintenance_runs_edition_known CHECK ((edition = ANY (ARRAY['apache'::text, 'timescale'::text]))),
    CONSTRAINT maintenance_runs_error_valid CHECK (((error IS NULL) OR ((length(error) >= 1) AND (length(error) <= 20000)))),
    CONSTRAINT maintenance_runs_finished_after_start CHECK (((finished_at IS NULL) OR (finished_at >= started_at))),
    CONSTRAINT maintenance_runs_finished_at_valid CHECK (((finished_at IS NULL) OR ((finished_at >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND (finished_at <= (now() + '00:05:00'::interval))))),
    CONSTRAINT maintenance_runs_outcome_when_finished CHECK (((finished_at IS NULL) = (succeeded IS NULL))),
    CONSTRAINT maintenance_runs_started_at_valid CHECK (((started_at >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND (started_at <= (now() + '00:05:00'::interval))))
);

COMMENT ON TABLE ops_internal.maintenance_runs IS 'Each ops-db maintain run: started, finished, succeeded, the actions it took (jsonb list).';

COMMENT ON COLUMN ops_internal.maintenance_runs.id IS 'Run id.';

COMMENT ON COLUMN ops_internal.maintenance_runs.started_at IS 'When the run started.';

COMMENT ON COLUMN ops_internal.maintenance_runs.finished_at IS 'When it finished; NULL while running or if it died.';

COMMENT ON COLUMN ops_internal.maintenance_runs.edition IS 'TimescaleDB edition it ran on: apache or timescale.';

COMMENT ON COLUMN ops_internal.maintenance_runs.dry_run IS 'true: --dry-run, it only reported what it would do.';

COMMENT ON COLUMN ops_internal.maintenance_runs.succeeded IS 'true or false once finished; NULL while running.';

COMMENT ON COLUMN ops_internal.maintenance_runs.actions IS 'What it did (or would do), as a JSON list of actions.';

COMMENT ON COLUMN ops_internal.maintenance_runs.error IS 'Why it failed, when it did.';

-- SEQUENCE ops_internal.maintenance_runs_id_seq

ALTER TABLE ops_internal.maintenance_runs ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME ops_internal.maintenance_runs_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

-- TABLE ops_internal.retention

CREATE TABLE ops_internal.retention (
    hypertable text NOT NULL,
    drop_after interval NOT NULL,
    note text,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT retention_drop_after_positive CHECK ((drop_after > '00:00:00'::interval)),
    CONSTRAINT retention_hypertable_valid CHECK ((hypertable ~ '^[a-z_][a-z0-9_]{0,62}\.[a-z_][a-z0-9_]{0,62}$'::text)),
    CONSTRAINT retention_note_valid CHECK (((note IS NULL) OR ((length(btrim(note)) >= 1) AND (length(btrim(note)) <= 2000)))),
    CONSTRAINT retention_updated_at_valid CHECK (((updated_at >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND (updated_at <= (now() + '00:05:00'::interval))))
);

COMMENT ON TABLE ops_internal.retention IS 'How long raw rows of each hypertable are kept; UPDATE drop_after to change a period (ops-db maintain applies it).';

COMMENT ON COLUMN ops_internal.retention.hypertable IS 'The hypertable, schema-qualified (e.g. trading.stock_prices).';

COMMENT ON COLUMN ops_internal.retention.drop_after IS 'Chunks whose rows are all older than now() - drop_after are dropped.';

COMMENT ON COLUMN ops_internal.retention.note IS 'Why this period: what the data is, and what stays (e.g. its rollups).';

COMMENT ON COLUMN ops_internal.retention.updated_at IS 'When the row was added (later UPDATEs change it only if they set it).';

-- TABLE ops_internal.rollup

CREATE TABLE ops_internal.rollup (
    name text NOT NULL,
    source text NOT NULL,
    raw_hypertable text NOT NULL,
    bucket_width interval NOT NULL,
    level integer NOT NULL,
    policy_end_offset interval NOT NULL,
    policy_schedule interval NOT NULL,
    refreshed_through timestamp with time zone,
    refreshed_at timestamp with time zone,
    CONSTRAINT rollup_level_positive CHECK ((level >= 1))
);

COMMENT ON TABLE ops_internal.rollup IS 'The rollups, what each is built from, and (apache edition) how far each has been refreshed.';

COMMENT ON COLUMN ops_internal.rollup.name IS 'The rollup, schema-qualified (e.g. trading.stock_prices_5m).';

COMMENT ON COLUMN ops_internal.rollup.source IS 'What it aggregates: the raw hypertable or the next finer rollup.';

COMMENT ON COLUMN ops_internal.rollup.raw_hypertable IS 'The raw hypertable underneath; its retention bounds the refresh window.';

COMMENT ON COLUMN ops_internal.rollup.bucket_width IS 'Width of one bucket.';

COMMENT ON COLUMN ops_internal.rollup.level IS '1 for rollups of raw data, 2 for rollups of level 1, and so on; refreshed in this order.';

COMMENT ON COLUMN ops_internal.rollup.policy_end_offset IS 'timescale edition: refresh policy end_offset (the newest buckets are left to real-time aggregation).';

COMMENT ON COLUMN ops_internal.rollup.policy_schedule IS 'timescale edition: how often the refresh policy runs.';

COMMENT ON COLUMN ops_internal.rollup.refreshed_through IS 'apache edition: every change to the raw data before this time is in the rollup.';

COMMENT ON COLUMN ops_internal.rollup.refreshed_at IS 'apache edition: when ops-db maintain last refreshed it.';

-- TABLE ops_internal.rollup_invalidation

CREATE TABLE ops_internal.rollup_invalidation (
    hypertable text NOT NULL,
    lo timestamp with time zone NOT NULL,
    hi timestamp with time zone NOT NULL,
    logged_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT rollup_invalidation_range CHECK ((lo <= hi))
);

COMMENT ON TABLE ops_internal.rollup_invalidation IS 'apache edition: time ranges touched in a raw hypertable, consumed by ops-db maintain.';

COMMENT ON COLUMN ops_internal.rollup_invalidation.hypertable IS 'Raw hypertable that changed (e.g. trading.stock_prices).';

COMMENT ON COLUMN ops_internal.rollup_invalidation.lo IS 'Earliest row time one statement inserted, updated or deleted.';

COMMENT ON COLUMN ops_internal.rollup_invalidation.hi IS 'Latest row time that statement touched (inclusive).';

COMMENT ON COLUMN ops_internal.rollup_invalidation.logged_at IS 'When the range was logged.';

-- SEQUENCE ops_internal.system_events_id_seq

CREATE SEQUENCE ops_internal.system_events_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

-- TABLE ops_internal.system_events_critical

CREATE TABLE ops_internal.system_events_critical (
    id bigint DEFAULT nextval('ops_internal.system_events_id_seq'::regclass) NOT NULL,
    "timestamp" timestamp with time zone DEFAULT now() NOT NULL,
    severity text NOT NULL,
    component text NOT NULL,
    event_type text NOT NULL,
    message text NOT NULL,
    details jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT system_events_critical_component_valid CHECK ((component ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'::text)),
    CONSTRAINT system_events_critical_created_at_bounded CHECK (((created_at >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND (created_at <= (now() + '1 day'::interval)))),
    CONSTRAINT system_events_critical_event_type_valid CHECK ((event_type ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'::text)),
    CONSTRAINT system_events_critical_message_valid CHECK (((char_length(message) >= 1) AND (char_length(message) <= 4000))),
    CONSTRAINT system_events_critical_severity CHECK ((severity = ANY (ARRAY['CRITICAL'::text, 'EMERGENCY'::text]))),
    CONSTRAINT system_events_critical_timestamp_bounded CHECK ((("timestamp" >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND ("timestamp" <= (now() + '1 day'::interval))))
);

COMMENT ON TABLE ops_internal.system_events_critical IS 'System events CRITICAL and EMERGENCY, 30-day chunks, kept 2 years; read and write them through trading.system_events.';

COMMENT ON COLUMN ops_internal.system_events_critical.id IS 'Event id, from one sequence shared by both tables.';

COMMENT ON COLUMN ops_internal.system_events_critical."timestamp" IS 'When the event happened; defaults to now().';

COMMENT ON COLUMN ops_internal.system_events_critical.severity IS 'DEBUG, INFO, WARNING, ERROR, CRITICAL or EMERGENCY (upper-cased on insert).';

COMMENT ON COLUMN ops_internal.system_events_critical.component IS 'Part of the system that reported it (e.g. oms, broker-gw, ops-db).';

COMMENT ON COLUMN ops_internal.system_events_critical.event_type IS 'What happened, as a short name.';

COMMENT ON COLUMN ops_internal.system_events_critical.message IS 'What happened, in words.';

COMMENT ON COLUMN ops_internal.system_events_critical.details IS 'Event details as a JSON object.';

COMMENT ON COLUMN ops_internal.system_events_critical.created_at IS 'When the row was stored.';

-- TABLE ops_internal.system_events_routine

CREATE TABLE ops_internal.system_events_routine (
    id bigint DEFAULT nextval('ops_internal.system_events_id_seq'::regclass) NOT NULL,
    "timestamp" timestamp with time zone DEFAULT now() NOT NULL,
    severity text NOT NULL,
    component text NOT NULL,
    event_type text NOT NULL,
    message text NOT NULL,
    details jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT system_events_routine_component_valid CHECK ((component ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'::text)),
    CONSTRAINT system_events_routine_created_at_bounded CHECK (((created_at >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND (created_at <= (now() + '1 day'::interval)))),
    CONSTRAINT system_events_routine_event_type_valid CHECK ((event_type ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'::text)),
    CONSTRAINT system_events_routine_message_valid CHECK (((char_length(message) >= 1) AND (char_length(message) <= 4000))),
    CONSTRAINT system_events_routine_severity CHECK ((severity = ANY (ARRAY['DEBUG'::text, 'INFO'::text, 'WARNING'::text, 'ERROR'::text]))),
    CONSTRAINT system_events_routine_timestamp_bounded CHECK ((("timestamp" >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND ("timestamp" <= (now() + '1 day'::interval))))
);

COMMENT ON TABLE ops_internal.system_events_routine IS 'System events DEBUG..ERROR, 1-day chunks, kept 3 months; read and write them through trading.system_events.';

COMMENT ON COLUMN ops_internal.system_events_routine.id IS 'Event id, from one sequence shared by both tables.';

COMMENT ON COLUMN ops_internal.system_events_routine."timestamp" IS 'When the event happened; defaults to now().';

COMMENT ON COLUMN ops_internal.system_events_routine.severity IS 'DEBUG, INFO, WARNING, ERROR, CRITICAL or EMERGENCY (upper-cased on insert).';

COMMENT ON COLUMN ops_internal.system_events_routine.component IS 'Part of the system that reported it (e.g. oms, broker-gw, ops-db).';

COMMENT ON COLUMN ops_internal.system_events_routine.event_type IS 'What happened, as a short name.';

COMMENT ON COLUMN ops_internal.system_events_routine.message IS 'What happened, in words.';

COMMENT ON COLUMN ops_internal.system_events_routine.details IS 'Event details as a JSON object.';

COMMENT ON COLUMN ops_internal.system_events_routine.created_at IS 'When the row was stored.';

-- TABLE public._ops_db_checksum

CREATE TABLE public._ops_db_checksum (
    migration_id text NOT NULL,
    sha256 text NOT NULL,
    recorded_at timestamp with time zone DEFAULT now() NOT NULL
);

-- TABLE public._ops_db_reapplied

CREATE TABLE public._ops_db_reapplied (
    path text NOT NULL,
    sha256 text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL
);

-- TABLE public._yoyo_log

CREATE TABLE public._yoyo_log (
    id character varying(36) NOT NULL,
    migration_hash character varying(64),
    migration_id character varying(255),
    operation character varying(10),
    username character varying(255),
    hostname character varying(255),
    comment character varying(255),
    created_at_utc timestamp without time zone
);

-- TABLE public._yoyo_migration

CREATE TABLE public._yoyo_migration (
    migration_hash character varying(64) NOT NULL,
    migration_id character varying(255),
    applied_at_utc timestamp without time zone
);

-- TABLE public._yoyo_version

CREATE TABLE public._yoyo_version (
    version integer NOT NULL,
    installed_at_utc timestamp without time zone
);

-- TABLE public.yoyo_lock

CREATE TABLE public.yoyo_lock (
    locked integer DEFAULT 1 NOT NULL,
    ctime timestamp without time zone,
    pid integer NOT NULL
);

-- TABLE trading.agent_decisions

CREATE TABLE trading.agent_decisions (
    decided_at timestamp with time zone DEFAULT now() NOT NULL,
    id bigint NOT NULL,
    agent text NOT NULL,
    action text NOT NULL,
    symbol text,
    order_id bigint,
    signal_id bigint,
    confidence numeric,
    reasoning text,
    inputs jsonb DEFAULT '{}'::jsonb NOT NULL,
    outcome jsonb DEFAULT '{}'::jsonb NOT NULL,
    CONSTRAINT agent_decisions_action_valid CHECK ((action ~ '^[a-z][a-z0-9_]{0,63}$'::text)),
    CONSTRAINT agent_decisions_agent_valid CHECK ((agent ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'::text)),
    CONSTRAINT agent_decisions_confidence_valid CHECK (((confidence IS NULL) OR ((confidence >= (0)::numeric) AND (confidence <= (1)::numeric)))),
    CONSTRAINT agent_decisions_decided_at_valid CHECK (((decided_at >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND (decided_at <= (now() + '00:05:00'::interval)))),
    CONSTRAINT agent_decisions_json_objects CHECK (((jsonb_typeof(inputs) = 'object'::text) AND (jsonb_typeof(outcome) = 'object'::text))),
    CONSTRAINT agent_decisions_reasoning_valid CHECK (((reasoning IS NULL) OR ((length(btrim(reasoning)) >= 1) AND (length(btrim(reasoning)) <= 10000)))),
    CONSTRAINT agent_decisions_symbol_valid CHECK (((symbol IS NULL) OR (symbol ~ '^[A-Z0-9][A-Z0-9./ -]{0,31}$'::text)))
);

COMMENT ON TABLE trading.agent_decisions IS 'What each trading agent decided, on what and why; append-only, 7-day chunks.';

COMMENT ON COLUMN trading.agent_decisions.decided_at IS 'When the agent decided.';

COMMENT ON COLUMN trading.agent_decisions.id IS 'Decision id.';

COMMENT ON COLUMN trading.agent_decisions.agent IS 'Name of the agent.';

COMMENT ON COLUMN trading.agent_decisions.action IS 'What it decided, lower_snake_case (e.g. stage_order, skip).';

COMMENT ON COLUMN trading.agent_decisions.symbol IS 'Instrument concerned, if any.';

COMMENT ON COLUMN trading.agent_decisions.order_id IS 'Order it led to, if any (trading.staged_orders.id, no foreign key).';

COMMENT ON COLUMN trading.agent_decisions.signal_id IS 'Signal it acted on, if any (trading.signals.id, no foreign key).';

COMMENT ON COLUMN trading.agent_decisions.confidence IS 'The agent''s confidence, 0..1.';

COMMENT ON COLUMN trading.agent_decisions.reasoning IS 'Why, in words.';

COMMENT ON COLUMN trading.agent_decisions.inputs IS 'What the agent saw, as a JSON object.';

COMMENT ON COLUMN trading.agent_decisions.outcome IS 'What came of it, as a JSON object.';

-- SEQUENCE trading.agent_decisions_id_seq

ALTER TABLE trading.agent_decisions ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME trading.agent_decisions_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

-- TABLE trading.alerts

CREATE TABLE trading.alerts (
    id bigint NOT NULL,
    alert_type text NOT NULL,
    severity text NOT NULL,
    message text NOT NULL,
    source text,
    symbol text,
    details jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    resolved_at timestamp with time zone,
    resolved_by text,
    resolution text,
    CONSTRAINT alerts_alert_type_valid CHECK ((alert_type ~ '^[a-z][a-z0-9_]{0,63}$'::text)),
    CONSTRAINT alerts_created_at_valid CHECK (((created_at >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND (created_at <= (now() + '00:05:00'::interval)))),
    CONSTRAINT alerts_details_object CHECK ((jsonb_typeof(details) = 'object'::text)),
    CONSTRAINT alerts_message_valid CHECK (((length(btrim(message)) >= 1) AND (length(btrim(message)) <= 4000))),
    CONSTRAINT alerts_resolution_complete CHECK ((((resolved_at IS NULL) AND (resolved_by IS NULL) AND (resolution IS NULL)) OR ((resolved_at IS NOT NULL) AND (resolved_by IS NOT NULL) AND ((length(btrim(resolution)) >= 1) AND (length(btrim(resolution)) <= 2000))))),
    CONSTRAINT alerts_resolution_valid CHECK (((resolution IS NULL) OR ((length(btrim(resolution)) >= 1) AND (length(btrim(resolution)) <= 4000)))),
    CONSTRAINT alerts_resolved_at_valid CHECK (((resolved_at IS NULL) OR ((resolved_at >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND (resolved_at <= (now() + '00:05:00'::interval))))),
    CONSTRAINT alerts_resolved_by_valid CHECK (((resolved_by IS NULL) OR (resolved_by ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$'::text))),
    CONSTRAINT alerts_severity_valid CHECK ((severity = ANY (ARRAY['INFO'::text, 'WARNING'::text, 'CRITICAL'::text, 'EMERGENCY'::text]))),
    CONSTRAINT alerts_source_valid CHECK (((source IS NULL) OR (source ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'::text))),
    CONSTRAINT alerts_symbol_valid CHECK (((symbol IS NULL) OR (symbol ~ '^[A-Z0-9][A-Z0-9./ -]{0,31}$'::text)))
);

COMMENT ON TABLE trading.alerts IS 'Alerts for the desk (risk, broker, system) and their resolution.';

COMMENT ON COLUMN trading.alerts.id IS 'Alert id.';

COMMENT ON COLUMN trading.alerts.alert_type IS 'Kind of alert, lower_snake_case (e.g. concentration, broker_reject).';

COMMENT ON COLUMN trading.alerts.severity IS 'INFO, WARNING, CRITICAL or EMERGENCY.';

COMMENT ON COLUMN trading.alerts.message IS 'What is wrong, in words.';

COMMENT ON COLUMN trading.alerts.source IS 'Component or service that raised it.';

COMMENT ON COLUMN trading.alerts.symbol IS 'Instrument concerned, if any.';

COMMENT ON COLUMN trading.alerts.details IS 'Further details as a JSON object.';

COMMENT ON COLUMN trading.alerts.created_at IS 'When it was raised.';

COMMENT ON COLUMN trading.alerts.resolved_at IS 'When it was resolved; NULL while open (resolved_at, resolved_by and resolution go together).';

COMMENT ON COLUMN trading.alerts.resolved_by IS 'Who resolved it.';

COMMENT ON COLUMN trading.alerts.resolution IS 'How it was resolved, in words.';

-- SEQUENCE trading.alerts_id_seq

ALTER TABLE trading.alerts ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME trading.alerts_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

-- TABLE trading.daily_stats

CREATE TABLE trading.daily_stats (
    trading_date date NOT NULL,
    orders_placed integer DEFAULT 0 NOT NULL,
    orders_filled integer DEFAULT 0 NOT NULL,
    orders_rejected integer DEFAULT 0 NOT NULL,
    orders_cancelled integer DEFAULT 0 NOT NULL,
    trades_executed integer DEFAULT 0 NOT NULL,
    traded_value numeric DEFAULT 0 NOT NULL,
    realized_pnl numeric DEFAULT 0 NOT NULL,
    costs numeric DEFAULT 0 NOT NULL,
    net_pnl numeric DEFAULT 0 NOT NULL,
    order_to_trade_ratio numeric,
    kill_switch_triggered boolean DEFAULT false NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT daily_stats_trading_date_valid CHECK (((trading_date >= '2000-01-01'::date) AND (trading_date <= ((now() + '1 day'::interval))::date))),
    CONSTRAINT daily_stats_updated_at_valid CHECK (((updated_at >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND (updated_at <= (now() + '00:05:00'::interval))))
);

COMMENT ON TABLE trading.daily_stats IS 'Per trading day: orders, fills, traded value, P&L, order-to-trade ratio; recomputed by ops_db.ledger.positions.refresh_daily_stats.';

COMMENT ON COLUMN trading.daily_stats.trading_date IS 'The day, in the time zone of the session that refreshed it.';

COMMENT ON COLUMN trading.daily_stats.orders_placed IS 'Orders staged that day.';

COMMENT ON COLUMN trading.daily_stats.orders_filled IS 'Of those, orders now filled.';

COMMENT ON COLUMN trading.daily_stats.orders_rejected IS 'Of those, orders now rejected.';

COMMENT ON COLUMN trading.daily_stats.orders_cancelled IS 'Of those, orders now cancelled.';

COMMENT ON COLUMN trading.daily_stats.trades_executed IS 'Fills executed that day.';

COMMENT ON COLUMN trading.daily_stats.traded_value IS 'Sum of quantity x price of those fills.';

COMMENT ON COLUMN trading.daily_stats.realized_pnl IS 'Realized P&L of those fills, before costs.';

COMMENT ON COLUMN trading.daily_stats.costs IS 'Commissions and fees of those fills (positive).';

COMMENT ON COLUMN trading.daily_stats.net_pnl IS 'realized_pnl - costs.';

COMMENT ON COLUMN trading.daily_stats.order_to_trade_ratio IS 'orders_placed / trades_executed, 2 decimals; NULL without fills.';

COMMENT ON COLUMN trading.daily_stats.kill_switch_triggered IS 'The kill switch was switched on that day.';

COMMENT ON COLUMN trading.daily_stats.updated_at IS 'When the row was last recomputed.';

-- TABLE trading.data_quality

CREATE TABLE trading.data_quality (
    checked_at timestamp with time zone DEFAULT now() NOT NULL,
    source text NOT NULL,
    check_name text NOT NULL,
    symbol text,
    passed boolean NOT NULL,
    score numeric,
    details jsonb DEFAULT '{}'::jsonb NOT NULL,
    CONSTRAINT data_quality_check_name_valid CHECK ((check_name ~ '^[a-z][a-z0-9_]{0,63}$'::text)),
    CONSTRAINT data_quality_checked_at_valid CHECK (((checked_at >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND (checked_at <= (now() + '00:05:00'::interval)))),
    CONSTRAINT data_quality_details_object CHECK ((jsonb_typeof(details) = 'object'::text)),
    CONSTRAINT data_quality_score_valid CHECK (((score IS NULL) OR ((score >= (0)::numeric) AND (score <= (100)::numeric)))),
    CONSTRAINT data_quality_source_valid CHECK ((source ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'::text)),
    CONSTRAINT data_quality_symbol_valid CHECK (((symbol IS NULL) OR (symbol ~ '^[A-Z0-9][A-Z0-9./ -]{0,31}$'::text)))
);

COMMENT ON TABLE trading.data_quality IS 'Results of data quality checks, 1-day chunks, kept 90 days.';

COMMENT ON COLUMN trading.data_quality.checked_at IS 'When the check ran.';

COMMENT ON COLUMN trading.data_quality.source IS 'Data source checked (e.g. a feed name).';

COMMENT ON COLUMN trading.data_quality.check_name IS 'Which check, lower_snake_case (e.g. stale_prices, gaps).';

COMMENT ON COLUMN trading.data_quality.symbol IS 'Instrument checked, if the check is per symbol.';

COMMENT ON COLUMN trading.data_quality.passed IS 'Whether the check passed.';

COMMENT ON COLUMN trading.data_quality.score IS 'Quality score 0..100, if the check gives one.';

COMMENT ON COLUMN trading.data_quality.details IS 'Findings as a JSON object.';

-- TABLE trading.executions

CREATE TABLE trading.executions (
    id bigint NOT NULL,
    order_id bigint NOT NULL,
    position_id bigint,
    symbol text DEFAULT ''::text NOT NULL,
    side text DEFAULT ''::text NOT NULL,
    quantity numeric NOT NULL,
    price numeric NOT NULL,
    commission numeric DEFAULT 0 NOT NULL,
    fees numeric DEFAULT 0 NOT NULL,
    realized_pnl numeric DEFAULT 0 NOT NULL,
    venue text,
    broker_trade_id text,
    executed_at timestamp with time zone DEFAULT now() NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    recorded_by text DEFAULT 'broker'::text NOT NULL,
    sequenced_at timestamp with time zone,
    CONSTRAINT executions_broker_trade_id_valid CHECK (((broker_trade_id IS NULL) OR (broker_trade_id ~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$'::text))),
    CONSTRAINT executions_costs_valid CHECK (((commission >= (0)::numeric) AND (commission <= '1000000000'::numeric) AND (fees >= (0)::numeric) AND (fees <= '1000000000'::numeric))),
    CONSTRAINT executions_created_at_valid CHECK (((created_at >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND (created_at <= (now() + '00:05:00'::interval)))),
    CONSTRAINT executions_executed_at_valid CHECK (((executed_at >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND (executed_at <= (now() + '00:05:00'::interval)))),
    CONSTRAINT executions_price_valid CHECK (((price > (0)::numeric) AND (price <= '1000000000'::numeric))),
    CONSTRAINT executions_quantity_valid CHECK (((quantity > (0)::numeric) AND (quantity <= '1000000000'::numeric) AND (scale(quantity) <= 8))),
    CONSTRAINT executions_recorded_by_valid CHECK ((recorded_by ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$'::text)),
    CONSTRAINT executions_side_valid CHECK ((side = ANY (ARRAY['buy'::text, 'sell'::text]))),
    CONSTRAINT executions_symbol_valid CHECK ((symbol ~ '^[A-Z0-9][A-Z0-9./ -]{0,31}$'::text)),
    CONSTRAINT executions_venue_valid CHECK (((venue IS NULL) OR (venue ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$'::text)))
);

COMMENT ON TABLE trading.executions IS 'Fills with price, quantity, costs, venue and broker trade id; inserting one moves order and position.';

COMMENT ON COLUMN trading.executions.id IS 'Execution id.';

COMMENT ON COLUMN trading.executions.order_id IS 'The order filled (trading.staged_orders); it must be submitted or partially_filled.';

COMMENT ON COLUMN trading.executions.position_id IS 'Position the fill was applied to (for a flip, the one it closed); set by the database.';

COMMENT ON COLUMN trading.executions.symbol IS 'Copied from the order by the database.';

COMMENT ON COLUMN trading.executions.side IS 'buy or sell, copied from the order by the database.';

COMMENT ON COLUMN trading.executions.quantity IS 'Quantity filled, always positive (side gives the direction).';

COMMENT ON COLUMN trading.executions.price IS 'Fill price per unit.';

COMMENT ON COLUMN trading.executions.commission IS 'Broker commission (a cost: positive).';

COMMENT ON COLUMN trading.executions.fees IS 'Exchange, regulatory and other charges (a cost: positive).';

COMMENT ON COLUMN trading.executions.realized_pnl IS 'P&L this fill realized on the position, before costs; computed by the database (0 when it adds).';

COMMENT ON COLUMN trading.executions.venue IS 'Where it executed (exchange or venue code).';

COMMENT ON COLUMN trading.executions.broker_trade_id IS 'The broker''s id of the trade; unique, so a replayed fill is refused.';

COMMENT ON COLUMN trading.executions.executed_at IS 'When the trade happened (given by the caller; default now()).';

COMMENT ON COLUMN trading.executions.created_at IS 'When it was recorded (set by the database).';

COMMENT ON COLUMN trading.executions.recorded_by IS 'Who claims to have recorded the fill (validated; ''broker'' by default).';

COMMENT ON COLUMN trading.executions.sequenced_at IS 'When the fill was applied to its position, after the symbol lock: fills of a symbol apply in this order.';

-- SEQUENCE trading.executions_id_seq

ALTER TABLE trading.executions ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME trading.executions_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

-- TABLE trading.kill_switch_events

CREATE TABLE trading.kill_switch_events (
    id bigint NOT NULL,
    active boolean NOT NULL,
    reason text NOT NULL,
    actor text DEFAULT SESSION_USER NOT NULL,
    created_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    login_role text,
    CONSTRAINT kill_switch_events_actor_valid CHECK ((actor ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$'::text)),
    CONSTRAINT kill_switch_events_created_at_valid CHECK (((created_at >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND (created_at <= (now() + '00:05:00'::interval)))),
    CONSTRAINT kill_switch_events_login_role_valid CHECK (((login_role IS NULL) OR ((length(login_role) >= 1) AND (length(login_role) <= 64)))),
    CONSTRAINT kill_switch_events_reason_valid CHECK (((length(btrim(reason)) >= 1) AND (length(btrim(reason)) <= 2000)))
);

COMMENT ON TABLE trading.kill_switch_events IS 'Append-only kill switch history, written by trading.set_kill_switch(); the state is trading.kill_switch_state.';

COMMENT ON COLUMN trading.kill_switch_events.id IS 'Event id, in the order the changes were made.';

COMMENT ON COLUMN trading.kill_switch_events.active IS 'true: trading halted from here on; false: resumed.';

COMMENT ON COLUMN trading.kill_switch_events.reason IS 'Why it was switched, in words.';

COMMENT ON COLUMN trading.kill_switch_events.actor IS 'Who claims to have switched it (validated, as given to set_kill_switch()).';

COMMENT ON COLUMN trading.kill_switch_events.created_at IS 'When it was switched (database clock time, never the client''s).';

COMMENT ON COLUMN trading.kill_switch_events.login_role IS 'The authenticated login role that switched it (session_user, set by the database).';

-- SEQUENCE trading.kill_switch_events_id_seq

ALTER TABLE trading.kill_switch_events ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME trading.kill_switch_events_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

-- TABLE trading.stock_prices

CREATE TABLE trading.stock_prices (
    symbol text NOT NULL,
    "timestamp" timestamp with time zone NOT NULL,
    open_price numeric(12,4),
    high_price numeric(12,4),
    low_price numeric(12,4),
    close_price numeric(12,4) NOT NULL,
    volume bigint DEFAULT 0 NOT NULL,
    vwap numeric(12,4),
    market_cap bigint,
    shares_outstanding bigint,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT stock_prices_counts_nonnegative CHECK ((((market_cap IS NULL) OR (market_cap >= 0)) AND ((shares_outstanding IS NULL) OR (shares_outstanding >= 0)))),
    CONSTRAINT stock_prices_created_at_bounded CHECK (((created_at >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND (created_at <= (now() + '1 day'::interval)))),
    CONSTRAINT stock_prices_high_low_range CHECK ((((high_price IS NULL) OR (high_price >= GREATEST(close_price, COALESCE(open_price, close_price), COALESCE(low_price, close_price)))) AND ((low_price IS NULL) OR (low_price <= LEAST(close_price, COALESCE(open_price, close_price)))))),
    CONSTRAINT stock_prices_prices_positive CHECK (((close_price > (0)::numeric) AND (close_price <> 'NaN'::numeric) AND ((open_price IS NULL) OR ((open_price > (0)::numeric) AND (open_price <> 'NaN'::numeric))) AND ((high_price IS NULL) OR ((high_price > (0)::numeric) AND (high_price <> 'NaN'::numeric))) AND ((low_price IS NULL) OR ((low_price > (0)::numeric) AND (low_price <> 'NaN'::numeric))) AND ((vwap IS NULL) OR ((vwap > (0)::numeric) AND (vwap <> 'NaN'::numeric))))),
    CONSTRAINT stock_prices_symbol_format CHECK ((symbol ~ '^[A-Z][A-Z0-9.-]{0,9}$'::text)),
    CONSTRAINT stock_prices_timestamp_bounded CHECK ((("timestamp" >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND ("timestamp" <= (now() + '1 day'::interval)))),
    CONSTRAINT stock_prices_updated_at_bounded CHECK (((updated_at >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND (updated_at <= (now() + '1 day'::interval)))),
    CONSTRAINT stock_prices_volume_nonnegative CHECK ((volume >= 0))
);

COMMENT ON TABLE trading.stock_prices IS 'Raw prices (ticks or source bars), 1-day chunks, kept 90 days (ops_internal.retention); bars are in stock_prices_1m/_5m/_1h/_1d.';

COMMENT ON COLUMN trading.stock_prices.symbol IS 'Ticker, upper case (e.g. AAPL, BRK.B).';

COMMENT ON COLUMN trading.stock_prices."timestamp" IS 'Time of the tick or source bar; with symbol the key (re-ingesting it upserts).';

COMMENT ON COLUMN trading.stock_prices.open_price IS 'Source bar''s open; NULL for a tick (bars then use close_price).';

COMMENT ON COLUMN trading.stock_prices.high_price IS 'Source bar''s high; NULL for a tick (bars then use close_price).';

COMMENT ON COLUMN trading.stock_prices.low_price IS 'Source bar''s low; NULL for a tick (bars then use close_price).';

COMMENT ON COLUMN trading.stock_prices.close_price IS 'Trade price of a tick, or the source bar''s close; > 0.';

COMMENT ON COLUMN trading.stock_prices.volume IS 'Shares traded in the tick or source bar; >= 0, 0 when the feed gives none.';

COMMENT ON COLUMN trading.stock_prices.vwap IS 'Source bar''s volume-weighted average price; NULL for a tick (close_price stands in).';

COMMENT ON COLUMN trading.stock_prices.market_cap IS 'Market capitalisation as the feed reports it; optional.';

COMMENT ON COLUMN trading.stock_prices.shares_outstanding IS 'Shares outstanding as the feed reports it; optional.';

COMMENT ON COLUMN trading.stock_prices.created_at IS 'When the row was first stored.';

COMMENT ON COLUMN trading.stock_prices.updated_at IS 'When a re-ingest last corrected the row (an identical re-ingest leaves it).';

-- VIEW trading.latest_prices

CREATE VIEW trading.latest_prices AS
 WITH RECURSIVE symbols AS (
         SELECT min(stock_prices.symbol) AS symbol
           FROM trading.stock_prices
        UNION ALL
         SELECT ( SELECT min(p.symbol) AS min
                   FROM trading.stock_prices p
                  WHERE (p.symbol > s_1.symbol)) AS min
           FROM symbols s_1
          WHERE (s_1.symbol IS NOT NULL)
        )
 SELECT s.symbol,
    last_row."timestamp",
    last_row.close_price,
    last_row.volume,
    last_row.vwap
   FROM (symbols s
     CROSS JOIN LATERAL ( SELECT p."timestamp",
            p.close_price,
            p.volume,
            p.vwap
           FROM trading.stock_prices p
          WHERE ((p.symbol = s.symbol) AND (p."timestamp" <= upper(ops_internal.market_time_window())))
          ORDER BY p."timestamp" DESC
         LIMIT 1) last_row)
  WHERE (s.symbol IS NOT NULL);

COMMENT ON VIEW trading.latest_prices IS 'The newest raw price of every symbol.';

COMMENT ON COLUMN trading.latest_prices.symbol IS 'Ticker.';

COMMENT ON COLUMN trading.latest_prices."timestamp" IS 'Time of its newest row in stock_prices.';

COMMENT ON COLUMN trading.latest_prices.close_price IS 'Price of that row.';

COMMENT ON COLUMN trading.latest_prices.volume IS 'Shares traded in that tick or source bar.';

COMMENT ON COLUMN trading.latest_prices.vwap IS 'That row''s source bar VWAP; NULL for a tick.';

-- TABLE trading.market_events

CREATE TABLE trading.market_events (
    symbol text NOT NULL,
    "timestamp" timestamp with time zone NOT NULL,
    event_type text NOT NULL,
    price numeric(12,4),
    volume bigint,
    metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT market_events_created_at_bounded CHECK (((created_at >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND (created_at <= (now() + '1 day'::interval)))),
    CONSTRAINT market_events_event_type_format CHECK ((event_type ~ '^[a-z][a-z0-9_]{0,49}$'::text)),
    CONSTRAINT market_events_metadata_object CHECK ((jsonb_typeof(metadata) = 'object'::text)),
    CONSTRAINT market_events_price_positive CHECK (((price IS NULL) OR ((price > (0)::numeric) AND (price <> 'NaN'::numeric)))),
    CONSTRAINT market_events_symbol_format CHECK ((symbol ~ '^[A-Z][A-Z0-9.-]{0,9}$'::text)),
    CONSTRAINT market_events_timestamp_bounded CHECK ((("timestamp" >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND ("timestamp" <= (now() + '1 day'::interval)))),
    CONSTRAINT market_events_volume_nonnegative CHECK (((volume IS NULL) OR (volume >= 0)))
);

COMMENT ON TABLE trading.market_events IS 'Market events (halts, earnings, news, volume spikes, block trades) with jsonb metadata, 7-day chunks; no retention.';

COMMENT ON COLUMN trading.market_events.symbol IS 'Ticker the event concerns.';

COMMENT ON COLUMN trading.market_events."timestamp" IS 'When the event happened; with symbol and event_type the key (re-ingest skips it).';

COMMENT ON COLUMN trading.market_events.event_type IS 'Kind of event, lower_snake_case (e.g. earnings, trading_halt, volume_spike).';

COMMENT ON COLUMN trading.market_events.price IS 'Price at the event, when it has one.';

COMMENT ON COLUMN trading.market_events.volume IS 'Shares involved in the event, when it has a volume.';

COMMENT ON COLUMN trading.market_events.metadata IS 'Event details as a JSON object (GIN-indexed: filter with @>).';

COMMENT ON COLUMN trading.market_events.created_at IS 'When the row was stored.';

-- TABLE trading.options_data

CREATE TABLE trading.options_data (
    option_symbol text NOT NULL,
    underlying_symbol text NOT NULL,
    "timestamp" timestamp with time zone NOT NULL,
    expiration_date date NOT NULL,
    strike_price numeric(12,4) NOT NULL,
    option_type text NOT NULL,
    bid_price numeric(12,4),
    ask_price numeric(12,4),
    last_price numeric(12,4),
    volume bigint DEFAULT 0 NOT NULL,
    open_interest bigint DEFAULT 0 NOT NULL,
    implied_volatility numeric(10,6),
    delta numeric(10,6),
    gamma numeric(12,6),
    theta numeric(12,6),
    vega numeric(12,6),
    rho numeric(12,6),
    intrinsic_value numeric(12,4),
    time_value numeric(12,4),
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT options_data_bid_not_above_ask CHECK (((bid_price IS NULL) OR (ask_price IS NULL) OR (bid_price <= ask_price))),
    CONSTRAINT options_data_created_at_bounded CHECK (((created_at >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND (created_at <= (now() + '1 day'::interval)))),
    CONSTRAINT options_data_greeks_sane CHECK ((((implied_volatility IS NULL) OR ((implied_volatility >= (0)::numeric) AND (implied_volatility <> 'NaN'::numeric))) AND ((delta IS NULL) OR ((delta >= ('-1'::integer)::numeric) AND (delta <= (1)::numeric))) AND ((gamma IS NULL) OR ((gamma >= (0)::numeric) AND (gamma <> 'NaN'::numeric))) AND ((theta IS NULL) OR (theta <> 'NaN'::numeric)) AND ((vega IS NULL) OR ((vega >= (0)::numeric) AND (vega <> 'NaN'::numeric))) AND ((rho IS NULL) OR (rho <> 'NaN'::numeric)))),
    CONSTRAINT options_data_option_symbol_format CHECK ((option_symbol ~ '^[A-Z][A-Z0-9.]{0,5} *[0-9]{6}[CP][0-9]{8}$'::text)),
    CONSTRAINT options_data_option_type_known CHECK ((option_type = ANY (ARRAY['CALL'::text, 'PUT'::text]))),
    CONSTRAINT options_data_prices_nonnegative CHECK ((((bid_price IS NULL) OR ((bid_price >= (0)::numeric) AND (bid_price <> 'NaN'::numeric))) AND ((ask_price IS NULL) OR ((ask_price >= (0)::numeric) AND (ask_price <> 'NaN'::numeric))) AND ((last_price IS NULL) OR ((last_price >= (0)::numeric) AND (last_price <> 'NaN'::numeric))) AND ((intrinsic_value IS NULL) OR ((intrinsic_value >= (0)::numeric) AND (intrinsic_value <> 'NaN'::numeric))) AND ((time_value IS NULL) OR (time_value <> 'NaN'::numeric)))),
    CONSTRAINT options_data_strike_positive CHECK (((strike_price > (0)::numeric) AND (strike_price <> 'NaN'::numeric))),
    CONSTRAINT options_data_symbol_matches_contract CHECK ((("substring"(option_symbol, '([CP])[0-9]{8}$'::text) = "left"(option_type, 1)) AND ((("substring"(option_symbol, '[CP]([0-9]{8})$'::text))::numeric / (1000)::numeric) = strike_price) AND (make_date((2000 + ("substring"(option_symbol, '([0-9]{2})[0-9]{4}[CP][0-9]{8}$'::text))::integer), ("substring"(option_symbol, '([0-9]{2})[0-9]{2}[CP][0-9]{8}$'::text))::integer, ("substring"(option_symbol, '([0-9]{2})[CP][0-9]{8}$'::text))::integer) = expiration_date))),
    CONSTRAINT options_data_timestamp_bounded CHECK ((("timestamp" >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND ("timestamp" <= (now() + '1 day'::interval)))),
    CONSTRAINT options_data_underlying_format CHECK ((underlying_symbol ~ '^[A-Z][A-Z0-9.-]{0,9}$'::text)),
    CONSTRAINT options_data_updated_at_bounded CHECK (((updated_at >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND (updated_at <= (now() + '1 day'::interval)))),
    CONSTRAINT options_data_volume_nonnegative CHECK (((volume >= 0) AND (open_interest >= 0)))
);

COMMENT ON TABLE trading.options_data IS 'Options quotes with implied volatility and Greeks, 1-day chunks, kept 60 days (ops_internal.retention); hourly volumes in options_volume_1h.';

COMMENT ON COLUMN trading.options_data.option_symbol IS 'OCC contract symbol: root, YYMMDD expiry, C/P, strike x 1000 in 8 digits (must match the columns).';

COMMENT ON COLUMN trading.options_data.underlying_symbol IS 'Ticker of the underlying stock.';

COMMENT ON COLUMN trading.options_data."timestamp" IS 'Time of the quote; with option_symbol the key (re-ingesting it upserts).';

COMMENT ON COLUMN trading.options_data.expiration_date IS 'Expiry date of the contract.';

COMMENT ON COLUMN trading.options_data.strike_price IS 'Strike price; > 0.';

COMMENT ON COLUMN trading.options_data.option_type IS 'CALL or PUT.';

COMMENT ON COLUMN trading.options_data.bid_price IS 'Best bid premium per share; <= ask_price.';

COMMENT ON COLUMN trading.options_data.ask_price IS 'Best ask premium per share.';

COMMENT ON COLUMN trading.options_data.last_price IS 'Last traded premium per share.';

COMMENT ON COLUMN trading.options_data.volume IS 'Contracts traded since the previous quote of this contract.';

COMMENT ON COLUMN trading.options_data.open_interest IS 'Open contracts (published once a day).';

COMMENT ON COLUMN trading.options_data.implied_volatility IS 'Implied volatility, annualised, as a fraction (0.25 = 25%).';

COMMENT ON COLUMN trading.options_data.delta IS 'Premium change per 1 unit move of the underlying; -1..1, negative for puts.';

COMMENT ON COLUMN trading.options_data.gamma IS 'Delta change per 1 unit move of the underlying; >= 0.';

COMMENT ON COLUMN trading.options_data.theta IS 'Premium change per calendar day of time decay; usually negative.';

COMMENT ON COLUMN trading.options_data.vega IS 'Premium change per 1 point (0.01) of implied volatility; >= 0.';

COMMENT ON COLUMN trading.options_data.rho IS 'Premium change per 1 point (0.01) of the interest rate.';

COMMENT ON COLUMN trading.options_data.intrinsic_value IS 'Value if exercised now: max(0, spot - strike) for a call, max(0, strike - spot) for a put.';

COMMENT ON COLUMN trading.options_data.time_value IS 'Premium above intrinsic value (last_price - intrinsic_value).';

COMMENT ON COLUMN trading.options_data.created_at IS 'When the row was first stored.';

COMMENT ON COLUMN trading.options_data.updated_at IS 'When a re-ingest last corrected the row (an identical re-ingest leaves it).';

-- TABLE trading.options_volume_1h

CREATE TABLE trading.options_volume_1h (
    bucket timestamp with time zone NOT NULL,
    underlying_symbol text NOT NULL,
    call_volume bigint,
    put_volume bigint,
    put_call_ratio numeric,
    avg_implied_volatility numeric,
    quote_count bigint
);

COMMENT ON TABLE trading.options_volume_1h IS 'Hourly call and put volume, put/call ratio and mean IV per underlying, from options_data. Continuous aggregate (timescale edition) or a table kept by ops-db maintain (apache).';

COMMENT ON COLUMN trading.options_volume_1h.bucket IS 'Start of the hour (aligned in UTC).';

COMMENT ON COLUMN trading.options_volume_1h.underlying_symbol IS 'Ticker of the underlying.';

COMMENT ON COLUMN trading.options_volume_1h.call_volume IS 'Call contracts traded in the hour.';

COMMENT ON COLUMN trading.options_volume_1h.put_volume IS 'Put contracts traded in the hour.';

COMMENT ON COLUMN trading.options_volume_1h.put_call_ratio IS 'put_volume / call_volume, 6 decimals; NULL when no calls traded.';

COMMENT ON COLUMN trading.options_volume_1h.avg_implied_volatility IS 'Mean implied volatility of the hour''s quotes, as a fraction.';

COMMENT ON COLUMN trading.options_volume_1h.quote_count IS 'Quotes (rows of options_data) in the hour.';

-- TABLE trading.order_events

CREATE TABLE trading.order_events (
    id bigint NOT NULL,
    order_id bigint NOT NULL,
    occurred_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    event_type text NOT NULL,
    from_status text,
    to_status text NOT NULL,
    actor text NOT NULL,
    details jsonb DEFAULT '{}'::jsonb NOT NULL,
    login_role text,
    CONSTRAINT order_events_actor_valid CHECK ((actor ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$'::text)),
    CONSTRAINT order_events_from_status_valid CHECK (((from_status IS NULL) OR (from_status = ANY (ARRAY['staged'::text, 'pending_approval'::text, 'approved'::text, 'submitted'::text, 'partially_filled'::text, 'filled'::text, 'cancelled'::text, 'rejected'::text, 'expired'::text])))),
    CONSTRAINT order_events_occurred_at_valid CHECK (((occurred_at >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND (occurred_at <= (now() + '00:05:00'::interval)))),
    CONSTRAINT order_events_to_status_valid CHECK ((to_status = ANY (ARRAY['staged'::text, 'pending_approval'::text, 'approved'::text, 'submitted'::text, 'partially_filled'::text, 'filled'::text, 'cancelled'::text, 'rejected'::text, 'expired'::text]))),
    CONSTRAINT order_events_type_valid CHECK ((event_type = ANY (ARRAY['created'::text, 'transition'::text, 'fill'::text, 'changed'::text])))
);

COMMENT ON TABLE trading.order_events IS 'Append-only audit trail: one row per insert and change of an order, written by the database.';

COMMENT ON COLUMN trading.order_events.id IS 'Event id, increasing; the NOTIFY order_updates payload carries it as event_id.';

COMMENT ON COLUMN trading.order_events.order_id IS 'The order (trading.staged_orders.id).';

COMMENT ON COLUMN trading.order_events.occurred_at IS 'When the change was recorded (clock time, not the transaction start).';

COMMENT ON COLUMN trading.order_events.event_type IS 'created, transition (status change), fill, or changed (other fields).';

COMMENT ON COLUMN trading.order_events.from_status IS 'Status before the change; NULL for created.';

COMMENT ON COLUMN trading.order_events.to_status IS 'Status after the change.';

COMMENT ON COLUMN trading.order_events.actor IS 'Who acted: the ops_db.actor the application set, else the login role.';

COMMENT ON COLUMN trading.order_events.details IS 'JSON computed by the database: the order''s terms when created, else {"changed": {column: new value}}, plus fill or approval facts.';

COMMENT ON COLUMN trading.order_events.login_role IS 'The authenticated login role that made the change (session_user; ''unrecorded'' for events before migration 0500).';

-- SEQUENCE trading.order_events_id_seq

ALTER TABLE trading.order_events ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME trading.order_events_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

-- TABLE trading.performance_metrics

CREATE TABLE trading.performance_metrics (
    recorded_at timestamp with time zone NOT NULL,
    strategy_id bigint,
    metric text NOT NULL,
    value numeric NOT NULL,
    labels jsonb DEFAULT '{}'::jsonb NOT NULL,
    CONSTRAINT performance_metrics_labels_object CHECK ((jsonb_typeof(labels) = 'object'::text)),
    CONSTRAINT performance_metrics_metric_valid CHECK ((metric ~ '^[a-z][a-z0-9_.]{0,63}$'::text)),
    CONSTRAINT performance_metrics_recorded_at_valid CHECK (((recorded_at >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND (recorded_at <= (now() + '00:05:00'::interval)))),
    CONSTRAINT performance_metrics_value_finite CHECK (((value >= '-1000000000000000000'::numeric) AND (value <= '1000000000000000000'::numeric)))
);

COMMENT ON TABLE trading.performance_metrics IS 'Named metric values over time, 7-day chunks, kept 2 years.';

COMMENT ON COLUMN trading.performance_metrics.recorded_at IS 'When the value was measured.';

COMMENT ON COLUMN trading.performance_metrics.strategy_id IS 'Strategy it measures (trading.strategies.id, no foreign key); NULL: the whole desk or system.';

COMMENT ON COLUMN trading.performance_metrics.metric IS 'Metric name, lower case with _ and . (e.g. sharpe_ratio, latency.p99).';

COMMENT ON COLUMN trading.performance_metrics.value IS 'The value, in the metric''s own unit.';

COMMENT ON COLUMN trading.performance_metrics.labels IS 'Further dimensions as a JSON object.';

-- TABLE trading.portfolio_snapshots

CREATE TABLE trading.portfolio_snapshots (
    snapshot_at timestamp with time zone NOT NULL,
    cash_balance numeric NOT NULL,
    positions_value numeric NOT NULL,
    total_value numeric NOT NULL,
    unrealized_pnl numeric NOT NULL,
    realized_pnl_today numeric NOT NULL,
    open_positions integer NOT NULL,
    details jsonb DEFAULT '{}'::jsonb NOT NULL,
    CONSTRAINT portfolio_snapshots_cash_valid CHECK (((cash_balance >= '-1000000000000000'::numeric) AND (cash_balance <= '1000000000000000'::numeric))),
    CONSTRAINT portfolio_snapshots_details_object CHECK ((jsonb_typeof(details) = 'object'::text)),
    CONSTRAINT portfolio_snapshots_snapshot_at_valid CHECK (((snapshot_at >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND (snapshot_at <= (now() + '00:05:00'::interval))))
);

COMMENT ON TABLE trading.portfolio_snapshots IS 'The account''s value over time (seed 003 portfolios), 7-day chunks.';

COMMENT ON COLUMN trading.portfolio_snapshots.snapshot_at IS 'When the snapshot was taken; the key.';

COMMENT ON COLUMN trading.portfolio_snapshots.cash_balance IS 'Cash in the account, as given by the caller (negative: borrowed).';

COMMENT ON COLUMN trading.portfolio_snapshots.positions_value IS 'Sum of open positions'' quantity x mark (avg_cost when unmarked); shorts count negative.';

COMMENT ON COLUMN trading.portfolio_snapshots.total_value IS 'cash_balance + positions_value.';

COMMENT ON COLUMN trading.portfolio_snapshots.unrealized_pnl IS 'Sum of open positions'' unrealized P&L, before costs.';

COMMENT ON COLUMN trading.portfolio_snapshots.realized_pnl_today IS 'Realized P&L of the day''s fills up to snapshot_at, net of their commissions and fees.';

COMMENT ON COLUMN trading.portfolio_snapshots.open_positions IS 'Number of open positions.';

COMMENT ON COLUMN trading.portfolio_snapshots.details IS 'Extra figures as a JSON object.';

-- SEQUENCE trading.positions_id_seq

ALTER TABLE trading.positions ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME trading.positions_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

-- TABLE trading.reconciliation_log

CREATE TABLE trading.reconciliation_log (
    id bigint NOT NULL,
    symbol text NOT NULL,
    issue_type text NOT NULL,
    our_quantity numeric,
    broker_quantity numeric,
    our_price numeric,
    broker_price numeric,
    order_id bigint,
    details jsonb DEFAULT '{}'::jsonb NOT NULL,
    detected_at timestamp with time zone DEFAULT now() NOT NULL,
    resolved_at timestamp with time zone,
    resolved_by text,
    resolution text,
    CONSTRAINT reconciliation_log_details_object CHECK ((jsonb_typeof(details) = 'object'::text)),
    CONSTRAINT reconciliation_log_detected_at_valid CHECK (((detected_at >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND (detected_at <= (now() + '00:05:00'::interval)))),
    CONSTRAINT reconciliation_log_issue_type_valid CHECK ((issue_type = ANY (ARRAY['quantity_mismatch'::text, 'price_mismatch'::text, 'missing_at_broker'::text, 'unknown_at_broker'::text, 'order_status_mismatch'::text, 'other'::text]))),
    CONSTRAINT reconciliation_log_numbers_valid CHECK ((((our_quantity IS NULL) OR ((our_quantity >= '-1000000000'::numeric) AND (our_quantity <= '1000000000'::numeric))) AND ((broker_quantity IS NULL) OR ((broker_quantity >= '-1000000000'::numeric) AND (broker_quantity <= '1000000000'::numeric))) AND ((our_price IS NULL) OR ((our_price >= (0)::numeric) AND (our_price <= '1000000000'::numeric))) AND ((broker_price IS NULL) OR ((broker_price >= (0)::numeric) AND (broker_price <= '1000000000'::numeric))))),
    CONSTRAINT reconciliation_log_resolution_complete CHECK ((((resolved_at IS NULL) AND (resolved_by IS NULL) AND (resolution IS NULL)) OR ((resolved_at IS NOT NULL) AND (resolved_by IS NOT NULL) AND ((length(btrim(resolution)) >= 1) AND (length(btrim(resolution)) <= 2000))))),
    CONSTRAINT reconciliation_log_resolution_valid CHECK (((resolution IS NULL) OR ((length(btrim(resolution)) >= 1) AND (length(btrim(resolution)) <= 4000)))),
    CONSTRAINT reconciliation_log_resolved_at_valid CHECK (((resolved_at IS NULL) OR ((resolved_at >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND (resolved_at <= (now() + '00:05:00'::interval))))),
    CONSTRAINT reconciliation_log_resolved_by_valid CHECK (((resolved_by IS NULL) OR (resolved_by ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$'::text))),
    CONSTRAINT reconciliation_log_symbol_valid CHECK ((symbol ~ '^[A-Z0-9][A-Z0-9./ -]{0,31}$'::text))
);

COMMENT ON TABLE trading.reconciliation_log IS 'Differences between our books and the broker''s, and how each was resolved.';

COMMENT ON COLUMN trading.reconciliation_log.id IS 'Issue id.';

COMMENT ON COLUMN trading.reconciliation_log.symbol IS 'Instrument concerned.';

COMMENT ON COLUMN trading.reconciliation_log.issue_type IS 'quantity_mismatch, price_mismatch, missing_at_broker, unknown_at_broker, order_status_mismatch or other.';

COMMENT ON COLUMN trading.reconciliation_log.our_quantity IS 'Our signed quantity (positive long, negative short).';

COMMENT ON COLUMN trading.reconciliation_log.broker_quantity IS 'The broker''s signed quantity (positive long, negative short).';

COMMENT ON COLUMN trading.reconciliation_log.our_price IS 'Our price (e.g. average cost or fill price).';

COMMENT ON COLUMN trading.reconciliation_log.broker_price IS 'The broker''s price for the same.';

COMMENT ON COLUMN trading.reconciliation_log.order_id IS 'Order concerned, if any (trading.staged_orders).';

COMMENT ON COLUMN trading.reconciliation_log.details IS 'Further details as a JSON object.';

COMMENT ON COLUMN trading.reconciliation_log.detected_at IS 'When the difference was found.';

COMMENT ON COLUMN trading.reconciliation_log.resolved_at IS 'When it was resolved; NULL while open (resolved_at, resolved_by and resolution go together).';

COMMENT ON COLUMN trading.reconciliation_log.resolved_by IS 'Who resolved it.';

COMMENT ON COLUMN trading.reconciliation_log.resolution IS 'How it was resolved, in words.';

-- SEQUENCE trading.reconciliation_log_id_seq

ALTER TABLE trading.reconciliation_log ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME trading.reconciliation_log_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

-- TABLE trading.signal_performance_1d

CREATE TABLE trading.signal_performance_1d (
    bucket timestamp with time zone NOT NULL,
    symbol text NOT NULL,
    strategy text,
    total_signals bigint,
    buy_signals bigint,
    sell_signals bigint,
    hold_signals bigint,
    avg_confidence numeric,
    max_confidence numeric,
    high_confidence_signals bigint
);

COMMENT ON TABLE trading.signal_performance_1d IS 'Daily signal counts by type and confidence per symbol and strategy, from signals. Continuous aggregate (timescale edition) or a table kept by ops-db maintain (apache).';

COMMENT ON COLUMN trading.signal_performance_1d.bucket IS 'Start of the day (aligned in UTC).';

COMMENT ON COLUMN trading.signal_performance_1d.symbol IS 'Ticker.';

COMMENT ON COLUMN trading.signal_performance_1d.strategy IS 'Strategy named on the signals; NULL for signals without one.';

COMMENT ON COLUMN trading.signal_performance_1d.total_signals IS 'Signals issued that day.';

COMMENT ON COLUMN trading.signal_performance_1d.buy_signals IS 'BUY signals.';

COMMENT ON COLUMN trading.signal_performance_1d.sell_signals IS 'SELL signals.';

COMMENT ON COLUMN trading.signal_performance_1d.hold_signals IS 'HOLD signals.';

COMMENT ON COLUMN trading.signal_performance_1d.avg_confidence IS 'Mean confidence (0..1), 6 decimals.';

COMMENT ON COLUMN trading.signal_performance_1d.max_confidence IS 'Highest confidence (0..1).';

COMMENT ON COLUMN trading.signal_performance_1d.high_confidence_signals IS 'Signals with confidence above 0.8.';

-- TABLE trading.signals

CREATE TABLE trading.signals (
    id bigint NOT NULL,
    symbol text NOT NULL,
    signal_type text NOT NULL,
    confidence numeric(5,4) NOT NULL,
    target_price numeric(12,4),
    stop_loss numeric(12,4),
    reasoning text,
    model_version text,
    strategy text,
    features jsonb,
    "timestamp" timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT signals_confidence_range CHECK (((confidence >= (0)::numeric) AND (confidence <= (1)::numeric))),
    CONSTRAINT signals_created_at_bounded CHECK (((created_at >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND (created_at <= (now() + '1 day'::interval)))),
    CONSTRAINT signals_expires_at_bounded CHECK (((expires_at IS NULL) OR (expires_at <= ("timestamp" + '366 days'::interval)))),
    CONSTRAINT signals_expiry_after_signal CHECK (((expires_at IS NULL) OR (expires_at > "timestamp"))),
    CONSTRAINT signals_features_object CHECK (((features IS NULL) OR (jsonb_typeof(features) = 'object'::text))),
    CONSTRAINT signals_model_version_valid CHECK (((model_version IS NULL) OR (model_version ~ '^[A-Za-z0-9][A-Za-z0-9._:+-]{0,63}$'::text))),
    CONSTRAINT signals_prices_positive CHECK ((((target_price IS NULL) OR ((target_price > (0)::numeric) AND (target_price <> 'NaN'::numeric))) AND ((stop_loss IS NULL) OR ((stop_loss > (0)::numeric) AND (stop_loss <> 'NaN'::numeric))))),
    CONSTRAINT signals_reasoning_valid CHECK (((reasoning IS NULL) OR (char_length(reasoning) <= 4000))),
    CONSTRAINT signals_signal_type_known CHECK ((signal_type = ANY (ARRAY['BUY'::text, 'SELL'::text, 'HOLD'::text]))),
    CONSTRAINT signals_stop_on_losing_side CHECK (((target_price IS NULL) OR (stop_loss IS NULL) OR ((signal_type = 'BUY'::text) AND (stop_loss < target_price)) OR ((signal_type = 'SELL'::text) AND (stop_loss > target_price)) OR (signal_type = 'HOLD'::text))),
    CONSTRAINT signals_strategy_valid CHECK (((strategy IS NULL) OR (strategy ~ '^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$'::text))),
    CONSTRAINT signals_symbol_format CHECK ((symbol ~ '^[A-Z][A-Z0-9.-]{0,9}$'::text)),
    CONSTRAINT signals_timestamp_bounded CHECK ((("timestamp" >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND ("timestamp" <= (now() + '1 day'::interval)))),
    CONSTRAINT signals_updated_at_bounded CHECK (((updated_at >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND (updated_at <= (now() + '1 day'::interval))))
);

COMMENT ON TABLE trading.signals IS 'Model-generated BUY/SELL/HOLD signals, 1-day chunks, kept 1 year; daily counts in signal_performance_1d.';

COMMENT ON COLUMN trading.signals.id IS 'Signal id (identity); staged_orders.signal_id and agent_decisions.signal_id refer to it.';

COMMENT ON COLUMN trading.signals.symbol IS 'Ticker the signal is for.';

COMMENT ON COLUMN trading.signals.signal_type IS 'BUY, SELL or HOLD.';

COMMENT ON COLUMN trading.signals.confidence IS 'Model confidence, 0..1 (above 0.8 counts as high confidence).';

COMMENT ON COLUMN trading.signals.target_price IS 'Price the signal expects; a BUY''s target is above its stop, a SELL''s below.';

COMMENT ON COLUMN trading.signals.stop_loss IS 'Price at which the idea is wrong: below the target for a BUY, above it for a SELL.';

COMMENT ON COLUMN trading.signals.reasoning IS 'Why the model signalled, in words.';

COMMENT ON COLUMN trading.signals.model_version IS 'Model (and version) that produced the signal.';

COMMENT ON COLUMN trading.signals.strategy IS 'Strategy name the signal belongs to, if any (free text, not a key of strategies).';

COMMENT ON COLUMN trading.signals.features IS 'Model inputs as a JSON object (GIN-indexed).';

COMMENT ON COLUMN trading.signals."timestamp" IS 'When the signal was issued.';

COMMENT ON COLUMN trading.signals.expires_at IS 'When the signal stops being valid (after timestamp); NULL: no expiry.';

COMMENT ON COLUMN trading.signals.created_at IS 'When the row was stored.';

COMMENT ON COLUMN trading.signals.updated_at IS 'When the row was last changed.';

-- SEQUENCE trading.signals_id_seq

ALTER TABLE trading.signals ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME trading.signals_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

-- SEQUENCE trading.staged_orders_id_seq

ALTER TABLE trading.staged_orders ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME trading.staged_orders_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

-- TABLE trading.stock_prices_1d

CREATE TABLE trading.stock_prices_1d (
    bucket timestamp with time zone NOT NULL,
    symbol text NOT NULL,
    open numeric,
    high numeric,
    low numeric,
    close numeric,
    volume bigint,
    turnover numeric,
    vwap numeric,
    trade_count bigint
);

COMMENT ON TABLE trading.stock_prices_1d IS 'OHLCV bars of 1 day (UTC) per symbol, from stock_prices_1h. Continuous aggregate (timescale edition) or a table kept by ops-db maintain (apache).';

COMMENT ON COLUMN trading.stock_prices_1d.bucket IS 'Start of the bar (time_bucket, aligned in UTC); the bar covers [bucket, bucket + width).';

COMMENT ON COLUMN trading.stock_prices_1d.symbol IS 'Ticker.';

COMMENT ON COLUMN trading.stock_prices_1d.open IS 'First price in the bar (a tick''s close when it has no open).';

COMMENT ON COLUMN trading.stock_prices_1d.high IS 'Highest price in the bar.';

COMMENT ON COLUMN trading.stock_prices_1d.low IS 'Lowest price in the bar.';

COMMENT ON COLUMN trading.stock_prices_1d.close IS 'Last price in the bar.';

COMMENT ON COLUMN trading.stock_prices_1d.volume IS 'Shares traded in the bar.';

COMMENT ON COLUMN trading.stock_prices_1d.turnover IS 'Sum of price x volume (vwap, else close, per tick): traded value; coarser bars sum it.';

COMMENT ON COLUMN trading.stock_prices_1d.vwap IS 'Volume-weighted average price: turnover / volume, 6 decimals; NULL when volume is 0.';

COMMENT ON COLUMN trading.stock_prices_1d.trade_count IS 'Raw price rows (ticks or source bars) in the bar.';

-- TABLE trading.stock_prices_1h

CREATE TABLE trading.stock_prices_1h (
    bucket timestamp with time zone NOT NULL,
    symbol text NOT NULL,
    open numeric,
    high numeric,
    low numeric,
    close numeric,
    volume bigint,
    turnover numeric,
    vwap numeric,
    trade_count bigint
);

COMMENT ON TABLE trading.stock_prices_1h IS 'OHLCV bars of 1 hour per symbol, from stock_prices_5m. Continuous aggregate (timescale edition) or a table kept by ops-db maintain (apache).';

COMMENT ON COLUMN trading.stock_prices_1h.bucket IS 'Start of the bar (time_bucket, aligned in UTC); the bar covers [bucket, bucket + width).';

COMMENT ON COLUMN trading.stock_prices_1h.symbol IS 'Ticker.';

COMMENT ON COLUMN trading.stock_prices_1h.open IS 'First price in the bar (a tick''s close when it has no open).';

COMMENT ON COLUMN trading.stock_prices_1h.high IS 'Highest price in the bar.';

COMMENT ON COLUMN trading.stock_prices_1h.low IS 'Lowest price in the bar.';

COMMENT ON COLUMN trading.stock_prices_1h.close IS 'Last price in the bar.';

COMMENT ON COLUMN trading.stock_prices_1h.volume IS 'Shares traded in the bar.';

COMMENT ON COLUMN trading.stock_prices_1h.turnover IS 'Sum of price x volume (vwap, else close, per tick): traded value; coarser bars sum it.';

COMMENT ON COLUMN trading.stock_prices_1h.vwap IS 'Volume-weighted average price: turnover / volume, 6 decimals; NULL when volume is 0.';

COMMENT ON COLUMN trading.stock_prices_1h.trade_count IS 'Raw price rows (ticks or source bars) in the bar.';

-- TABLE trading.stock_prices_1m

CREATE TABLE trading.stock_prices_1m (
    bucket timestamp with time zone NOT NULL,
    symbol text NOT NULL,
    open numeric,
    high numeric,
    low numeric,
    close numeric,
    volume bigint,
    turnover numeric,
    vwap numeric,
    trade_count bigint
);

COMMENT ON TABLE trading.stock_prices_1m IS 'OHLCV bars of 1 minute per symbol, from stock_prices; kept after the raw prices are dropped. Continuous aggregate (timescale edition) or a table kept by ops-db maintain (apache).';

COMMENT ON COLUMN trading.stock_prices_1m.bucket IS 'Start of the bar (time_bucket, aligned in UTC); the bar covers [bucket, bucket + width).';

COMMENT ON COLUMN trading.stock_prices_1m.symbol IS 'Ticker.';

COMMENT ON COLUMN trading.stock_prices_1m.open IS 'First price in the bar (a tick''s close when it has no open).';

COMMENT ON COLUMN trading.stock_prices_1m.high IS 'Highest price in the bar.';

COMMENT ON COLUMN trading.stock_prices_1m.low IS 'Lowest price in the bar.';

COMMENT ON COLUMN trading.stock_prices_1m.close IS 'Last price in the bar.';

COMMENT ON COLUMN trading.stock_prices_1m.volume IS 'Shares traded in the bar.';

COMMENT ON COLUMN trading.stock_prices_1m.turnover IS 'Sum of price x volume (vwap, else close, per tick): traded value; coarser bars sum it.';

COMMENT ON COLUMN trading.stock_prices_1m.vwap IS 'Volume-weighted average price: turnover / volume, 6 decimals; NULL when volume is 0.';

COMMENT ON COLUMN trading.stock_prices_1m.trade_count IS 'Raw price rows (ticks or source bars) in the bar.';

-- TABLE trading.stock_prices_5m

CREATE TABLE trading.stock_prices_5m (
    bucket timestamp with time zone NOT NULL,
    symbol text NOT NULL,
    open numeric,
    high numeric,
    low numeric,
    close numeric,
    volume bigint,
    turnover numeric,
    vwap numeric,
    trade_count bigint
);

COMMENT ON TABLE trading.stock_prices_5m IS 'OHLCV bars of 5 minutes per symbol, from stock_prices_1m. Continuous aggregate (timescale edition) or a table kept by ops-db maintain (apache).';

COMMENT ON COLUMN trading.stock_prices_5m.bucket IS 'Start of the bar (time_bucket, aligned in UTC); the bar covers [bucket, bucket + width).';

COMMENT ON COLUMN trading.stock_prices_5m.symbol IS 'Ticker.';

COMMENT ON COLUMN trading.stock_prices_5m.open IS 'First price in the bar (a tick''s close when it has no open).';

COMMENT ON COLUMN trading.stock_prices_5m.high IS 'Highest price in the bar.';

COMMENT ON COLUMN trading.stock_prices_5m.low IS 'Lowest price in the bar.';

COMMENT ON COLUMN trading.stock_prices_5m.close IS 'Last price in the bar.';

COMMENT ON COLUMN trading.stock_prices_5m.volume IS 'Shares traded in the bar.';

COMMENT ON COLUMN trading.stock_prices_5m.turnover IS 'Sum of price x volume (vwap, else close, per tick): traded value; coarser bars sum it.';

COMMENT ON COLUMN trading.stock_prices_5m.vwap IS 'Volume-weighted average price: turnover / volume, 6 decimals; NULL when volume is 0.';

COMMENT ON COLUMN trading.stock_prices_5m.trade_count IS 'Raw price rows (ticks or source bars) in the bar.';

-- TABLE trading.strategies

CREATE TABLE trading.strategies (
    id bigint NOT NULL,
    name text NOT NULL,
    strategy_type text DEFAULT 'manual'::text NOT NULL,
    mode text DEFAULT 'PAPER'::text NOT NULL,
    active boolean DEFAULT true NOT NULL,
    requires_approval boolean DEFAULT false NOT NULL,
    max_order_quantity numeric,
    max_order_value numeric,
    description text,
    params jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT strategies_created_at_valid CHECK (((created_at >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND (created_at <= (now() + '00:05:00'::interval)))),
    CONSTRAINT strategies_description_valid CHECK (((description IS NULL) OR ((length(description) >= 1) AND (length(description) <= 2000)))),
    CONSTRAINT strategies_max_order_quantity_valid CHECK (((max_order_quantity IS NULL) OR ((max_order_quantity > (0)::numeric) AND (max_order_quantity <= '1000000000'::numeric)))),
    CONSTRAINT strategies_max_order_value_valid CHECK (((max_order_value IS NULL) OR ((max_order_value > (0)::numeric) AND (max_order_value <= '1000000000000000'::numeric)))),
    CONSTRAINT strategies_mode_valid CHECK ((mode = ANY (ARRAY['PAPER'::text, 'LIVE'::text]))),
    CONSTRAINT strategies_name_valid CHECK ((name ~ '^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$'::text)),
    CONSTRAINT strategies_params_object CHECK ((jsonb_typeof(params) = 'object'::text)),
    CONSTRAINT strategies_type_valid CHECK ((strategy_type ~ '^[a-z][a-z0-9_]{0,31}$'::text)),
    CONSTRAINT strategies_updated_at_valid CHECK (((updated_at >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND (updated_at <= (now() + '00:05:00'::interval))))
);

COMMENT ON TABLE trading.strategies IS 'Trading strategies; orders above max_order_quantity/max_order_value need approval.';

COMMENT ON COLUMN trading.strategies.id IS 'Strategy id; staged_orders.strategy_id refers to it.';

COMMENT ON COLUMN trading.strategies.name IS 'Unique name.';

COMMENT ON COLUMN trading.strategies.strategy_type IS 'Kind of strategy, lower_snake_case (default manual).';

COMMENT ON COLUMN trading.strategies.mode IS 'PAPER (simulated) or LIVE (real money).';

COMMENT ON COLUMN trading.strategies.active IS 'Only an active strategy may stage orders.';

COMMENT ON COLUMN trading.strategies.requires_approval IS 'Every order of this strategy needs approval (four eyes).';

COMMENT ON COLUMN trading.strategies.max_order_quantity IS 'Orders above this quantity need approval; NULL: no limit.';

COMMENT ON COLUMN trading.strategies.max_order_value IS 'Orders above this value (quantity x limit, stop or last price) need approval; NULL: no limit.';

COMMENT ON COLUMN trading.strategies.description IS 'What the strategy does, in words.';

COMMENT ON COLUMN trading.strategies.params IS 'Strategy parameters as a JSON object.';

COMMENT ON COLUMN trading.strategies.created_at IS 'When the strategy was created.';

COMMENT ON COLUMN trading.strategies.updated_at IS 'When the strategy was last changed (set by ops_db).';

-- SEQUENCE trading.strategies_id_seq

ALTER TABLE trading.strategies ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME trading.strategies_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

-- TABLE trading.strategy_performance

CREATE TABLE trading.strategy_performance (
    id bigint NOT NULL,
    strategy_id bigint NOT NULL,
    period_start timestamp with time zone NOT NULL,
    period_end timestamp with time zone NOT NULL,
    total_return numeric,
    pnl numeric,
    sharpe_ratio numeric,
    max_drawdown numeric,
    win_rate numeric,
    trades integer DEFAULT 0 NOT NULL,
    risk_metrics jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT strategy_performance_created_at_valid CHECK (((created_at >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND (created_at <= (now() + '00:05:00'::interval)))),
    CONSTRAINT strategy_performance_period_end_valid CHECK (((period_end >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND (period_end <= (now() + '1 year'::interval)))),
    CONSTRAINT strategy_performance_period_start_valid CHECK (((period_start >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND (period_start <= (now() + '1 day'::interval)))),
    CONSTRAINT strategy_performance_period_valid CHECK ((period_end > period_start)),
    CONSTRAINT strategy_performance_risk_metrics_object CHECK ((jsonb_typeof(risk_metrics) = 'object'::text)),
    CONSTRAINT strategy_performance_trades_valid CHECK ((trades >= 0)),
    CONSTRAINT strategy_performance_win_rate_valid CHECK (((win_rate IS NULL) OR ((win_rate >= (0)::numeric) AND (win_rate <= (1)::numeric))))
);

COMMENT ON TABLE trading.strategy_performance IS 'Per strategy and period: return, P&L, Sharpe ratio, drawdown and win rate.';

COMMENT ON COLUMN trading.strategy_performance.id IS 'Row id.';

COMMENT ON COLUMN trading.strategy_performance.strategy_id IS 'The strategy (trading.strategies).';

COMMENT ON COLUMN trading.strategy_performance.period_start IS 'Start of the period measured (inclusive).';

COMMENT ON COLUMN trading.strategy_performance.period_end IS 'End of the period measured (after period_start); one row per strategy and period.';

COMMENT ON COLUMN trading.strategy_performance.total_return IS 'Return over the period as a fraction (0.05 = +5%).';

COMMENT ON COLUMN trading.strategy_performance.pnl IS 'P&L over the period.';

COMMENT ON COLUMN trading.strategy_performance.sharpe_ratio IS 'Sharpe ratio over the period.';

COMMENT ON COLUMN trading.strategy_performance.max_drawdown IS 'Largest fall from a peak within the period, as a fraction of the peak (0.15 = 15%).';

COMMENT ON COLUMN trading.strategy_performance.win_rate IS 'Share of winning trades, 0..1.';

COMMENT ON COLUMN trading.strategy_performance.trades IS 'Trades in the period.';

COMMENT ON COLUMN trading.strategy_performance.risk_metrics IS 'Further risk figures as a JSON object.';

COMMENT ON COLUMN trading.strategy_performance.created_at IS 'When the row was stored.';

-- SEQUENCE trading.strategy_performance_id_seq

ALTER TABLE trading.strategy_performance ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME trading.strategy_performance_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

-- VIEW trading.system_events

CREATE VIEW trading.system_events AS
 SELECT system_events_routine.id,
    system_events_routine."timestamp",
    system_events_routine.severity,
    system_events_routine.component,
    system_events_routine.event_type,
    system_events_routine.message,
    system_events_routine.details,
    system_events_routine.created_at
   FROM ops_internal.system_events_routine
UNION ALL
 SELECT system_events_critical.id,
    system_events_critical."timestamp",
    system_events_critical.severity,
    system_events_critical.component,
    system_events_critical.event_type,
    system_events_critical.message,
    system_events_critical.details,
    system_events_critical.created_at
   FROM ops_internal.system_events_critical;

COMMENT ON VIEW trading.system_events IS 'All system events; INSERT routes CRITICAL/EMERGENCY to a 2-year table, the rest to a 3-month one.';

COMMENT ON COLUMN trading.system_events.id IS 'Event id, from one sequence shared by both tables.';

COMMENT ON COLUMN trading.system_events."timestamp" IS 'When the event happened; defaults to now().';

COMMENT ON COLUMN trading.system_events.severity IS 'DEBUG, INFO, WARNING, ERROR, CRITICAL or EMERGENCY (upper-cased on insert).';

COMMENT ON COLUMN trading.system_events.component IS 'Part of the system that reported it (e.g. oms, broker-gw, ops-db).';

COMMENT ON COLUMN trading.system_events.event_type IS 'What happened, as a short name.';

COMMENT ON COLUMN trading.system_events.message IS 'What happened, in words.';

COMMENT ON COLUMN trading.system_events.details IS 'Event details as a JSON object.';

COMMENT ON COLUMN trading.system_events.created_at IS 'When the row was stored.';

-- TABLE trading.system_health

CREATE TABLE trading.system_health (
    checked_at timestamp with time zone DEFAULT now() NOT NULL,
    component text NOT NULL,
    status text NOT NULL,
    health_score numeric,
    metrics jsonb DEFAULT '{}'::jsonb NOT NULL,
    details jsonb DEFAULT '{}'::jsonb NOT NULL,
    CONSTRAINT system_health_checked_at_valid CHECK (((checked_at >= '2000-01-01 00:00:00+00'::timestamp with time zone) AND (checked_at <= (now() + '00:05:00'::interval)))),
    CONSTRAINT system_health_component_valid CHECK ((component ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'::text)),
    CONSTRAINT system_health_json_objects CHECK (((jsonb_typeof(metrics) = 'object'::text) AND (jsonb_typeof(details) = 'object'::text))),
    CONSTRAINT system_health_score_valid CHECK (((health_score IS NULL) OR ((health_score >= (0)::numeric) AND (health_score <= (100)::numeric)))),
    CONSTRAINT system_health_status_valid CHECK ((status = ANY (ARRAY['healthy'::text, 'degraded'::text, 'down'::text, 'unknown'::text])))
);

COMMENT ON TABLE trading.system_health IS 'Health samples per component, 1-day chunks, kept 90 days.';

COMMENT ON COLUMN trading.system_health.checked_at IS 'When the component was checked.';

COMMENT ON COLUMN trading.system_health.component IS 'Component checked (e.g. oms, broker-gw, market-data).';

COMMENT ON COLUMN trading.system_health.status IS 'healthy, degraded, down or unknown.';

COMMENT ON COLUMN trading.system_health.health_score IS 'Health score 0..100 (100 = fully healthy).';

COMMENT ON COLUMN trading.system_health.metrics IS 'Measured figures as a JSON object.';

COMMENT ON COLUMN trading.system_health.details IS 'Further details as a JSON object.';

-- VIEW trading.v_active_positions

CREATE VIEW trading.v_active_positions AS
 SELECT p.id,
    p.symbol,
        CASE
            WHEN (p.quantity > (0)::numeric) THEN 'long'::text
            ELSE 'short'::text
        END AS direction,
    p.quantity,
    p.avg_cost,
    p.current_price,
    p.market_value,
    p.unrealized_pnl,
    round(((p.unrealized_pnl / (abs(p.quantity) * p.avg_cost)) * (100)::numeric), 4) AS unrealized_pnl_pct,
    p.realized_pnl,
    p.fees,
    p.opened_at,
    p.last_marked_at
   FROM trading.positions p
  WHERE (p.status = 'open'::text);

COMMENT ON VIEW trading.v_active_positions IS 'Open positions with mark-to-market P&L (seed 004).';

COMMENT ON COLUMN trading.v_active_positions.id IS 'Position id (trading.positions).';

COMMENT ON COLUMN trading.v_active_positions.symbol IS 'Instrument.';

COMMENT ON COLUMN trading.v_active_positions.direction IS 'long (quantity > 0) or short.';

COMMENT ON COLUMN trading.v_active_positions.quantity IS 'Signed quantity: positive long, negative short.';

COMMENT ON COLUMN trading.v_active_positions.avg_cost IS 'Average entry price per unit.';

COMMENT ON COLUMN trading.v_active_positions.current_price IS 'Last mark; NULL until marked.';

COMMENT ON COLUMN trading.v_active_positions.market_value IS 'quantity x current_price (negative for a short).';

COMMENT ON COLUMN trading.v_active_positions.unrealized_pnl IS '(current_price - avg_cost) x quantity, before costs.';

COMMENT ON COLUMN trading.v_active_positions.unrealized_pnl_pct IS 'unrealized_pnl as a percentage of the cost |quantity| x avg_cost (5 = +5%).';

COMMENT ON COLUMN trading.v_active_positions.realized_pnl IS 'P&L realized so far on this position, before costs.';

COMMENT ON COLUMN trading.v_active_positions.fees IS 'Commissions and fees paid on it (positive).';

COMMENT ON COLUMN trading.v_active_positions.opened_at IS 'When it was opened.';

COMMENT ON COLUMN trading.v_active_positions.last_marked_at IS 'When current_price was set.';

-- VIEW trading.v_reconciliation_issues

CREATE VIEW trading.v_reconciliation_issues AS
 SELECT r.id,
    r.symbol,
    r.issue_type,
    r.our_quantity,
    r.broker_quantity,
    (r.broker_quantity - r.our_quantity) AS quantity_difference,
    r.our_price,
    r.broker_price,
    r.order_id,
    r.details,
    r.detected_at,
    (now() - r.detected_at) AS age
   FROM trading.reconciliation_log r
  WHERE (r.resolved_at IS NULL);

COMMENT ON VIEW trading.v_reconciliation_issues IS 'Unresolved reconciliation issues, oldest first by age (seed 004).';

COMMENT ON COLUMN trading.v_reconciliation_issues.id IS 'Issue id (trading.reconciliation_log).';

COMMENT ON COLUMN trading.v_reconciliation_issues.symbol IS 'Instrument concerned.';

COMMENT ON COLUMN trading.v_reconciliation_issues.issue_type IS 'quantity_mismatch, price_mismatch, missing_at_broker, unknown_at_broker, order_status_mismatch or other.';

COMMENT ON COLUMN trading.v_reconciliation_issues.our_quantity IS 'Our signed quantity.';

COMMENT ON COLUMN trading.v_reconciliation_issues.broker_quantity IS 'The broker''s signed quantity.';

COMMENT ON COLUMN trading.v_reconciliation_issues.quantity_difference IS 'broker_quantity - our_quantity (positive: the broker holds more).';

COMMENT ON COLUMN trading.v_reconciliation_issues.our_price IS 'Our price.';

COMMENT ON COLUMN trading.v_reconciliation_issues.broker_price IS 'The broker''s price.';

COMMENT ON COLUMN trading.v_reconciliation_issues.order_id IS 'Order concerned, if any.';

COMMENT ON COLUMN trading.v_reconciliation_issues.details IS 'Further details as a JSON object.';

COMMENT ON COLUMN trading.v_reconciliation_issues.detected_at IS 'When the difference was found.';

COMMENT ON COLUMN trading.v_reconciliation_issues.age IS 'How long it has been open: now() - detected_at.';

-- VIEW trading.v_today_orders

CREATE VIEW trading.v_today_orders AS
 SELECT o.id,
    o.client_order_id,
    o.broker_order_id,
    s.name AS strategy,
    o.symbol,
    o.side,
    o.order_type,
    o.quantity,
    o.limit_price,
    o.stop_price,
    o.status,
    o.approval_required,
    o.filled_quantity,
    o.avg_fill_price,
    o.created_by,
    o.created_at,
    o.updated_at
   FROM (trading.staged_orders o
     JOIN trading.strategies s ON ((s.id = o.strategy_id)))
  WHERE ((o.created_at >= date_trunc('day'::text, now())) AND (o.created_at < (date_trunc('day'::text, now()) + '1 day'::interval)));

COMMENT ON VIEW trading.v_today_orders IS 'Orders staged today, in the session''s time zone (seed 004).';

COMMENT ON COLUMN trading.v_today_orders.id IS 'Order id.';

COMMENT ON COLUMN trading.v_today_orders.client_order_id IS 'The application''s unique id for the order.';

COMMENT ON COLUMN trading.v_today_orders.broker_order_id IS 'The broker''s order id, once submitted.';

COMMENT ON COLUMN trading.v_today_orders.strategy IS 'Strategy name.';

COMMENT ON COLUMN trading.v_today_orders.symbol IS 'Instrument.';

COMMENT ON COLUMN trading.v_today_orders.side IS 'buy or sell.';

COMMENT ON COLUMN trading.v_today_orders.order_type IS 'market, limit, stop or stop_limit.';

COMMENT ON COLUMN trading.v_today_orders.quantity IS 'Quantity ordered (positive).';

COMMENT ON COLUMN trading.v_today_orders.limit_price IS 'Limit price, for limit and stop_limit orders.';

COMMENT ON COLUMN trading.v_today_orders.stop_price IS 'Stop price, for stop and stop_limit orders.';

COMMENT ON COLUMN trading.v_today_orders.status IS 'Current status.';

COMMENT ON COLUMN trading.v_today_orders.approval_required IS 'Whether it needs approval.';

COMMENT ON COLUMN trading.v_today_orders.filled_quantity IS 'Quantity filled so far.';

COMMENT ON COLUMN trading.v_today_orders.avg_fill_price IS 'Average fill price; NULL before the first fill.';

COMMENT ON COLUMN trading.v_today_orders.created_by IS 'Who staged it.';

COMMENT ON COLUMN trading.v_today_orders.created_at IS 'When it was staged.';

COMMENT ON COLUMN trading.v_today_orders.updated_at IS 'When it last changed.';

-- DEFAULT trading.system_events timestamp

ALTER TABLE ONLY trading.system_events ALTER COLUMN "timestamp" SET DEFAULT now();

-- DEFAULT trading.system_events details

ALTER TABLE ONLY trading.system_events ALTER COLUMN details SET DEFAULT '{}'::jsonb;

-- DEFAULT trading.system_events created_at

ALTER TABLE ONLY trading.system_events ALTER COLUMN created_at SET DEFAULT now();

-- CONSTRAINT ops_internal.maintenance_runs maintenance_runs_pkey

ALTER TABLE ONLY ops_internal.maintenance_runs
    ADD CONSTRAINT maintenance_runs_pkey PRIMARY KEY (id);

-- CONSTRAINT ops_internal.order_change_context order_change_context_pkey

ALTER TABLE ONLY ops_internal.order_change_context
    ADD CONSTRAINT order_change_context_pkey PRIMARY KEY (xid, order_id);

-- CONSTRAINT ops_internal.retention retention_pkey

ALTER TABLE ONLY ops_internal.retention
    ADD CONSTRAINT retention_pkey PRIMARY KEY (hypertable);

-- CONSTRAINT ops_internal.rollup rollup_pkey

ALTER TABLE ONLY ops_internal.rollup
    ADD CONSTRAINT rollup_pkey PRIMARY KEY (name);

-- CONSTRAINT ops_internal.system_events_critical system_events_critical_pkey

ALTER TABLE ONLY ops_internal.system_events_critical
    ADD CONSTRAINT system_events_critical_pkey PRIMARY KEY (id, "timestamp");

-- CONSTRAINT ops_internal.system_events_routine system_events_routine_pkey

ALTER TABLE ONLY ops_internal.system_events_routine
    ADD CONSTRAINT system_events_routine_pkey PRIMARY KEY (id, "timestamp");

-- CONSTRAINT public._ops_db_checksum _ops_db_checksum_pkey

ALTER TABLE ONLY public._ops_db_checksum
    ADD CONSTRAINT _ops_db_checksum_pkey PRIMARY KEY (migration_id);

-- CONSTRAINT public._ops_db_reapplied _ops_db_reapplied_pkey

ALTER TABLE ONLY public._ops_db_reapplied
    ADD CONSTRAINT _ops_db_reapplied_pkey PRIMARY KEY (path);

-- CONSTRAINT public._yoyo_log _yoyo_log_pkey

ALTER TABLE ONLY public._yoyo_log
    ADD CONSTRAINT _yoyo_log_pkey PRIMARY KEY (id);

-- CONSTRAINT public._yoyo_migration _yoyo_migration_pkey

ALTER TABLE ONLY public._yoyo_migration
    ADD CONSTRAINT _yoyo_migration_pkey PRIMARY KEY (migration_hash);

-- CONSTRAINT public._yoyo_version _yoyo_version_pkey

ALTER TABLE ONLY public._yoyo_version
    ADD CONSTRAINT _yoyo_version_pkey PRIMARY KEY (version);

-- CONSTRAINT public.yoyo_lock yoyo_lock_pkey

ALTER TABLE ONLY public.yoyo_lock
    ADD CONSTRAINT yoyo_lock_pkey PRIMARY KEY (locked);

-- CONSTRAINT trading.agent_decisions agent_decisions_pkey

ALTER TABLE ONLY trading.agent_decisions
    ADD CONSTRAINT agent_decisions_pkey PRIMARY KEY (id, decided_at);

-- CONSTRAINT trading.alerts alerts_pkey

ALTER TABLE ONLY trading.alerts
    ADD CONSTRAINT alerts_pkey PRIMARY KEY (id);

-- CONSTRAINT trading.daily_stats daily_stats_pkey

ALTER TABLE ONLY trading.daily_stats
    ADD CONSTRAINT daily_stats_pkey PRIMARY KEY (trading_date);

-- CONSTRAINT trading.executions executions_broker_trade_id_key

ALTER TABLE ONLY trading.executions
    ADD CONSTRAINT executions_broker_trade_id_key UNIQUE (broker_trade_id);

-- CONSTRAINT trading.executions executions_pkey

ALTER TABLE ONLY trading.executions
    ADD CONSTRAINT executions_pkey PRIMARY KEY (id);

-- CONSTRAINT trading.kill_switch_events kill_switch_events_pkey

ALTER TABLE ONLY trading.kill_switch_events
    ADD CONSTRAINT kill_switch_events_pkey PRIMARY KEY (id);

-- CONSTRAINT trading.kill_switch_state kill_switch_state_pkey

ALTER TABLE ONLY trading.kill_switch_state
    ADD CONSTRAINT kill_switch_state_pkey PRIMARY KEY (singleton);

-- CONSTRAINT trading.market_events market_events_pkey

ALTER TABLE ONLY trading.market_events
    ADD CONSTRAINT market_events_pkey PRIMARY KEY (symbol, "timestamp", event_type);

-- CONSTRAINT trading.options_data options_data_pkey

ALTER TABLE ONLY trading.options_data
    ADD CONSTRAINT options_data_pkey PRIMARY KEY (option_symbol, "timestamp");

-- CONSTRAINT trading.options_volume_1h options_volume_1h_pkey

ALTER TABLE ONLY trading.options_volume_1h
    ADD CONSTRAINT options_volume_1h_pkey PRIMARY KEY (underlying_symbol, bucket);

-- CONSTRAINT trading.order_events order_events_pkey

ALTER TABLE ONLY trading.order_events
    ADD CONSTRAINT order_events_pkey PRIMARY KEY (id, occurred_at);

-- CONSTRAINT trading.portfolio_snapshots portfolio_snapshots_pkey

ALTER TABLE ONLY trading.portfolio_snapshots
    ADD CONSTRAINT portfolio_snapshots_pkey PRIMARY KEY (snapshot_at);

-- CONSTRAINT trading.positions positions_pkey

ALTER TABLE ONLY trading.positions
    ADD CONSTRAINT positions_pkey PRIMARY KEY (id);

-- CONSTRAINT trading.reconciliation_log reconciliation_log_pkey

ALTER TABLE ONLY trading.reconciliation_log
    ADD CONSTRAINT reconciliation_log_pkey PRIMARY KEY (id);

-- CONSTRAINT trading.signal_performance_1d signal_performance_1d_key

ALTER TABLE ONLY trading.signal_performance_1d
    ADD CONSTRAINT signal_performance_1d_key UNIQUE NULLS NOT DISTINCT (symbol, strategy, bucket);

-- CONSTRAINT trading.signals signals_pkey

ALTER TABLE ONLY trading.signals
    ADD CONSTRAINT signals_pkey PRIMARY KEY (id, "timestamp");

-- CONSTRAINT trading.staged_orders staged_orders_broker_order_id_key

ALTER TABLE ONLY trading.staged_orders
    ADD CONSTRAINT staged_orders_broker_order_id_key UNIQUE (broker_order_id);

-- CONSTRAINT trading.staged_orders staged_orders_client_order_id_key

ALTER TABLE ONLY trading.staged_orders
    ADD CONSTRAINT staged_orders_client_order_id_key UNIQUE (client_order_id);

-- CONSTRAINT trading.staged_orders staged_orders_pkey

ALTER TABLE ONLY trading.staged_orders
    ADD CONSTRAINT staged_orders_pkey PRIMARY KEY (id);

-- CONSTRAINT trading.stock_prices_1d stock_prices_1d_pkey

ALTER TABLE ONLY trading.stock_prices_1d
    ADD CONSTRAINT stock_prices_1d_pkey PRIMARY KEY (symbol, bucket) INCLUDE (open, high, low, close, volume, vwap, trade_count);

-- CONSTRAINT trading.stock_prices_1h stock_prices_1h_pkey

ALTER TABLE ONLY trading.stock_prices_1h
    ADD CONSTRAINT stock_prices_1h_pkey PRIMARY KEY (symbol, bucket) INCLUDE (open, high, low, close, volume, vwap, trade_count);

-- CONSTRAINT trading.stock_prices_1m stock_prices_1m_pkey

ALTER TABLE ONLY trading.stock_prices_1m
    ADD CONSTRAINT stock_prices_1m_pkey PRIMARY KEY (symbol, bucket) INCLUDE (open, high, low, close, volume, vwap, trade_count);

-- CONSTRAINT trading.stock_prices_5m stock_prices_5m_pkey

ALTER TABLE ONLY trading.stock_prices_5m
    ADD CONSTRAINT stock_prices_5m_pkey PRIMARY KEY (symbol, bucket) INCLUDE (open, high, low, close, volume, vwap, trade_count);

-- CONSTRAINT trading.stock_prices stock_prices_pkey

ALTER TABLE ONLY trading.stock_prices
    ADD CONSTRAINT stock_prices_pkey PRIMARY KEY (symbol, "timestamp");

-- CONSTRAINT trading.strategies strategies_name_key

ALTER TABLE ONLY trading.strategies
    ADD CONSTRAINT strategies_name_key UNIQUE (name);

-- CONSTRAINT trading.strategies strategies_pkey

ALTER TABLE ONLY trading.strategies
    ADD CONSTRAINT strategies_pkey PRIMARY KEY (id);

-- CONSTRAINT trading.strategy_performance strategy_performance_period_key

ALTER TABLE ONLY trading.strategy_performance
    ADD CONSTRAINT strategy_performance_period_key UNIQUE (strategy_id, period_start, period_end);

-- CONSTRAINT trading.strategy_performance strategy_performance_pkey

ALTER TABLE ONLY trading.strategy_performance
    ADD CONSTRAINT strategy_performance_pkey PRIMARY KEY (id);

-- INDEX ops_internal.maintenance_runs_succeeded_finished_idx

CREATE INDEX maintenance_runs_succeeded_finished_idx ON ops_internal.maintenance_runs USING btree (finished_at DESC) WHERE (succeeded AND (NOT dry_run));

-- INDEX ops_internal.rollup_invalidation_hypertable_idx

CREATE INDEX rollup_invalidation_hypertable_idx ON ops_internal.rollup_invalidation USING btree (hypertable);

-- INDEX ops_internal.system_events_critical_component_idx

CREATE INDEX system_events_critical_component_idx ON ops_internal.system_events_critical USING btree (component, "timestamp" DESC);

-- INDEX ops_internal.system_events_critical_timestamp_idx

CREATE INDEX system_events_critical_timestamp_idx ON ops_internal.system_events_critical USING btree ("timestamp" DESC);

-- INDEX ops_internal.system_events_routine_component_idx

CREATE INDEX system_events_routine_component_idx ON ops_internal.system_events_routine USING btree (component, "timestamp" DESC);

-- INDEX ops_internal.system_events_routine_timestamp_idx

CREATE INDEX system_events_routine_timestamp_idx ON ops_internal.system_events_routine USING btree ("timestamp" DESC);

-- INDEX trading.agent_decisions_agent_idx

CREATE INDEX agent_decisions_agent_idx ON trading.agent_decisions USING btree (agent, decided_at DESC);

-- INDEX trading.agent_decisions_decided_at_idx

CREATE INDEX agent_decisions_decided_at_idx ON trading.agent_decisions USING btree (decided_at DESC);

-- INDEX trading.alerts_unresolved_idx

CREATE INDEX alerts_unresolved_idx ON trading.alerts USING btree (created_at DESC) WHERE (resolved_at IS NULL);

-- INDEX trading.data_quality_check_idx

CREATE INDEX data_quality_check_idx ON trading.data_quality USING btree (source, check_name, checked_at DESC);

-- INDEX trading.data_quality_checked_at_idx

CREATE INDEX data_quality_checked_at_idx ON trading.data_quality USING btree (checked_at DESC);

-- INDEX trading.executions_executed_at_idx

CREATE INDEX executions_executed_at_idx ON trading.executions USING btree (executed_at DESC);

-- INDEX trading.executions_order_idx

CREATE INDEX executions_order_idx ON trading.executions USING btree (order_id, executed_at);

-- INDEX trading.executions_position_idx

CREATE INDEX executions_position_idx ON trading.executions USING btree (position_id);

-- INDEX trading.kill_switch_events_created_at_idx

CREATE INDEX kill_switch_events_created_at_idx ON trading.kill_switch_events USING btree (created_at DESC, id DESC);

-- INDEX trading.market_events_metadata_idx

CREATE INDEX market_events_metadata_idx ON trading.market_events USING gin (metadata jsonb_path_ops);

-- INDEX trading.market_events_timestamp_idx

CREATE INDEX market_events_timestamp_idx ON trading.market_events USING btree ("timestamp" DESC);

-- INDEX trading.market_events_type_time_idx

CREATE INDEX market_events_type_time_idx ON trading.market_events USING btree (event_type, "timestamp" DESC);

-- INDEX trading.options_data_chain_idx

CREATE INDEX options_data_chain_idx ON trading.options_data USING btree (underlying_symbol, expiration_date, strike_price, "timestamp" DESC);

-- INDEX trading.options_data_timestamp_idx

CREATE INDEX options_data_timestamp_idx ON trading.options_data USING btree ("timestamp" DESC);

-- INDEX trading.options_data_underlying_time_idx

CREATE INDEX options_data_underlying_time_idx ON trading.options_data USING btree (underlying_symbol, "timestamp" DESC);

-- INDEX trading.order_events_occurred_at_idx

CREATE INDEX order_events_occurred_at_idx ON trading.order_events USING btree (occurred_at DESC);

-- INDEX trading.order_events_order_idx

CREATE INDEX order_events_order_idx ON trading.order_events USING btree (order_id, occurred_at, id);

-- INDEX trading.performance_metrics_metric_idx

CREATE INDEX performance_metrics_metric_idx ON trading.performance_metrics USING btree (metric, strategy_id, recorded_at DESC);

-- INDEX trading.performance_metrics_recorded_at_idx

CREATE INDEX performance_metrics_recorded_at_idx ON trading.performance_metrics USING btree (recorded_at DESC);

-- INDEX trading.positions_closed_at_idx

CREATE INDEX positions_closed_at_idx ON trading.positions USING btree (closed_at DESC) WHERE (status = 'closed'::text);

-- INDEX trading.positions_open_symbol_key

CREATE UNIQUE INDEX positions_open_symbol_key ON trading.positions USING btree (symbol) WHERE (status = 'open'::text);

-- INDEX trading.reconciliation_log_unresolved_idx

CREATE INDEX reconciliation_log_unresolved_idx ON trading.reconciliation_log USING btree (detected_at) WHERE (resolved_at IS NULL);

-- INDEX trading.signals_features_idx

CREATE INDEX signals_features_idx ON trading.signals USING gin (features jsonb_path_ops);

-- INDEX trading.signals_strategy_time_idx

CREATE INDEX signals_strategy_time_idx ON trading.signals USING btree (strategy, "timestamp" DESC) WHERE (strategy IS NOT NULL);

-- INDEX trading.signals_symbol_time_idx

CREATE INDEX signals_symbol_time_idx ON trading.signals USING btree (symbol, "timestamp" DESC);

-- INDEX trading.signals_timestamp_idx

CREATE INDEX signals_timestamp_idx ON trading.signals USING btree ("timestamp" DESC);

-- INDEX trading.staged_orders_created_at_idx

CREATE INDEX staged_orders_created_at_idx ON trading.staged_orders USING btree (created_at DESC, id DESC);

-- INDEX trading.staged_orders_open_expiry_idx

CREATE INDEX staged_orders_open_expiry_idx ON trading.staged_orders USING btree (expires_at) WHERE (status = ANY (ARRAY['staged'::text, 'pending_approval'::text, 'approved'::text, 'submitted'::text, 'partially_filled'::text]));

-- INDEX trading.staged_orders_status_idx

CREATE INDEX staged_orders_status_idx ON trading.staged_orders USING btree (status, created_at DESC, id DESC);

-- INDEX trading.staged_orders_strategy_idx

CREATE INDEX staged_orders_strategy_idx ON trading.staged_orders USING btree (strategy_id, created_at DESC, id DESC);

-- INDEX trading.staged_orders_symbol_idx

CREATE INDEX staged_orders_symbol_idx ON trading.staged_orders USING btree (symbol, created_at DESC, id DESC);

-- INDEX trading.stock_prices_1d_bucket_idx

CREATE INDEX stock_prices_1d_bucket_idx ON trading.stock_prices_1d USING btree (bucket DESC);

-- INDEX trading.stock_prices_1h_bucket_idx

CREATE INDEX stock_prices_1h_bucket_idx ON trading.stock_prices_1h USING btree (bucket DESC);

-- INDEX trading.stock_prices_1m_bucket_idx

CREATE INDEX stock_prices_1m_bucket_idx ON trading.stock_prices_1m USING btree (bucket DESC);

-- INDEX trading.stock_prices_5m_bucket_idx

CREATE INDEX stock_prices_5m_bucket_idx ON trading.stock_prices_5m USING btree (bucket DESC);

-- INDEX trading.stock_prices_timestamp_idx

CREATE INDEX stock_prices_timestamp_idx ON trading.stock_prices USING btree ("timestamp" DESC);

-- INDEX trading.system_health_checked_at_idx

CREATE INDEX system_health_checked_at_idx ON trading.system_health USING btree (checked_at DESC);

-- INDEX trading.system_health_component_idx

CREATE INDEX system_health_component_idx ON trading.system_health USING btree (component, checked_at DESC);

-- TRIGGER trading.executions executions_apply_fill

CREATE TRIGGER executions_apply_fill BEFORE INSERT ON trading.executions FOR EACH ROW EXECUTE FUNCTION ops_internal.executions_apply_fill();

-- TRIGGER trading.options_data options_data_rollup_log_delete

CREATE TRIGGER options_data_rollup_log_delete AFTER DELETE ON trading.options_data REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ops_internal.rollup_log_changes('trading.options_data');

-- TRIGGER trading.options_data options_data_rollup_log_insert

CREATE TRIGGER options_data_rollup_log_insert AFTER INSERT ON trading.options_data REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ops_internal.rollup_log_changes('trading.options_data');

-- TRIGGER trading.options_data options_data_rollup_log_update

CREATE TRIGGER options_data_rollup_log_update AFTER UPDATE ON trading.options_data REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ops_internal.rollup_log_changes('trading.options_data');

-- TRIGGER trading.order_events order_events_append_only

CREATE TRIGGER order_events_append_only BEFORE DELETE OR UPDATE ON trading.order_events FOR EACH ROW EXECUTE FUNCTION ops_internal.order_events_append_only();

-- TRIGGER trading.order_events order_events_no_truncate

CREATE TRIGGER order_events_no_truncate BEFORE TRUNCATE ON trading.order_events FOR EACH STATEMENT EXECUTE FUNCTION ops_internal.order_events_append_only();

-- TRIGGER trading.signals signals_rollup_log_delete

CREATE TRIGGER signals_rollup_log_delete AFTER DELETE ON trading.signals REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ops_internal.rollup_log_changes('trading.signals');

-- TRIGGER trading.signals signals_rollup_log_insert

CREATE TRIGGER signals_rollup_log_insert AFTER INSERT ON trading.signals REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ops_internal.rollup_log_changes('trading.signals');

-- TRIGGER trading.signals signals_rollup_log_update

CREATE TRIGGER signals_rollup_log_update AFTER UPDATE ON trading.signals REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ops_internal.rollup_log_changes('trading.signals');

-- TRIGGER trading.staged_orders staged_orders_audit

CREATE TRIGGER staged_orders_audit AFTER INSERT OR UPDATE ON trading.staged_orders FOR EACH ROW EXECUTE FUNCTION ops_internal.staged_orders_audit();

-- TRIGGER trading.staged_orders staged_orders_guard

CREATE TRIGGER staged_orders_guard BEFORE INSERT OR UPDATE ON trading.staged_orders FOR EACH ROW EXECUTE FUNCTION ops_internal.staged_orders_guard();

-- TRIGGER trading.stock_prices stock_prices_rollup_log_delete

CREATE TRIGGER stock_prices_rollup_log_delete AFTER DELETE ON trading.stock_prices REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ops_internal.rollup_log_changes('trading.stock_prices');

-- TRIGGER trading.stock_prices stock_prices_rollup_log_insert

CREATE TRIGGER stock_prices_rollup_log_insert AFTER INSERT ON trading.stock_prices REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ops_internal.rollup_log_changes('trading.stock_prices');

-- TRIGGER trading.stock_prices stock_prices_rollup_log_update

CREATE TRIGGER stock_prices_rollup_log_update AFTER UPDATE ON trading.stock_prices REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ops_internal.rollup_log_changes('trading.stock_prices');

-- TRIGGER trading.system_events system_events_route

CREATE TRIGGER system_events_route INSTEAD OF INSERT ON trading.system_events FOR EACH ROW EXECUTE FUNCTION ops_internal.route_system_event();

-- FK CONSTRAINT trading.executions executions_order_id_fkey

ALTER TABLE ONLY trading.executions
    ADD CONSTRAINT executions_order_id_fkey FOREIGN KEY (order_id) REFERENCES trading.staged_orders(id);

-- FK CONSTRAINT trading.executions executions_position_id_fkey

ALTER TABLE ONLY trading.executions
    ADD CONSTRAINT executions_position_id_fkey FOREIGN KEY (position_id) REFERENCES trading.positions(id);

-- FK CONSTRAINT trading.reconciliation_log reconciliation_log_order_id_fkey

ALTER TABLE ONLY trading.reconciliation_log
    ADD CONSTRAINT reconciliation_log_order_id_fkey FOREIGN KEY (order_id) REFERENCES trading.staged_orders(id);

-- FK CONSTRAINT trading.staged_orders staged_orders_strategy_id_fkey

ALTER TABLE ONLY trading.staged_orders
    ADD CONSTRAINT staged_orders_strategy_id_fkey FOREIGN KEY (strategy_id) REFERENCES trading.strategies(id);

-- FK CONSTRAINT trading.strategy_performance strategy_performance_strategy_id_fkey

ALTER TABLE ONLY trading.strategy_performance
    ADD CONSTRAINT strategy_performance_strategy_id_fkey FOREIGN KEY (strategy_id) REFERENCES trading.strategies(id);

GRANT USAGE ON SCHEMA ops_internal TO ops_app;
GRANT USAGE ON SCHEMA ops_internal TO ops_readonly;

GRANT USAGE ON SCHEMA trading TO ops_app;
GRANT USAGE ON SCHEMA trading TO ops_readonly;

REVOKE ALL ON FUNCTION ops_internal.apply_retention(p_dry_run boolean) FROM PUBLIC;

REVOKE ALL ON FUNCTION ops_internal.executions_apply_fill() FROM PUBLIC;

REVOKE ALL ON FUNCTION ops_internal.kill_switch_hold() FROM PUBLIC;
GRANT ALL ON FUNCTION ops_internal.kill_switch_hold() TO ops_app;

REVOKE ALL ON FUNCTION ops_internal.lock_symbol(p_symbol text) FROM PUBLIC;

REVOKE ALL ON FUNCTION ops_internal.materialize_rollup(p_name text, p_lo timestamp with time zone, p_hi timestamp with time zone) FROM PUBLIC;

REVOKE ALL ON FUNCTION ops_internal.order_change_context(p_order_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION ops_internal.order_change_context(p_order_id bigint) TO ops_app;

REVOKE ALL ON FUNCTION ops_internal.refresh_rollup_tables(p_dry_run boolean) FROM PUBLIC;

REVOKE ALL ON FUNCTION ops_internal.replay_lag() FROM PUBLIC;
GRANT ALL ON FUNCTION ops_internal.replay_lag() TO ops_app;
GRANT ALL ON FUNCTION ops_internal.replay_lag() TO ops_readonly;

REVOKE ALL ON FUNCTION ops_internal.rollup_log_changes() FROM PUBLIC;

REVOKE ALL ON FUNCTION ops_internal.route_system_event() FROM PUBLIC;

REVOKE ALL ON FUNCTION ops_internal.staged_orders_audit() FROM PUBLIC;

GRANT SELECT ON TABLE trading.positions TO ops_app;
GRANT SELECT ON TABLE trading.positions TO ops_readonly;

GRANT UPDATE(current_price) ON TABLE trading.positions TO ops_app;

GRANT UPDATE(last_marked_at) ON TABLE trading.positions TO ops_app;

REVOKE ALL ON FUNCTION trading.close_position(p_symbol text, p_price numeric, p_reason text) FROM PUBLIC;
GRANT ALL ON FUNCTION trading.close_position(p_symbol text, p_price numeric, p_reason text) TO ops_app;

GRANT SELECT,INSERT,UPDATE ON TABLE trading.staged_orders TO ops_app;
GRANT SELECT ON TABLE trading.staged_orders TO ops_readonly;

REVOKE ALL ON FUNCTION trading.expire_due_orders(p_now timestamp with time zone, p_actor text) FROM PUBLIC;
GRANT ALL ON FUNCTION trading.expire_due_orders(p_now timestamp with time zone, p_actor text) TO ops_app;

REVOKE ALL ON FUNCTION trading.screen_order(p_order_id bigint, p_actor text) FROM PUBLIC;
GRANT ALL ON FUNCTION trading.screen_order(p_order_id bigint, p_actor text) TO ops_app;

GRANT SELECT ON TABLE trading.kill_switch_state TO ops_app;
GRANT SELECT ON TABLE trading.kill_switch_state TO ops_readonly;

REVOKE ALL ON FUNCTION trading.set_kill_switch(p_active boolean, p_reason text, p_actor text) FROM PUBLIC;
GRANT ALL ON FUNCTION trading.set_kill_switch(p_active boolean, p_reason text, p_actor text) TO ops_app;
GRANT ALL ON FUNCTION trading.set_kill_switch(p_active boolean, p_reason text, p_actor text) TO ops_risk;

REVOKE ALL ON FUNCTION trading.stage_order(p_client_order_id text, p_strategy_id bigint, p_signal_id bigint, p_symbol text, p_side text, p_order_type text, p_quantity numeric, p_limit_price numeric, p_stop_price numeric, p_stop_loss numeric, p_take_profit numeric, p_time_in_force text, p_created_by text, p_risk_score numeric, p_risk_factors jsonb, p_portfolio_impact jsonb, p_concentration_check boolean, p_compliance_flags jsonb, p_metadata jsonb, p_market_data jsonb, p_tags text[], p_expires_at timestamp with time zone) FROM PUBLIC;
GRANT ALL ON FUNCTION trading.stage_order(p_client_order_id text, p_strategy_id bigint, p_signal_id bigint, p_symbol text, p_side text, p_order_type text, p_quantity numeric, p_limit_price numeric, p_stop_price numeric, p_stop_loss numeric, p_take_profit numeric, p_time_in_force text, p_created_by text, p_risk_score numeric, p_risk_factors jsonb, p_portfolio_impact jsonb, p_concentration_check boolean, p_compliance_flags jsonb, p_metadata jsonb, p_market_data jsonb, p_tags text[], p_expires_at timestamp with time zone) TO ops_app;

REVOKE ALL ON FUNCTION trading.transition_order(p_order_id bigint, p_to_status text, p_actor text, p_reason text, p_broker_order_id text) FROM PUBLIC;
GRANT ALL ON FUNCTION trading.transition_order(p_order_id bigint, p_to_status text, p_actor text, p_reason text, p_broker_order_id text) TO ops_app;

GRANT SELECT ON TABLE ops_internal.data_relations TO ops_app;
GRANT SELECT ON TABLE ops_internal.data_relations TO ops_readonly;

GRANT SELECT ON TABLE ops_internal.maintenance_runs TO ops_app;
GRANT SELECT ON TABLE ops_internal.maintenance_runs TO ops_readonly;

GRANT SELECT ON TABLE ops_internal.retention TO ops_app;
GRANT SELECT ON TABLE ops_internal.retention TO ops_readonly;

GRANT SELECT ON TABLE ops_internal.rollup TO ops_app;
GRANT SELECT ON TABLE ops_internal.rollup TO ops_readonly;

GRANT SELECT ON TABLE ops_internal.rollup_invalidation TO ops_app;
GRANT SELECT ON TABLE ops_internal.rollup_invalidation TO ops_readonly;

GRANT SELECT ON TABLE ops_internal.system_events_critical TO ops_app;
GRANT SELECT ON TABLE ops_internal.system_events_critical TO ops_readonly;

GRANT SELECT ON TABLE ops_internal.system_events_routine TO ops_app;
GRANT SELECT ON TABLE ops_internal.system_events_routine TO ops_readonly;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public._ops_db_checksum TO ops_owner;
GRANT SELECT ON TABLE public._ops_db_checksum TO ops_app;
GRANT SELECT ON TABLE public._ops_db_checksum TO ops_readonly;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public._ops_db_reapplied TO ops_owner;
GRANT SELECT ON TABLE public._ops_db_reapplied TO ops_app;
GRANT SELECT ON TABLE public._ops_db_reapplied TO ops_readonly;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public._yoyo_log TO ops_owner;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public._yoyo_migration TO ops_owner;
GRANT SELECT ON TABLE public._yoyo_migration TO ops_app;
GRANT SELECT ON TABLE public._yoyo_migration TO ops_readonly;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public._yoyo_version TO ops_owner;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.yoyo_lock TO ops_owner;

GRANT SELECT,INSERT ON TABLE trading.agent_decisions TO ops_app;
GRANT SELECT ON TABLE trading.agent_decisions TO ops_readonly;

GRANT SELECT,USAGE ON SEQUENCE trading.agent_decisions_id_seq TO ops_app;
GRANT SELECT ON SEQUENCE trading.agent_decisions_id_seq TO ops_readonly;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE trading.alerts TO ops_app;
GRANT SELECT ON TABLE trading.alerts TO ops_readonly;

GRANT SELECT,USAGE ON SEQUENCE trading.alerts_id_seq TO ops_app;
GRANT SELECT ON SEQUENCE trading.alerts_id_seq TO ops_readonly;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE trading.daily_stats TO ops_app;
GRANT SELECT ON TABLE trading.daily_stats TO ops_readonly;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE trading.data_quality TO ops_app;
GRANT SELECT ON TABLE trading.data_quality TO ops_readonly;

GRANT SELECT,INSERT ON TABLE trading.executions TO ops_app;
GRANT SELECT ON TABLE trading.executions TO ops_readonly;

GRANT SELECT,USAGE ON SEQUENCE trading.executions_id_seq TO ops_app;
GRANT SELECT ON SEQUENCE trading.executions_id_seq TO ops_readonly;

GRANT SELECT ON TABLE trading.kill_switch_events TO ops_app;
GRANT SELECT ON TABLE trading.kill_switch_events TO ops_readonly;

GRANT SELECT,USAGE ON SEQUENCE trading.kill_switch_events_id_seq TO ops_app;
GRANT SELECT ON SEQUENCE trading.kill_switch_events_id_seq TO ops_readonly;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE trading.stock_prices TO ops_app;
GRANT SELECT ON TABLE trading.stock_prices TO ops_readonly;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE trading.latest_prices TO ops_app;
GRANT SELECT ON TABLE trading.latest_prices TO ops_readonly;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE trading.market_events TO ops_app;
GRANT SELECT ON TABLE trading.market_events TO ops_readonly;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE trading.options_data TO ops_app;
GRANT SELECT ON TABLE trading.options_data TO ops_readonly;

GRANT SELECT ON TABLE trading.options_volume_1h TO ops_app;
GRANT SELECT ON TABLE trading.options_volume_1h TO ops_readonly;

REVOKE ALL ON TABLE trading.order_events FROM ops_owner;
GRANT SELECT,INSERT,REFERENCES,DELETE,TRIGGER,UPDATE ON TABLE trading.order_events TO ops_owner;
GRANT SELECT ON TABLE trading.order_events TO ops_app;
GRANT SELECT ON TABLE trading.order_events TO ops_readonly;

GRANT SELECT,USAGE ON SEQUENCE trading.order_events_id_seq TO ops_app;
GRANT SELECT ON SEQUENCE trading.order_events_id_seq TO ops_readonly;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE trading.performance_metrics TO ops_app;
GRANT SELECT ON TABLE trading.performance_metrics TO ops_readonly;

GRANT SELECT,INSERT ON TABLE trading.portfolio_snapshots TO ops_app;
GRANT SELECT ON TABLE trading.portfolio_snapshots TO ops_readonly;

GRANT SELECT,USAGE ON SEQUENCE trading.positions_id_seq TO ops_app;
GRANT SELECT ON SEQUENCE trading.positions_id_seq TO ops_readonly;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE trading.reconciliation_log TO ops_app;
GRANT SELECT ON TABLE trading.reconciliation_log TO ops_readonly;

GRANT SELECT,USAGE ON SEQUENCE trading.reconciliation_log_id_seq TO ops_app;
GRANT SELECT ON SEQUENCE trading.reconciliation_log_id_seq TO ops_readonly;

GRANT SELECT ON TABLE trading.signal_performance_1d TO ops_app;
GRANT SELECT ON TABLE trading.signal_performance_1d TO ops_readonly;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE trading.signals TO ops_app;
GRANT SELECT ON TABLE trading.signals TO ops_readonly;

GRANT SELECT,USAGE ON SEQUENCE trading.signals_id_seq TO ops_app;
GRANT SELECT ON SEQUENCE trading.signals_id_seq TO ops_readonly;

GRANT SELECT,USAGE ON SEQUENCE trading.staged_orders_id_seq TO ops_app;
GRANT SELECT ON SEQUENCE trading.staged_orders_id_seq TO ops_readonly;

GRANT SELECT ON TABLE trading.stock_prices_1d TO ops_app;
GRANT SELECT ON TABLE trading.stock_prices_1d TO ops_readonly;

GRANT SELECT ON TABLE trading.stock_prices_1h TO ops_app;
GRANT SELECT ON TABLE trading.stock_prices_1h TO ops_readonly;

GRANT SELECT ON TABLE trading.stock_prices_1m TO ops_app;
GRANT SELECT ON TABLE trading.stock_prices_1m TO ops_readonly;

GRANT SELECT ON TABLE trading.stock_prices_5m TO ops_app;
GRANT SELECT ON TABLE trading.stock_prices_5m TO ops_readonly;

GRANT SELECT ON TABLE trading.strategies TO ops_app;
GRANT SELECT ON TABLE trading.strategies TO ops_readonly;
GRANT SELECT,INSERT,UPDATE ON TABLE trading.strategies TO ops_risk;

GRANT SELECT,USAGE ON SEQUENCE trading.strategies_id_seq TO ops_app;
GRANT SELECT ON SEQUENCE trading.strategies_id_seq TO ops_readonly;
GRANT USAGE ON SEQUENCE trading.strategies_id_seq TO ops_risk;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE trading.strategy_performance TO ops_app;
GRANT SELECT ON TABLE trading.strategy_performance TO ops_readonly;

GRANT SELECT,USAGE ON SEQUENCE trading.strategy_performance_id_seq TO ops_app;
GRANT SELECT ON SEQUENCE trading.strategy_performance_id_seq TO ops_readonly;

GRANT SELECT,INSERT ON TABLE trading.system_events TO ops_app;
GRANT SELECT ON TABLE trading.system_events TO ops_readonly;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE trading.system_health TO ops_app;
GRANT SELECT ON TABLE trading.system_health TO ops_readonly;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE trading.v_active_positions TO ops_app;
GRANT SELECT ON TABLE trading.v_active_positions TO ops_readonly;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE trading.v_reconciliation_issues TO ops_app;
GRANT SELECT ON TABLE trading.v_reconciliation_issues TO ops_readonly;

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE trading.v_today_orders TO ops_app;
GRANT SELECT ON TABLE trading.v_today_orders TO ops_readonly;

ALTER DEFAULT PRIVILEGES FOR ROLE ops_owner IN SCHEMA ops_internal GRANT SELECT ON TABLES  TO ops_app;
ALTER DEFAULT PRIVILEGES FOR ROLE ops_owner IN SCHEMA ops_internal GRANT SELECT ON TABLES  TO ops_readonly;

ALTER DEFAULT PRIVILEGES FOR ROLE ops_owner IN SCHEMA trading GRANT SELECT,USAGE ON SEQUENCES  TO ops_app;
ALTER DEFAULT PRIVILEGES FOR ROLE ops_owner IN SCHEMA trading GRANT SELECT ON SEQUENCES  TO ops_readonly;

ALTER DEFAULT PRIVILEGES FOR ROLE ops_owner IN SCHEMA trading GRANT SELECT,INSERT,DELETE,UPDATE ON TABLES  TO ops_app;
ALTER DEFAULT PRIVILEGES FOR ROLE ops_owner IN SCHEMA trading GRANT SELECT ON TABLES  TO ops_readonly;
