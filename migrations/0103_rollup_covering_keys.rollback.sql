-- Undo 0103_rollup_covering_keys: the bar tables' primary keys on (symbol, bucket) alone.
SET ROLE ops_owner;

DO $edition$
BEGIN
    IF ops_internal.timescaledb_edition() = 'apache' THEN
        ALTER TABLE trading.stock_prices_1m DROP CONSTRAINT stock_prices_1m_pkey,
            ADD CONSTRAINT stock_prices_1m_pkey PRIMARY KEY (symbol, bucket);
        ALTER TABLE trading.stock_prices_5m DROP CONSTRAINT stock_prices_5m_pkey,
            ADD CONSTRAINT stock_prices_5m_pkey PRIMARY KEY (symbol, bucket);
        ALTER TABLE trading.stock_prices_1h DROP CONSTRAINT stock_prices_1h_pkey,
            ADD CONSTRAINT stock_prices_1h_pkey PRIMARY KEY (symbol, bucket);
        ALTER TABLE trading.stock_prices_1d DROP CONSTRAINT stock_prices_1d_pkey,
            ADD CONSTRAINT stock_prices_1d_pkey PRIMARY KEY (symbol, bucket);
    END IF;
END
$edition$;

RESET ROLE;
