-- Undo 0203_ledger_timescale_policies: policies removed, chunks decompressed, columnstore off.
SET ROLE ops_owner;

DO $edition$
DECLARE
    t regclass;
BEGIN
    IF ops_internal.timescaledb_edition() = 'timescale' THEN
        FOREACH t IN ARRAY ARRAY['trading.performance_metrics', 'trading.system_health', 'trading.data_quality',
                                 'trading.agent_decisions']::regclass[] LOOP
            PERFORM remove_retention_policy(t, if_exists => true);
            PERFORM remove_compression_policy(t, if_exists => true);
            PERFORM decompress_chunk(c, if_compressed => true) FROM show_chunks(t) c;
            EXECUTE format('ALTER TABLE %s SET (timescaledb.compress = false)', t);
        END LOOP;
    END IF;
END
$edition$;

RESET ROLE;
