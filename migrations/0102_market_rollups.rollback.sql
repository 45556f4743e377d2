SET ROLE ops_owner;
DO $edition$
BEGIN
    IF ops_internal.timescaledb_edition() = 'timescale' THEN
        DROP MATERIALIZED VIEW trading.signal_performance_1d;
        DROP MATERIALIZED VIEW trading.options_volume_1h;
        DROP MATERIALIZED VIEW trading.stock_prices_1d;
        DROP MATERIALIZED VIEW trading.stock_prices_1h;
        DROP MATERIALIZED VIEW trading.stock_prices_5m;
        DROP MATERIALIZED VIEW trading.stock_prices_1m;
    ELSE
        DROP TRIGGER stock_prices_rollup_track ON trading.stock_prices;
        DROP TRIGGER stock_prices_rollup_flush ON trading.stock_prices;
        DROP TRIGGER options_data_rollup_track ON trading.options_data;
        DROP TRIGGER options_data_rollup_flush ON trading.options_data;
        DROP TRIGGER signals_rollup_track ON trading.signals;
        DROP TRIGGER signals_rollup_flush ON trading.signals;
        DROP TABLE trading.signal_performance_1d, trading.options_volume_1h, trading.stock_prices_1d,
            trading.stock_prices_1h, trading.stock_prices_5m, trading.stock_prices_1m;
    END IF;
END
$edition$;
DROP FUNCTION ops_internal.rollup_flush_statement();
DROP FUNCTION ops_internal.rollup_track_row();
DROP TABLE ops_internal.rollup_invalidation;
DROP FUNCTION ops_internal.rollup_policy_start_offset(text);
DROP TABLE ops_internal.rollup;
RESET ROLE;
