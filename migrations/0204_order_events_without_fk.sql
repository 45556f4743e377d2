-- The audit trail carries no foreign key to staged_orders. When TimescaleDB creates a chunk
-- it locks the tables the hypertable references, which deadlocked against concurrent order
-- inserts at the start of every chunk (timescale/timescaledb#7429). Rows are written only by
-- the order trigger, for the order being changed, so the key added no protection.
-- depends: 0203_ledger_timescale_policies
SET ROLE ops_owner;
ALTER TABLE trading.order_events DROP CONSTRAINT order_events_order_id_fkey;
RESET ROLE;
