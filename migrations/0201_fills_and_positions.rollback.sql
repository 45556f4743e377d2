-- Undo 0201_fills_and_positions.
SET ROLE ops_owner;
DROP TABLE trading.portfolio_snapshots;
DROP FUNCTION trading.close_position(text, numeric, text);
DROP TABLE trading.executions;
DROP FUNCTION trading.executions_apply_fill();
DROP TABLE trading.positions;
RESET ROLE;
