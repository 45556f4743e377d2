-- Timescale edition only: columnstore (compression) after 7 days for the ledger's monitoring
-- hypertables, and retention policies for those with a row in ops_internal.retention
-- (performance_metrics 2 years, system_health and data_quality 90 days). On the apache edition
-- `ops-db maintain` drops old chunks from the same table and nothing is compressed.
-- depends: 0202_risk_and_monitoring
SET ROLE ops_owner;

DO $edition$
BEGIN
    IF ops_internal.timescaledb_edition() = 'timescale' THEN
        EXECUTE $sql$ALTER TABLE trading.performance_metrics SET (timescaledb.compress,
            timescaledb.compress_segmentby = 'metric', timescaledb.compress_orderby = 'recorded_at DESC')$sql$;
        EXECUTE $sql$ALTER TABLE trading.system_health SET (timescaledb.compress,
            timescaledb.compress_segmentby = 'component', timescaledb.compress_orderby = 'checked_at DESC')$sql$;
        EXECUTE $sql$ALTER TABLE trading.data_quality SET (timescaledb.compress,
            timescaledb.compress_segmentby = 'source', timescaledb.compress_orderby = 'checked_at DESC')$sql$;
        EXECUTE $sql$ALTER TABLE trading.agent_decisions SET (timescaledb.compress,
            timescaledb.compress_segmentby = 'agent', timescaledb.compress_orderby = 'decided_at DESC, id')$sql$;
        PERFORM add_compression_policy('trading.performance_metrics', compress_after => interval '7 days');
        PERFORM add_compression_policy('trading.system_health', compress_after => interval '7 days');
        PERFORM add_compression_policy('trading.data_quality', compress_after => interval '7 days');
        PERFORM add_compression_policy('trading.agent_decisions', compress_after => interval '7 days');
        PERFORM add_retention_policy(r.hypertable::regclass, drop_after => r.drop_after)
           FROM ops_internal.retention r
          WHERE r.hypertable IN ('trading.performance_metrics', 'trading.system_health', 'trading.data_quality');
    END IF;
END
$edition$;

RESET ROLE;
