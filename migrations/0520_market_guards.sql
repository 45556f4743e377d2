-- Market data guards (issue 10, items 5, 6 and 7):
-- 1. apache edition: the rollup invalidation range of every INSERT, UPDATE, DELETE (COPY and
--    upserts included) on trading.stock_prices, options_data and signals is computed by the
--    database from the rows the statement actually wrote: statement-level AFTER triggers with
--    transition tables (TimescaleDB 2.19 supports them on hypertables) take min/max("timestamp")
--    of the new and old rows. No session setting is read any more: the row triggers of 0102 and
--    the "given range" of 0109 (ops_db.inval_*, which a client could set to a bogus range and so
--    hide its ticks from every bar) are gone. Measured on a 200 000-tick COPY: faster than the
--    0109 fast path (see docs/market-data.md).
-- 2. Time is bounded: every timestamp column of the market tables of 0100/0101 must lie in
--    [2000-01-01 UTC, now() + 1 day] when written (CHECK ... now(): a row valid when written
--    stays valid, the ceiling only moves forward). signals.expires_at may lie up to 366 days
--    after the signal. ops_internal.market_time_window() (sql/schema/100_market_maintenance.sql)
--    is the same window for maintain, which never rolls up anything outside it, so that a row
--    put there past these checks (a superuser) cannot break it.
-- 3. Text columns without a bound get one: length, and charset where the column names
--    something (<table>_<column>_valid). Symbols, option symbols, event types, option and
--    signal types and severities were bounded by 0100/0101 already (*_format, *_known).
-- Constraints are added NOT VALID and then validated, so that existing rows are checked
-- under a lighter lock than a plain ADD CONSTRAINT takes.
-- depends: 0300_maintenance_runs
-- squawk-ignore-file ban-drop-function -- the row trigger functions of 0109 that this replaces, after their triggers
SET ROLE ops_owner;

-- -- 1. rollup invalidation from transition tables (apache edition) --------------------------

CREATE FUNCTION ops_internal.rollup_log_changes() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
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
REVOKE ALL ON FUNCTION ops_internal.rollup_log_changes() FROM PUBLIC;
COMMENT ON FUNCTION ops_internal.rollup_log_changes() IS
    'apache edition: log the time range a statement wrote (from its transition tables) for maintain.';

DO $edition$
DECLARE
    ht record;
BEGIN
    IF ops_internal.timescaledb_edition() <> 'timescale' THEN
        FOR ht IN SELECT DISTINCT raw_hypertable, split_part(raw_hypertable, '.', 2) AS key
                    FROM ops_internal.rollup ORDER BY 1 LOOP
            EXECUTE format('DROP TRIGGER %I ON %s', ht.key || '_rollup_track', ht.raw_hypertable);
            EXECUTE format('DROP TRIGGER %I ON %s', ht.key || '_rollup_flush', ht.raw_hypertable);
            EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %s REFERENCING NEW TABLE AS new_rows '
                           'FOR EACH STATEMENT EXECUTE FUNCTION ops_internal.rollup_log_changes(%L)',
                           ht.key || '_rollup_log_insert', ht.raw_hypertable, ht.raw_hypertable);
            EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %s REFERENCING OLD TABLE AS old_rows '
                           'NEW TABLE AS new_rows '
                           'FOR EACH STATEMENT EXECUTE FUNCTION ops_internal.rollup_log_changes(%L)',
                           ht.key || '_rollup_log_update', ht.raw_hypertable, ht.raw_hypertable);
            EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %s REFERENCING OLD TABLE AS old_rows '
                           'FOR EACH STATEMENT EXECUTE FUNCTION ops_internal.rollup_log_changes(%L)',
                           ht.key || '_rollup_log_delete', ht.raw_hypertable, ht.raw_hypertable);
        END LOOP;
    END IF;
END
$edition$;
DROP FUNCTION ops_internal.rollup_flush_statement();
DROP FUNCTION ops_internal.rollup_track_row();

-- -- 2. bounded times -------------------------------------------------------------------------

ALTER TABLE trading.stock_prices
    ADD CONSTRAINT stock_prices_timestamp_bounded
        CHECK ("timestamp" >= '2000-01-01 00:00:00+00' AND "timestamp" <= now() + interval '1 day') NOT VALID,
    ADD CONSTRAINT stock_prices_created_at_bounded
        CHECK (created_at >= '2000-01-01 00:00:00+00' AND created_at <= now() + interval '1 day') NOT VALID,
    ADD CONSTRAINT stock_prices_updated_at_bounded
        CHECK (updated_at >= '2000-01-01 00:00:00+00' AND updated_at <= now() + interval '1 day') NOT VALID;
ALTER TABLE trading.options_data
    ADD CONSTRAINT options_data_timestamp_bounded
        CHECK ("timestamp" >= '2000-01-01 00:00:00+00' AND "timestamp" <= now() + interval '1 day') NOT VALID,
    ADD CONSTRAINT options_data_created_at_bounded
        CHECK (created_at >= '2000-01-01 00:00:00+00' AND created_at <= now() + interval '1 day') NOT VALID,
    ADD CONSTRAINT options_data_updated_at_bounded
        CHECK (updated_at >= '2000-01-01 00:00:00+00' AND updated_at <= now() + interval '1 day') NOT VALID;
ALTER TABLE trading.market_events
    ADD CONSTRAINT market_events_timestamp_bounded
        CHECK ("timestamp" >= '2000-01-01 00:00:00+00' AND "timestamp" <= now() + interval '1 day') NOT VALID,
    ADD CONSTRAINT market_events_created_at_bounded
        CHECK (created_at >= '2000-01-01 00:00:00+00' AND created_at <= now() + interval '1 day') NOT VALID;
ALTER TABLE trading.signals
    ADD CONSTRAINT signals_timestamp_bounded
        CHECK ("timestamp" >= '2000-01-01 00:00:00+00' AND "timestamp" <= now() + interval '1 day') NOT VALID,
    ADD CONSTRAINT signals_expires_at_bounded
        CHECK (expires_at IS NULL OR expires_at <= "timestamp" + interval '366 days') NOT VALID,
    ADD CONSTRAINT signals_created_at_bounded
        CHECK (created_at >= '2000-01-01 00:00:00+00' AND created_at <= now() + interval '1 day') NOT VALID,
    ADD CONSTRAINT signals_updated_at_bounded
        CHECK (updated_at >= '2000-01-01 00:00:00+00' AND updated_at <= now() + interval '1 day') NOT VALID;
ALTER TABLE ops_internal.system_events_routine
    ADD CONSTRAINT system_events_routine_timestamp_bounded
        CHECK ("timestamp" >= '2000-01-01 00:00:00+00' AND "timestamp" <= now() + interval '1 day') NOT VALID,
    ADD CONSTRAINT system_events_routine_created_at_bounded
        CHECK (created_at >= '2000-01-01 00:00:00+00' AND created_at <= now() + interval '1 day') NOT VALID;
ALTER TABLE ops_internal.system_events_critical
    ADD CONSTRAINT system_events_critical_timestamp_bounded
        CHECK ("timestamp" >= '2000-01-01 00:00:00+00' AND "timestamp" <= now() + interval '1 day') NOT VALID,
    ADD CONSTRAINT system_events_critical_created_at_bounded
        CHECK (created_at >= '2000-01-01 00:00:00+00' AND created_at <= now() + interval '1 day') NOT VALID;

-- -- 3. bounded text ----------------------------------------------------------------------------

ALTER TABLE trading.signals
    ADD CONSTRAINT signals_strategy_valid
        CHECK (strategy IS NULL OR strategy ~ '^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$') NOT VALID,
    ADD CONSTRAINT signals_model_version_valid
        CHECK (model_version IS NULL OR model_version ~ '^[A-Za-z0-9][A-Za-z0-9._:+-]{0,63}$') NOT VALID,
    ADD CONSTRAINT signals_reasoning_valid
        CHECK (reasoning IS NULL OR char_length(reasoning) <= 4000) NOT VALID;
ALTER TABLE ops_internal.system_events_routine
    ADD CONSTRAINT system_events_routine_component_valid
        CHECK (component ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$') NOT VALID,
    ADD CONSTRAINT system_events_routine_event_type_valid
        CHECK (event_type ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$') NOT VALID,
    ADD CONSTRAINT system_events_routine_message_valid
        CHECK (char_length(message) BETWEEN 1 AND 4000) NOT VALID;
ALTER TABLE ops_internal.system_events_critical
    ADD CONSTRAINT system_events_critical_component_valid
        CHECK (component ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$') NOT VALID,
    ADD CONSTRAINT system_events_critical_event_type_valid
        CHECK (event_type ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$') NOT VALID,
    ADD CONSTRAINT system_events_critical_message_valid
        CHECK (char_length(message) BETWEEN 1 AND 4000) NOT VALID;

-- The constraints above are validated by 0521, outside this transaction (a scan of every
-- tick under this migration's ACCESS EXCLUSIVE locks would stop ingest for its whole length).


RESET ROLE;
