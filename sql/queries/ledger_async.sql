-- Queries of the ledger added with its async-first split (ops_db.aio.ledger); the other ledger
-- queries are in orders.sql, positions.sql and risk.sql.

-- name: orders_today_by_status
-- row: StatusCount
-- Today's orders by status, most first.
SELECT status, count(*)::integer AS orders FROM trading.v_today_orders GROUP BY status ORDER BY orders DESC, status
