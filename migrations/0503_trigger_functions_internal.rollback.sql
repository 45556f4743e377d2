SET ROLE ops_owner;
ALTER FUNCTION ops_internal.staged_orders_guard() SET SCHEMA trading;
ALTER FUNCTION ops_internal.staged_orders_audit() SET SCHEMA trading;
ALTER FUNCTION ops_internal.order_events_append_only() SET SCHEMA trading;
ALTER FUNCTION ops_internal.executions_apply_fill() SET SCHEMA trading;
RESET ROLE;
