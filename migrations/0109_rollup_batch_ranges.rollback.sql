-- Undo 0109_rollup_batch_ranges: row triggers without the WHEN clause, the flush of 0102.
SET ROLE ops_owner;

DO $edition$
DECLARE
    ht record;
BEGIN
    IF ops_internal.timescaledb_edition() <> 'timescale' THEN
        FOR ht IN SELECT DISTINCT raw_hypertable, split_part(raw_hypertable, '.', 2) AS key
                    FROM ops_internal.rollup LOOP
            EXECUTE format('DROP TRIGGER %I ON %s', ht.key || '_rollup_track', ht.raw_hypertable);
            EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %s '
                           'FOR EACH ROW EXECUTE FUNCTION ops_internal.rollup_track_row(%L, %L)',
                           ht.key || '_rollup_track', ht.raw_hypertable, ht.raw_hypertable, ht.key);
        END LOOP;
    END IF;
END
$edition$;

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
    RETURN NULL;
END
$$;

RESET ROLE;
