-- name: report_now
-- The report's time: the transaction's start, so every section is read as of it.
SELECT now()

-- name: report_edition
-- The TimescaleDB edition the server runs (as server_facts says it).
SELECT CASE WHEN current_setting('timescaledb.license', true) = 'timescale' THEN 'timescale' ELSE 'apache' END

-- name: report_database
-- row: ReportDatabase
-- This database and its size.
SELECT current_database() AS name, pg_database_size(current_database()) AS bytes

-- name: report_orders_by_status
-- row: ReportStatusCount
-- Orders staged since a time, counted by strategy and status.
SELECT s.name AS strategy, o.status, count(*)::integer AS orders
  FROM trading.staged_orders o
  JOIN trading.strategies s ON s.id = o.strategy_id
 WHERE o.created_at >= %(since)s
 GROUP BY s.name, o.status
 ORDER BY s.name, o.status

-- name: report_risk_buckets
-- row: ReportRiskBucket
-- Orders staged since a time by risk score, in buckets of 10 points (90 holds 90 to 100).
SELECT (least(floor(o.risk_score / 10), 9) * 10)::integer AS bucket_start, count(*)::integer AS orders
  FROM trading.staged_orders o
 WHERE o.created_at >= %(since)s AND o.risk_score IS NOT NULL
 GROUP BY 1
 ORDER BY 1

-- name: report_compliance_failures
-- row: ReportComplianceFailure
-- Orders staged since a time with a compliance check that did not pass ({"check": {"passed": false}}).
SELECT o.id AS order_id, o.client_order_id, s.name AS strategy, o.symbol, f.key AS check_name, o.status,
       o.created_at
  FROM trading.staged_orders o
  JOIN trading.strategies s ON s.id = o.strategy_id
 CROSS JOIN LATERAL jsonb_each(o.compliance_flags) AS f
 WHERE o.created_at >= %(since)s
   AND jsonb_typeof(f.value) = 'object' AND f.value -> 'passed' = 'false'::jsonb
 ORDER BY o.created_at DESC, o.id DESC, f.key
 LIMIT 200

-- name: report_rejection_reasons
-- row: ReportReason
-- Why orders staged since a time were rejected, most frequent first.
SELECT coalesce(o.rejection_reason, o.status_reason, '(no reason given)') AS reason, count(*)::integer AS orders
  FROM trading.staged_orders o
 WHERE o.created_at >= %(since)s AND o.status = 'rejected'
 GROUP BY 1
 ORDER BY 2 DESC, 1
 LIMIT 30

-- name: report_fills
-- row: ReportFill
-- Fills since a time with their slippage in basis points (positive = worse for us) against the
-- order's limit price and against the arrival price: the last price the order recorded when it
-- was staged (market_data.last_price), else the last stored tick before it was staged.
WITH f AS (
    SELECT e.id AS fill_id, o.client_order_id, s.name AS strategy, e.symbol, e.side, e.quantity, e.price,
           o.limit_price,
           coalesce(CASE WHEN jsonb_typeof(o.market_data -> 'last_price') = 'number'
                         THEN (o.market_data ->> 'last_price')::numeric END,
                    (SELECT p.close_price FROM trading.stock_prices p
                      WHERE p.symbol = o.symbol AND p.timestamp <= o.created_at
                      ORDER BY p.timestamp DESC LIMIT 1)) AS arrival_price,
           e.executed_at
      FROM trading.executions e
      JOIN trading.staged_orders o ON o.id = e.order_id
      JOIN trading.strategies s ON s.id = o.strategy_id
     WHERE e.executed_at >= %(since)s
)
SELECT fill_id, client_order_id, strategy, symbol, side, quantity, price, limit_price, arrival_price,
       round(CASE WHEN limit_price > 0 THEN (CASE WHEN side = 'buy' THEN price - limit_price
                                                   ELSE limit_price - price END) / limit_price * 10000 END, 2)
           AS slippage_limit_bps,
       round(CASE WHEN arrival_price > 0 THEN (CASE WHEN side = 'buy' THEN price - arrival_price
                                                     ELSE arrival_price - price END) / arrival_price * 10000 END, 2)
           AS slippage_arrival_bps,
       executed_at
  FROM f
 ORDER BY executed_at DESC, fill_id DESC
 LIMIT %(limit)s

-- name: report_pnl_by_strategy
-- row: ReportPnlPoint
-- Realized P&L of every fill since a time, cumulated per strategy in the order fills were sequenced.
SELECT s.name AS label, e.executed_at AS at,
       sum(e.realized_pnl - e.commission - e.fees)
           OVER (PARTITION BY s.name ORDER BY e.executed_at, e.id) AS cumulative
  FROM trading.executions e
  JOIN trading.staged_orders o ON o.id = e.order_id
  JOIN trading.strategies s ON s.id = o.strategy_id
 WHERE e.executed_at >= %(since)s
 ORDER BY e.executed_at, e.id

-- name: report_pnl_by_symbol
-- row: ReportPnlPoint
-- Realized P&L of every fill since a time, cumulated per symbol.
SELECT e.symbol AS label, e.executed_at AS at,
       sum(e.realized_pnl - e.commission - e.fees)
           OVER (PARTITION BY e.symbol ORDER BY e.executed_at, e.id) AS cumulative
  FROM trading.executions e
 WHERE e.executed_at >= %(since)s
 ORDER BY e.executed_at, e.id

-- name: report_order_totals
-- row: ReportOrderTotals
-- Headline counts since a time: orders staged, still open, fills and their realized P&L net of costs.
SELECT (SELECT count(*)::integer FROM trading.staged_orders WHERE created_at >= %(since)s) AS orders,
       (SELECT count(*)::integer FROM trading.staged_orders
         WHERE created_at >= %(since)s
           AND status IN ('staged', 'pending_approval', 'approved', 'submitted', 'partially_filled')) AS open_orders,
       count(e.id)::integer AS fills,
       coalesce(sum(e.realized_pnl - e.commission - e.fees), 0) AS realized_pnl
  FROM trading.executions e
 WHERE e.executed_at >= %(since)s

-- name: report_maintenance_runs
-- row: ReportMaintenanceRun
-- The newest runs of `ops-db maintain` (apache edition), newest first.
SELECT id, started_at, finished_at, dry_run, succeeded, jsonb_array_length(actions)::integer AS actions, error
  FROM ops_internal.maintenance_runs
 ORDER BY started_at DESC
 LIMIT 10

-- name: report_jobs
-- row: ReportJob
-- TimescaleDB's jobs and how their last run went (timescale edition; none on apache).
SELECT j.job_id, j.application_name, j.hypertable_name, s.last_run_status, s.last_run_started_at,
       s.next_start, s.total_failures::bigint AS total_failures
  FROM timescaledb_information.jobs j
  LEFT JOIN timescaledb_information.job_stats s ON s.job_id = j.job_id
 ORDER BY j.job_id

-- name: report_replication
-- row: ReportReplica
-- Standbys streaming from this server, with their replay lag.
SELECT application_name, client_addr::text AS client_addr, state, sync_state,
       (extract(epoch FROM replay_lag))::double precision AS replay_lag_seconds
  FROM pg_stat_replication
 ORDER BY application_name

-- name: report_newest_tick
-- The time of the newest stored tick of a symbol (NULL when there is none).
SELECT max(timestamp) FROM trading.stock_prices WHERE symbol = %(symbol)s
