SET ROLE ops_owner;
ALTER TABLE trading.order_events
    ADD CONSTRAINT order_events_order_id_fkey FOREIGN KEY (order_id) REFERENCES trading.staged_orders (id);
RESET ROLE;
