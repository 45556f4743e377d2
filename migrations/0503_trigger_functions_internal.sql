-- The ledger's trigger functions leave schema trading, so `\df trading.*` lists only what an
-- analyst or the application calls. Triggers name their function by oid: they keep working.
-- A later migration that changes one of them must now say ops_internal.<name> (a
-- CREATE OR REPLACE of trading.<name> would make a new, unused function).
-- depends: 0502_order_function_inputs
-- squawk-ignore-file ban-set-schema -- trigger functions only: triggers name them by oid, and no client calls them
SET ROLE ops_owner;
ALTER FUNCTION trading.staged_orders_guard() SET SCHEMA ops_internal;
ALTER FUNCTION trading.staged_orders_audit() SET SCHEMA ops_internal;
ALTER FUNCTION trading.order_events_append_only() SET SCHEMA ops_internal;
ALTER FUNCTION trading.executions_apply_fill() SET SCHEMA ops_internal;
RESET ROLE;
