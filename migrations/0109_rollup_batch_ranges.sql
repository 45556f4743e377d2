-- Apache edition: a bulk writer that knows the time range of its batch names it once, instead
-- of the row trigger reading, parsing and comparing two settings for every row (measured: the
-- row trigger took ~40% of a 200 000-tick COPY). The writer sets ops_db.inval_lo_<key> and
-- ops_db.inval_hi_<key> to its batch's range and ops_db.inval_given_<key> to 'on' (transaction-
-- local, right before its statement); the row trigger's WHEN clause then skips the trigger
-- call, and the statement trigger records the range and clears all three, so the next
-- statement is tracked row by row again. ops_db.market.ingest_prices does this for its COPY.
-- depends: 0102_market_rollups
SET ROLE ops_owner;

CREATE OR REPLACE FUNCTION ops_internal.rollup_flush_statement() RETURNS trigger
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

DO $edition$
DECLARE
    ht record;
BEGIN
    IF ops_internal.timescaledb_edition() <> 'timescale' THEN
        FOR ht IN SELECT DISTINCT raw_hypertable, split_part(raw_hypertable, '.', 2) AS key
                    FROM ops_internal.rollup LOOP
            EXECUTE format('DROP TRIGGER %I ON %s', ht.key || '_rollup_track', ht.raw_hypertable);
            EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW '
                           'WHEN (current_setting(%L, true) IS DISTINCT FROM ''on'') '
                           'EXECUTE FUNCTION ops_internal.rollup_track_row(%L, %L)',
                           ht.key || '_rollup_track', ht.raw_hypertable, 'ops_db.inval_given_' || ht.key,
                           ht.raw_hypertable, ht.key);
        END LOOP;
    END IF;
END
$edition$;

RESET ROLE;
