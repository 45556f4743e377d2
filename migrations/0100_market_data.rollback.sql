SET ROLE ops_owner;
DELETE FROM ops_internal.retention WHERE hypertable IN ('trading.stock_prices', 'trading.options_data');
DROP TABLE trading.market_events;
DROP TABLE trading.options_data;
DROP TABLE trading.stock_prices;
RESET ROLE;
