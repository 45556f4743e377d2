-- Undo 0200_order_workflow.
SET ROLE ops_owner;
DROP FUNCTION trading.expire_due_orders(timestamptz, text);
DROP FUNCTION trading.screen_order(bigint, text);
DROP FUNCTION trading.transition_order(bigint, text, text, text, text);
DROP TABLE trading.order_events;
DROP FUNCTION trading.order_events_append_only();
DROP FUNCTION trading.order_approval_reasons(trading.staged_orders);
DROP TABLE trading.staged_orders;
DROP FUNCTION trading.staged_orders_audit();
DROP FUNCTION trading.staged_orders_guard();
DROP FUNCTION trading.current_actor();
DROP FUNCTION trading.order_status_terminal(text);
DROP FUNCTION trading.order_transition_allowed(text, text);
DROP FUNCTION trading.kill_switch_active();
DROP TABLE trading.kill_switch_events;
DROP TABLE trading.strategies;
RESET ROLE;
