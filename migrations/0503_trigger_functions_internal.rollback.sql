-- squawk-ignore-file ban-set-schema -- trigger functions only: triggers name them by oid, and no client calls them
SET ROLE ops_owner;
ALTER FUNCTION ops_internal.staged_orders_guard() SET SCHEMA trading;
ALTER FUNCTION ops_internal.staged_orders_audit() SET SCHEMA trading;
ALTER FUNCTION ops_internal.order_events_append_only() SET SCHEMA trading;
ALTER FUNCTION ops_internal.executions_apply_fill() SET SCHEMA trading;
RESET ROLE;
