-- squawk-ignore-file ban-drop-constraint -- a rollback removes the constraints its migration added
-- Undo 0520_market_guards: drop the time and text bounds; back to the row triggers and the
-- statement flush of 0102/0109 (rollup ranges from session settings).
SET ROLE ops_owner;

ALTER TABLE trading.stock_prices
    DROP CONSTRAINT stock_prices_timestamp_bounded,
    DROP CONSTRAINT stock_prices_created_at_bounded,
    DROP CONSTRAINT stock_prices_updated_at_bounded;
ALTER TABLE trading.options_data
    DROP CONSTRAINT options_data_timestamp_bounded,
    DROP CONSTRAINT options_data_created_at_bounded,
    DROP CONSTRAINT options_data_updated_at_bounded;
ALTER TABLE trading.market_events
    DROP CONSTRAINT market_events_timestamp_bounded,
    DROP CONSTRAINT market_events_created_at_bounded;
ALTER TABLE trading.signals
    DROP CONSTRAINT signals_timestamp_bounded,
    DROP CONSTRAINT signals_expires_at_bounded,
    DROP CONSTRAINT signals_created_at_bounded,
    DROP CONSTRAINT signals_updated_at_bounded,
    DROP CONSTRAINT signals_strategy_valid,
    DROP CONSTRAINT signals_model_version_valid,
    DROP CONSTRAINT signals_reasoning_valid;
ALTER TABLE ops_internal.system_events_routine
    DROP CONSTRAINT system_events_routine_timestamp_bounded,
    DROP CONSTRAINT system_events_routine_created_at_bounded,
    DROP CONSTRAINT system_events_routine_component_valid,
    DROP CONSTRAINT system_events_routine_event_type_valid,
    DROP CONSTRAINT system_events_routine_message_valid;
ALTER TABLE ops_internal.system_events_critical
    DROP CONSTRAINT system_events_critical_timestamp_bounded,
    DROP CONSTRAINT system_events_critical_created_at_bounded,
    DROP CONSTRAINT system_events_critical_component_valid,
    DROP CONSTRAINT system_events_critical_event_type_valid,
    DROP CONSTRAINT system_events_critical_message_valid;

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
    IF current_setting('ops_db.inval_given_' || TG_ARGV[1], true) <> '' THEN
        PERFORM set_config('ops_db.inval_given_' || TG_ARGV[1], '', true);
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION ops_internal.rollup_flush_statement() FROM PUBLIC;

DO $edition$
DECLARE
    ht record;
BEGIN
    IF ops_internal.timescaledb_edition() <> 'timescale' THEN
        FOR ht IN SELECT DISTINCT raw_hypertable, split_part(raw_hypertable, '.', 2) AS key
                    FROM ops_internal.rollup ORDER BY 1 LOOP
            EXECUTE format('DROP TRIGGER %I ON %s', ht.key || '_rollup_log_insert', ht.raw_hypertable);
            EXECUTE format('DROP TRIGGER %I ON %s', ht.key || '_rollup_log_update', ht.raw_hypertable);
            EXECUTE format('DROP TRIGGER %I ON %s', ht.key || '_rollup_log_delete', ht.raw_hypertable);
            EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW '
                           'WHEN (current_setting(%L, true) IS DISTINCT FROM ''on'') '
                           'EXECUTE FUNCTION ops_internal.rollup_track_row(%L, %L)',
                           ht.key || '_rollup_track', ht.raw_hypertable, 'ops_db.inval_given_' || ht.key,
                           ht.raw_hypertable, ht.key);
            EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %s '
                           'FOR EACH STATEMENT EXECUTE FUNCTION ops_internal.rollup_flush_statement(%L, %L)',
                           ht.key || '_rollup_flush', ht.raw_hypertable, ht.raw_hypertable, ht.key);
        END LOOP;
    END IF;
END
$edition$;
DROP FUNCTION ops_internal.rollup_log_changes();

RESET ROLE;
