-- requires: 0004_retention_settings 0100_market_data 0101_signals_system_events 0102_market_rollups 0200_order_workflow 0201_fills_and_positions 0202_risk_and_monitoring 0300_maintenance_runs 0500_ledger_promises 0520_market_guards 0540_ledger_text_and_time_checks 0503_trigger_functions_internal 0504_ledger_helpers_internal
-- What psql's \d+, \dv+ and \df+ say about every relation, column and function users read:
-- everything in `trading` (trigger functions aside) and the ops_internal objects operators read.
-- tests/test_comments.py fails naming each one without a comment, as the statement to add here.
--
-- One section per relation, in migration order, then the functions by the file that defines
-- them. A new column or function: add its COMMENT in its section, and add the migration that
-- creates it to `-- requires:` above (which also makes `ops-db migrate` re-apply this file).
-- Conventions said once here and in the schema comment: times are timestamptz instants (psql
-- shows them in the session's TimeZone; buckets are aligned in UTC); prices and money are in
-- the instrument's currency; quantities are shares or contracts.
-- Comments are metadata only: dropping them on rollback is not needed, so @drop is empty.

COMMENT ON SCHEMA trading IS
    'What the desk queries: market data, signals, orders, fills, positions, risk and monitoring. Times are instants (timestamptz, shown in the session TimeZone; buckets aligned in UTC); prices and money in the instrument''s currency; quantities in shares or contracts.';
COMMENT ON SCHEMA ops_internal IS
    'ops-db internals operators read: retention periods, rollup bookkeeping, maintenance runs, the routed system event tables.';

-- ops_internal.retention (0004) ---------------------------------------------------------------
COMMENT ON TABLE ops_internal.retention IS
    'How long raw rows of each hypertable are kept; UPDATE drop_after to change a period (ops-db maintain applies it).';
COMMENT ON COLUMN ops_internal.retention.hypertable IS 'The hypertable, schema-qualified (e.g. trading.stock_prices).';
COMMENT ON COLUMN ops_internal.retention.drop_after IS 'Chunks whose rows are all older than now() - drop_after are dropped.';
COMMENT ON COLUMN ops_internal.retention.note IS 'Why this period: what the data is, and what stays (e.g. its rollups).';
COMMENT ON COLUMN ops_internal.retention.updated_at IS 'When the row was added (later UPDATEs change it only if they set it).';

-- trading.stock_prices (0100) -----------------------------------------------------------------
COMMENT ON TABLE trading.stock_prices IS
    'Raw prices (ticks or source bars), 1-day chunks, kept 90 days (ops_internal.retention); bars are in stock_prices_1m/_5m/_1h/_1d.';
COMMENT ON COLUMN trading.stock_prices.symbol IS 'Ticker, upper case (e.g. AAPL, BRK.B).';
COMMENT ON COLUMN trading.stock_prices."timestamp" IS 'Time of the tick or source bar; with symbol the key (re-ingesting it upserts).';
COMMENT ON COLUMN trading.stock_prices.open_price IS 'Source bar''s open; NULL for a tick (bars then use close_price).';
COMMENT ON COLUMN trading.stock_prices.high_price IS 'Source bar''s high; NULL for a tick (bars then use close_price).';
COMMENT ON COLUMN trading.stock_prices.low_price IS 'Source bar''s low; NULL for a tick (bars then use close_price).';
COMMENT ON COLUMN trading.stock_prices.close_price IS 'Trade price of a tick, or the source bar''s close; > 0.';
COMMENT ON COLUMN trading.stock_prices.volume IS 'Shares traded in the tick or source bar; >= 0, 0 when the feed gives none.';
COMMENT ON COLUMN trading.stock_prices.vwap IS 'Source bar''s volume-weighted average price; NULL for a tick (close_price stands in).';
COMMENT ON COLUMN trading.stock_prices.market_cap IS 'Market capitalisation as the feed reports it; optional.';
COMMENT ON COLUMN trading.stock_prices.shares_outstanding IS 'Shares outstanding as the feed reports it; optional.';
COMMENT ON COLUMN trading.stock_prices.created_at IS 'When the row was first stored.';
COMMENT ON COLUMN trading.stock_prices.updated_at IS 'When a re-ingest last corrected the row (an identical re-ingest leaves it).';

-- trading.options_data (0100) -----------------------------------------------------------------
COMMENT ON TABLE trading.options_data IS
    'Options quotes with implied volatility and Greeks, 1-day chunks, kept 60 days (ops_internal.retention); hourly volumes in options_volume_1h.';
COMMENT ON COLUMN trading.options_data.option_symbol IS 'OCC contract symbol: root, YYMMDD expiry, C/P, strike x 1000 in 8 digits (must match the columns).';
COMMENT ON COLUMN trading.options_data.underlying_symbol IS 'Ticker of the underlying stock.';
COMMENT ON COLUMN trading.options_data."timestamp" IS 'Time of the quote; with option_symbol the key (re-ingesting it upserts).';
COMMENT ON COLUMN trading.options_data.expiration_date IS 'Expiry date of the contract.';
COMMENT ON COLUMN trading.options_data.strike_price IS 'Strike price; > 0.';
COMMENT ON COLUMN trading.options_data.option_type IS 'CALL or PUT.';
COMMENT ON COLUMN trading.options_data.bid_price IS 'Best bid premium per share; <= ask_price.';
COMMENT ON COLUMN trading.options_data.ask_price IS 'Best ask premium per share.';
COMMENT ON COLUMN trading.options_data.last_price IS 'Last traded premium per share.';
COMMENT ON COLUMN trading.options_data.volume IS 'Contracts traded since the previous quote of this contract.';
COMMENT ON COLUMN trading.options_data.open_interest IS 'Open contracts (published once a day).';
COMMENT ON COLUMN trading.options_data.implied_volatility IS 'Implied volatility, annualised, as a fraction (0.25 = 25%).';
COMMENT ON COLUMN trading.options_data.delta IS 'Premium change per 1 unit move of the underlying; -1..1, negative for puts.';
COMMENT ON COLUMN trading.options_data.gamma IS 'Delta change per 1 unit move of the underlying; >= 0.';
COMMENT ON COLUMN trading.options_data.theta IS 'Premium change per calendar day of time decay; usually negative.';
COMMENT ON COLUMN trading.options_data.vega IS 'Premium change per 1 point (0.01) of implied volatility; >= 0.';
COMMENT ON COLUMN trading.options_data.rho IS 'Premium change per 1 point (0.01) of the interest rate.';
COMMENT ON COLUMN trading.options_data.intrinsic_value IS 'Value if exercised now: max(0, spot - strike) for a call, max(0, strike - spot) for a put.';
COMMENT ON COLUMN trading.options_data.time_value IS 'Premium above intrinsic value (last_price - intrinsic_value).';
COMMENT ON COLUMN trading.options_data.created_at IS 'When the row was first stored.';
COMMENT ON COLUMN trading.options_data.updated_at IS 'When a re-ingest last corrected the row (an identical re-ingest leaves it).';

-- trading.market_events (0100) ----------------------------------------------------------------
COMMENT ON TABLE trading.market_events IS
    'Market events (halts, earnings, news, volume spikes, block trades) with jsonb metadata, 7-day chunks; no retention.';
COMMENT ON COLUMN trading.market_events.symbol IS 'Ticker the event concerns.';
COMMENT ON COLUMN trading.market_events."timestamp" IS 'When the event happened; with symbol and event_type the key (re-ingest skips it).';
COMMENT ON COLUMN trading.market_events.event_type IS 'Kind of event, lower_snake_case (e.g. earnings, trading_halt, volume_spike).';
COMMENT ON COLUMN trading.market_events.price IS 'Price at the event, when it has one.';
COMMENT ON COLUMN trading.market_events.volume IS 'Shares involved in the event, when it has a volume.';
COMMENT ON COLUMN trading.market_events.metadata IS 'Event details as a JSON object (GIN-indexed: filter with @>).';
COMMENT ON COLUMN trading.market_events.created_at IS 'When the row was stored.';

-- trading.signals (0101) ----------------------------------------------------------------------
COMMENT ON TABLE trading.signals IS 'Model-generated BUY/SELL/HOLD signals, 1-day chunks, kept 1 year; daily counts in signal_performance_1d.';
COMMENT ON COLUMN trading.signals.id IS 'Signal id (identity); staged_orders.signal_id and agent_decisions.signal_id refer to it.';
COMMENT ON COLUMN trading.signals.symbol IS 'Ticker the signal is for.';
COMMENT ON COLUMN trading.signals.signal_type IS 'BUY, SELL or HOLD.';
COMMENT ON COLUMN trading.signals.confidence IS 'Model confidence, 0..1 (above 0.8 counts as high confidence).';
COMMENT ON COLUMN trading.signals.target_price IS 'Price the signal expects; a BUY''s target is above its stop, a SELL''s below.';
COMMENT ON COLUMN trading.signals.stop_loss IS 'Price at which the idea is wrong: below the target for a BUY, above it for a SELL.';
COMMENT ON COLUMN trading.signals.reasoning IS 'Why the model signalled, in words.';
COMMENT ON COLUMN trading.signals.model_version IS 'Model (and version) that produced the signal.';
COMMENT ON COLUMN trading.signals.strategy IS 'Strategy name the signal belongs to, if any (free text, not a key of strategies).';
COMMENT ON COLUMN trading.signals.features IS 'Model inputs as a JSON object (GIN-indexed).';
COMMENT ON COLUMN trading.signals."timestamp" IS 'When the signal was issued.';
COMMENT ON COLUMN trading.signals.expires_at IS 'When the signal stops being valid (after timestamp); NULL: no expiry.';
COMMENT ON COLUMN trading.signals.created_at IS 'When the row was stored.';
COMMENT ON COLUMN trading.signals.updated_at IS 'When the row was last changed.';

-- trading.system_events (0101), with ops_internal.system_events_routine and _critical ---------
COMMENT ON VIEW trading.system_events IS
    'All system events; INSERT routes CRITICAL/EMERGENCY to a 2-year table, the rest to a 3-month one.';
COMMENT ON TABLE ops_internal.system_events_routine IS
    'System events DEBUG..ERROR, 1-day chunks, kept 3 months; read and write them through trading.system_events.';
COMMENT ON TABLE ops_internal.system_events_critical IS
    'System events CRITICAL and EMERGENCY, 30-day chunks, kept 2 years; read and write them through trading.system_events.';
DO $comments$
DECLARE
    rel text;
    col record;
BEGIN
    FOREACH rel IN ARRAY ARRAY['trading.system_events', 'ops_internal.system_events_routine',
                               'ops_internal.system_events_critical'] LOOP
        FOR col IN SELECT * FROM (VALUES
            ('id', 'Event id, from one sequence shared by both tables.'),
            ('timestamp', 'When the event happened; defaults to now().'),
            ('severity', 'DEBUG, INFO, WARNING, ERROR, CRITICAL or EMERGENCY (upper-cased on insert).'),
            ('component', 'Part of the system that reported it (e.g. oms, broker-gw, ops-db).'),
            ('event_type', 'What happened, as a short name.'),
            ('message', 'What happened, in words.'),
            ('details', 'Event details as a JSON object.'),
            ('created_at', 'When the row was stored.')) AS c (name, comment) LOOP
            EXECUTE format('COMMENT ON COLUMN %s.%I IS %L', rel, col.name, col.comment);
        END LOOP;
    END LOOP;
END
$comments$;

-- Rollups (0102): tables on the apache edition, continuous aggregates on the timescale one -----
DO $comments$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT * FROM (VALUES
        ('trading.stock_prices_1m', 'OHLCV bars of 1 minute per symbol, from stock_prices; kept after the raw prices are dropped.'),
        ('trading.stock_prices_5m', 'OHLCV bars of 5 minutes per symbol, from stock_prices_1m.'),
        ('trading.stock_prices_1h', 'OHLCV bars of 1 hour per symbol, from stock_prices_5m.'),
        ('trading.stock_prices_1d', 'OHLCV bars of 1 day (UTC) per symbol, from stock_prices_1h.'),
        ('trading.options_volume_1h', 'Hourly call and put volume, put/call ratio and mean IV per underlying, from options_data.'),
        ('trading.signal_performance_1d', 'Daily signal counts by type and confidence per symbol and strategy, from signals.'))
        AS v (name, comment) LOOP
        EXECUTE format('COMMENT ON %s %s IS %L',
                       CASE (SELECT relkind FROM pg_class WHERE oid = r.name::regclass)
                            WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END,
                       r.name, r.comment || ' Continuous aggregate (timescale edition) or a table kept by ops-db maintain (apache).');
    END LOOP;
END
$comments$;

-- trading.stock_prices_1m, _5m, _1h, _1d: the same columns
DO $comments$
DECLARE
    rel text;
    col record;
BEGIN
    FOREACH rel IN ARRAY ARRAY['trading.stock_prices_1m', 'trading.stock_prices_5m', 'trading.stock_prices_1h',
                               'trading.stock_prices_1d'] LOOP
        FOR col IN SELECT * FROM (VALUES
            ('bucket', 'Start of the bar (time_bucket, aligned in UTC); the bar covers [bucket, bucket + width).'),
            ('symbol', 'Ticker.'),
            ('open', 'First price in the bar (a tick''s close when it has no open).'),
            ('high', 'Highest price in the bar.'),
            ('low', 'Lowest price in the bar.'),
            ('close', 'Last price in the bar.'),
            ('volume', 'Shares traded in the bar.'),
            ('turnover', 'Sum of price x volume (vwap, else close, per tick): traded value; coarser bars sum it.'),
            ('vwap', 'Volume-weighted average price: turnover / volume, 6 decimals; NULL when volume is 0.'),
            ('trade_count', 'Raw price rows (ticks or source bars) in the bar.')) AS c (name, comment) LOOP
            EXECUTE format('COMMENT ON COLUMN %s.%I IS %L', rel, col.name, col.comment);
        END LOOP;
    END LOOP;
END
$comments$;

-- trading.options_volume_1h
COMMENT ON COLUMN trading.options_volume_1h.bucket IS 'Start of the hour (aligned in UTC).';
COMMENT ON COLUMN trading.options_volume_1h.underlying_symbol IS 'Ticker of the underlying.';
COMMENT ON COLUMN trading.options_volume_1h.call_volume IS 'Call contracts traded in the hour.';
COMMENT ON COLUMN trading.options_volume_1h.put_volume IS 'Put contracts traded in the hour.';
COMMENT ON COLUMN trading.options_volume_1h.put_call_ratio IS 'put_volume / call_volume, 6 decimals; NULL when no calls traded.';
COMMENT ON COLUMN trading.options_volume_1h.avg_implied_volatility IS 'Mean implied volatility of the hour''s quotes, as a fraction.';
COMMENT ON COLUMN trading.options_volume_1h.quote_count IS 'Quotes (rows of options_data) in the hour.';

-- trading.signal_performance_1d
COMMENT ON COLUMN trading.signal_performance_1d.bucket IS 'Start of the day (aligned in UTC).';
COMMENT ON COLUMN trading.signal_performance_1d.symbol IS 'Ticker.';
COMMENT ON COLUMN trading.signal_performance_1d.strategy IS 'Strategy named on the signals; NULL for signals without one.';
COMMENT ON COLUMN trading.signal_performance_1d.total_signals IS 'Signals issued that day.';
COMMENT ON COLUMN trading.signal_performance_1d.buy_signals IS 'BUY signals.';
COMMENT ON COLUMN trading.signal_performance_1d.sell_signals IS 'SELL signals.';
COMMENT ON COLUMN trading.signal_performance_1d.hold_signals IS 'HOLD signals.';
COMMENT ON COLUMN trading.signal_performance_1d.avg_confidence IS 'Mean confidence (0..1), 6 decimals.';
COMMENT ON COLUMN trading.signal_performance_1d.max_confidence IS 'Highest confidence (0..1).';
COMMENT ON COLUMN trading.signal_performance_1d.high_confidence_signals IS 'Signals with confidence above 0.8.';

-- ops_internal.rollup (0102) ------------------------------------------------------------------
COMMENT ON TABLE ops_internal.rollup IS
    'The rollups, what each is built from, and (apache edition) how far each has been refreshed.';
COMMENT ON COLUMN ops_internal.rollup.name IS 'The rollup, schema-qualified (e.g. trading.stock_prices_5m).';
COMMENT ON COLUMN ops_internal.rollup.source IS 'What it aggregates: the raw hypertable or the next finer rollup.';
COMMENT ON COLUMN ops_internal.rollup.raw_hypertable IS 'The raw hypertable underneath; its retention bounds the refresh window.';
COMMENT ON COLUMN ops_internal.rollup.bucket_width IS 'Width of one bucket.';
COMMENT ON COLUMN ops_internal.rollup.level IS '1 for rollups of raw data, 2 for rollups of level 1, and so on; refreshed in this order.';
COMMENT ON COLUMN ops_internal.rollup.policy_end_offset IS 'timescale edition: refresh policy end_offset (the newest buckets are left to real-time aggregation).';
COMMENT ON COLUMN ops_internal.rollup.policy_schedule IS 'timescale edition: how often the refresh policy runs.';
COMMENT ON COLUMN ops_internal.rollup.refreshed_through IS
    'apache edition: every change to the raw data before this time is in the rollup.';
COMMENT ON COLUMN ops_internal.rollup.refreshed_at IS 'apache edition: when ops-db maintain last refreshed it.';

-- ops_internal.rollup_invalidation (0102) -----------------------------------------------------
COMMENT ON TABLE ops_internal.rollup_invalidation IS
    'apache edition: time ranges touched in a raw hypertable, consumed by ops-db maintain.';
COMMENT ON COLUMN ops_internal.rollup_invalidation.hypertable IS 'Raw hypertable that changed (e.g. trading.stock_prices).';
COMMENT ON COLUMN ops_internal.rollup_invalidation.lo IS 'Earliest row time one statement inserted, updated or deleted.';
COMMENT ON COLUMN ops_internal.rollup_invalidation.hi IS 'Latest row time that statement touched (inclusive).';
COMMENT ON COLUMN ops_internal.rollup_invalidation.logged_at IS 'When the range was logged.';

-- trading.strategies (0200) -------------------------------------------------------------------
COMMENT ON TABLE trading.strategies IS
    'Trading strategies; orders above max_order_quantity/max_order_value need approval.';
COMMENT ON COLUMN trading.strategies.id IS 'Strategy id; staged_orders.strategy_id refers to it.';
COMMENT ON COLUMN trading.strategies.name IS 'Unique name.';
COMMENT ON COLUMN trading.strategies.strategy_type IS 'Kind of strategy, lower_snake_case (default manual).';
COMMENT ON COLUMN trading.strategies.mode IS 'PAPER (simulated) or LIVE (real money).';
COMMENT ON COLUMN trading.strategies.active IS 'Only an active strategy may stage orders.';
COMMENT ON COLUMN trading.strategies.requires_approval IS 'Every order of this strategy needs approval (four eyes).';
COMMENT ON COLUMN trading.strategies.max_order_quantity IS 'Orders above this quantity need approval; NULL: no limit.';
COMMENT ON COLUMN trading.strategies.max_order_value IS 'Orders above this value (quantity x limit, stop or last price) need approval; NULL: no limit.';
COMMENT ON COLUMN trading.strategies.description IS 'What the strategy does, in words.';
COMMENT ON COLUMN trading.strategies.params IS 'Strategy parameters as a JSON object.';
COMMENT ON COLUMN trading.strategies.created_at IS 'When the strategy was created.';
COMMENT ON COLUMN trading.strategies.updated_at IS 'When the strategy was last changed (set by ops_db).';

-- trading.kill_switch_events (0200) -----------------------------------------------------------
COMMENT ON TABLE trading.kill_switch_events IS
    'Append-only kill switch history, written by trading.set_kill_switch(); the state is trading.kill_switch_state.';
COMMENT ON COLUMN trading.kill_switch_events.id IS 'Event id, in the order the changes were made.';
COMMENT ON COLUMN trading.kill_switch_events.active IS 'true: trading halted from here on; false: resumed.';
COMMENT ON COLUMN trading.kill_switch_events.reason IS 'Why it was switched, in words.';
COMMENT ON COLUMN trading.kill_switch_events.actor IS 'Who claims to have switched it (validated, as given to set_kill_switch()).';
COMMENT ON COLUMN trading.kill_switch_events.login_role IS 'The authenticated login role that switched it (session_user, set by the database).';
COMMENT ON COLUMN trading.kill_switch_events.created_at IS 'When it was switched (database clock time, never the client''s).';

-- trading.kill_switch_state (0500) -----------------------------------------------------------
COMMENT ON TABLE trading.kill_switch_state IS
    'The kill switch now: one row, changed only by trading.set_kill_switch(); the last committed change wins.';
COMMENT ON COLUMN trading.kill_switch_state.singleton IS 'Always true: keeps the table to one row.';
COMMENT ON COLUMN trading.kill_switch_state.active IS 'true: trading halted (no new, approved or submitted orders); false: trading allowed.';
COMMENT ON COLUMN trading.kill_switch_state.reason IS 'Why it was last switched, in words.';
COMMENT ON COLUMN trading.kill_switch_state.actor IS 'Who claims to have last switched it (validated).';
COMMENT ON COLUMN trading.kill_switch_state.login_role IS 'The login role that last switched it (session_user).';
COMMENT ON COLUMN trading.kill_switch_state.changed_at IS 'When it was last switched (database clock).';

-- trading.staged_orders (0200) ----------------------------------------------------------------
COMMENT ON TABLE trading.staged_orders IS
    'Orders through their whole life; status changes are checked by trigger (see docs/trading-ledger.md).';
COMMENT ON COLUMN trading.staged_orders.id IS 'Order id.';
COMMENT ON COLUMN trading.staged_orders.client_order_id IS 'The application''s unique id for the order: a retried insert with it is refused as a duplicate.';
COMMENT ON COLUMN trading.staged_orders.strategy_id IS 'Strategy the order belongs to (trading.strategies).';
COMMENT ON COLUMN trading.staged_orders.signal_id IS 'Signal that prompted it (trading.signals.id, no foreign key: signals is a hypertable).';
COMMENT ON COLUMN trading.staged_orders.symbol IS 'Instrument: ticker or option symbol.';
COMMENT ON COLUMN trading.staged_orders.side IS 'buy or sell.';
COMMENT ON COLUMN trading.staged_orders.order_type IS 'market, limit, stop or stop_limit.';
COMMENT ON COLUMN trading.staged_orders.quantity IS 'Quantity ordered, always positive (side gives the direction); at most 8 decimals.';
COMMENT ON COLUMN trading.staged_orders.limit_price IS 'Limit price; set exactly for limit and stop_limit orders.';
COMMENT ON COLUMN trading.staged_orders.stop_price IS 'Stop (trigger) price; set exactly for stop and stop_limit orders.';
COMMENT ON COLUMN trading.staged_orders.stop_loss IS 'Stop-loss price for the resulting position (recorded; the database does not act on it).';
COMMENT ON COLUMN trading.staged_orders.take_profit IS 'Take-profit price for the resulting position (recorded; the database does not act on it).';
COMMENT ON COLUMN trading.staged_orders.time_in_force IS 'day, gtc (good till cancelled), ioc, fok, opg (at the open) or cls (at the close).';
COMMENT ON COLUMN trading.staged_orders.status IS 'staged, pending_approval, approved, submitted, partially_filled, filled, cancelled, rejected or expired (the last four are final).';
COMMENT ON COLUMN trading.staged_orders.created_by IS 'Who staged the order (user or service name).';
COMMENT ON COLUMN trading.staged_orders.risk_score IS 'Risk score 0..100 from the risk check; above 75 the order needs approval.';
COMMENT ON COLUMN trading.staged_orders.risk_factors IS 'The risk check''s breakdown as a JSON object (e.g. position_size_risk, volatility_risk).';
COMMENT ON COLUMN trading.staged_orders.portfolio_impact IS 'Expected effect on the portfolio as a JSON object.';
COMMENT ON COLUMN trading.staged_orders.concentration_check IS 'Concentration limit check: false needs approval; NULL: not checked.';
COMMENT ON COLUMN trading.staged_orders.compliance_flags IS 'Compliance checks as a JSON object of {"passed": bool, ...} objects; any passed = false needs approval.';
COMMENT ON COLUMN trading.staged_orders.approval_required IS 'Computed by the database when staged: approval_reasons is not empty.';
COMMENT ON COLUMN trading.staged_orders.approval_reasons IS 'Why approval is needed, one readable line per rule (computed by the database).';
COMMENT ON COLUMN trading.staged_orders.approved_by IS 'Who approved it (set on entering approved).';
COMMENT ON COLUMN trading.staged_orders.approved_at IS 'When it was approved (set by the database).';
COMMENT ON COLUMN trading.staged_orders.rejection_reason IS 'Why it was rejected (required on entering rejected).';
COMMENT ON COLUMN trading.staged_orders.status_reason IS 'Why it last changed status, when given (cancel, expiry, rejection); recorded in the audit trail.';
COMMENT ON COLUMN trading.staged_orders.broker_order_id IS 'The broker''s order id: set once, when submitted; unique.';
COMMENT ON COLUMN trading.staged_orders.filled_quantity IS 'Quantity filled so far, 0..quantity; moves only with fills (trading.executions).';
COMMENT ON COLUMN trading.staged_orders.avg_fill_price IS 'Quantity-weighted average price of the fills so far; NULL before the first fill.';
COMMENT ON COLUMN trading.staged_orders.metadata IS 'Strategy-specific parameters as a JSON object.';
COMMENT ON COLUMN trading.staged_orders.market_data IS 'Market data when staged as a JSON object; last_price values a market order against max_order_value.';
COMMENT ON COLUMN trading.staged_orders.tags IS 'Free labels (at most 32).';
COMMENT ON COLUMN trading.staged_orders.created_at IS 'When the order was staged (set by the database).';
COMMENT ON COLUMN trading.staged_orders.updated_at IS 'When the order last changed (set by the database).';
COMMENT ON COLUMN trading.staged_orders.expires_at IS 'When an open order expires (trading.expire_due_orders); NULL: never.';
COMMENT ON COLUMN trading.staged_orders.submitted_at IS 'When it was submitted to the broker (set by the database).';
COMMENT ON COLUMN trading.staged_orders.executed_at IS 'Execution time of the fill that completed the order; NULL until filled.';
COMMENT ON COLUMN trading.staged_orders.closed_at IS 'When it reached a final status (set by the database).';

-- trading.order_events (0200) -----------------------------------------------------------------
COMMENT ON TABLE trading.order_events IS
    'Append-only audit trail: one row per insert and change of an order, written by the database.';
COMMENT ON COLUMN trading.order_events.id IS 'Event id, increasing; the NOTIFY order_updates payload carries it as event_id.';
COMMENT ON COLUMN trading.order_events.order_id IS 'The order (trading.staged_orders.id).';
COMMENT ON COLUMN trading.order_events.occurred_at IS 'When the change was recorded (clock time, not the transaction start).';
COMMENT ON COLUMN trading.order_events.event_type IS 'created, transition (status change), fill, or changed (other fields).';
COMMENT ON COLUMN trading.order_events.from_status IS 'Status before the change; NULL for created.';
COMMENT ON COLUMN trading.order_events.to_status IS 'Status after the change.';
COMMENT ON COLUMN trading.order_events.actor IS 'Who acted: the ops_db.actor the application set, else the login role.';
COMMENT ON COLUMN trading.order_events.details IS 'JSON computed by the database: the order''s terms when created, else {"changed": {column: new value}}, plus fill or approval facts.';
COMMENT ON COLUMN trading.order_events.login_role IS 'The authenticated login role that made the change (session_user; ''unrecorded'' for events before migration 0500).';

-- trading.positions (0201) --------------------------------------------------------------------
COMMENT ON TABLE trading.positions IS
    'Positions at average cost; moved only by fills (trading.executions) and trading.close_position().';
COMMENT ON COLUMN trading.positions.id IS 'Position id: one row per position''s life, from opening to flat.';
COMMENT ON COLUMN trading.positions.symbol IS 'Instrument: ticker or option symbol; at most one open position per symbol.';
COMMENT ON COLUMN trading.positions.quantity IS 'Signed quantity: positive long, negative short; 0 once closed.';
COMMENT ON COLUMN trading.positions.avg_cost IS 'Average entry price per unit (average cost method); reductions leave it unchanged.';
COMMENT ON COLUMN trading.positions.realized_pnl IS 'P&L realized by reductions and the close, before costs.';
COMMENT ON COLUMN trading.positions.fees IS 'Commissions and fees of the fills applied to it (a cost: positive).';
COMMENT ON COLUMN trading.positions.status IS 'open or closed.';
COMMENT ON COLUMN trading.positions.current_price IS 'Last mark (mark_to_market); NULL until marked.';
COMMENT ON COLUMN trading.positions.market_value IS 'quantity x current_price (negative for a short); NULL until marked.';
COMMENT ON COLUMN trading.positions.unrealized_pnl IS '(current_price - avg_cost) x quantity, before costs; NULL until marked.';
COMMENT ON COLUMN trading.positions.opened_at IS 'Execution time of the fill that opened it.';
COMMENT ON COLUMN trading.positions.closed_at IS 'When it closed; set exactly when status is closed.';
COMMENT ON COLUMN trading.positions.close_price IS 'Price of the closing fill, or the price given to close_position().';
COMMENT ON COLUMN trading.positions.close_reason IS 'flat (fills took it to zero), flipped (a fill went through zero), or the reason given to close_position().';
COMMENT ON COLUMN trading.positions.last_marked_at IS 'When current_price was set.';
COMMENT ON COLUMN trading.positions.updated_at IS 'When a fill or close last changed it.';

-- trading.executions (0201) -------------------------------------------------------------------
COMMENT ON TABLE trading.executions IS
    'Fills with price, quantity, costs, venue and broker trade id; inserting one moves order and position.';
COMMENT ON COLUMN trading.executions.id IS 'Execution id.';
COMMENT ON COLUMN trading.executions.order_id IS 'The order filled (trading.staged_orders); it must be submitted or partially_filled.';
COMMENT ON COLUMN trading.executions.position_id IS 'Position the fill was applied to (for a flip, the one it closed); set by the database.';
COMMENT ON COLUMN trading.executions.symbol IS 'Copied from the order by the database.';
COMMENT ON COLUMN trading.executions.side IS 'buy or sell, copied from the order by the database.';
COMMENT ON COLUMN trading.executions.quantity IS 'Quantity filled, always positive (side gives the direction).';
COMMENT ON COLUMN trading.executions.price IS 'Fill price per unit.';
COMMENT ON COLUMN trading.executions.commission IS 'Broker commission (a cost: positive).';
COMMENT ON COLUMN trading.executions.fees IS 'Exchange, regulatory and other charges (a cost: positive).';
COMMENT ON COLUMN trading.executions.realized_pnl IS 'P&L this fill realized on the position, before costs; computed by the database (0 when it adds).';
COMMENT ON COLUMN trading.executions.venue IS 'Where it executed (exchange or venue code).';
COMMENT ON COLUMN trading.executions.broker_trade_id IS 'The broker''s id of the trade; unique, so a replayed fill is refused.';
COMMENT ON COLUMN trading.executions.executed_at IS 'When the trade happened (given by the caller; default now()).';
COMMENT ON COLUMN trading.executions.created_at IS 'When it was recorded (set by the database).';
COMMENT ON COLUMN trading.executions.recorded_by IS 'Who claims to have recorded the fill (validated; ''broker'' by default).';
COMMENT ON COLUMN trading.executions.sequenced_at IS 'When the fill was applied to its position, after the symbol lock: fills of a symbol apply in this order.';

-- trading.portfolio_snapshots (0201) ----------------------------------------------------------
COMMENT ON TABLE trading.portfolio_snapshots IS 'The account''s value over time (seed 003 portfolios), 7-day chunks.';
COMMENT ON COLUMN trading.portfolio_snapshots.snapshot_at IS 'When the snapshot was taken; the key.';
COMMENT ON COLUMN trading.portfolio_snapshots.cash_balance IS 'Cash in the account, as given by the caller (negative: borrowed).';
COMMENT ON COLUMN trading.portfolio_snapshots.positions_value IS 'Sum of open positions'' quantity x mark (avg_cost when unmarked); shorts count negative.';
COMMENT ON COLUMN trading.portfolio_snapshots.total_value IS 'cash_balance + positions_value.';
COMMENT ON COLUMN trading.portfolio_snapshots.unrealized_pnl IS 'Sum of open positions'' unrealized P&L, before costs.';
COMMENT ON COLUMN trading.portfolio_snapshots.realized_pnl_today IS 'Realized P&L of the day''s fills up to snapshot_at, net of their commissions and fees.';
COMMENT ON COLUMN trading.portfolio_snapshots.open_positions IS 'Number of open positions.';
COMMENT ON COLUMN trading.portfolio_snapshots.details IS 'Extra figures as a JSON object.';

-- trading.strategy_performance (0202) ---------------------------------------------------------
COMMENT ON TABLE trading.strategy_performance IS 'Per strategy and period: return, P&L, Sharpe ratio, drawdown and win rate.';
COMMENT ON COLUMN trading.strategy_performance.id IS 'Row id.';
COMMENT ON COLUMN trading.strategy_performance.strategy_id IS 'The strategy (trading.strategies).';
COMMENT ON COLUMN trading.strategy_performance.period_start IS 'Start of the period measured (inclusive).';
COMMENT ON COLUMN trading.strategy_performance.period_end IS 'End of the period measured (after period_start); one row per strategy and period.';
COMMENT ON COLUMN trading.strategy_performance.total_return IS 'Return over the period as a fraction (0.05 = +5%).';
COMMENT ON COLUMN trading.strategy_performance.pnl IS 'P&L over the period.';
COMMENT ON COLUMN trading.strategy_performance.sharpe_ratio IS 'Sharpe ratio over the period.';
COMMENT ON COLUMN trading.strategy_performance.max_drawdown IS 'Largest fall from a peak within the period, as a fraction of the peak (0.15 = 15%).';
COMMENT ON COLUMN trading.strategy_performance.win_rate IS 'Share of winning trades, 0..1.';
COMMENT ON COLUMN trading.strategy_performance.trades IS 'Trades in the period.';
COMMENT ON COLUMN trading.strategy_performance.risk_metrics IS 'Further risk figures as a JSON object.';
COMMENT ON COLUMN trading.strategy_performance.created_at IS 'When the row was stored.';

-- trading.performance_metrics (0202) ----------------------------------------------------------
COMMENT ON TABLE trading.performance_metrics IS 'Named metric values over time, 7-day chunks, kept 2 years.';
COMMENT ON COLUMN trading.performance_metrics.recorded_at IS 'When the value was measured.';
COMMENT ON COLUMN trading.performance_metrics.strategy_id IS 'Strategy it measures (trading.strategies.id, no foreign key); NULL: the whole desk or system.';
COMMENT ON COLUMN trading.performance_metrics.metric IS 'Metric name, lower case with _ and . (e.g. sharpe_ratio, latency.p99).';
COMMENT ON COLUMN trading.performance_metrics.value IS 'The value, in the metric''s own unit.';
COMMENT ON COLUMN trading.performance_metrics.labels IS 'Further dimensions as a JSON object.';

-- trading.reconciliation_log (0202) -----------------------------------------------------------
COMMENT ON TABLE trading.reconciliation_log IS 'Differences between our books and the broker''s, and how each was resolved.';
COMMENT ON COLUMN trading.reconciliation_log.id IS 'Issue id.';
COMMENT ON COLUMN trading.reconciliation_log.symbol IS 'Instrument concerned.';
COMMENT ON COLUMN trading.reconciliation_log.issue_type IS 'quantity_mismatch, price_mismatch, missing_at_broker, unknown_at_broker, order_status_mismatch or other.';
COMMENT ON COLUMN trading.reconciliation_log.our_quantity IS 'Our signed quantity (positive long, negative short).';
COMMENT ON COLUMN trading.reconciliation_log.broker_quantity IS 'The broker''s signed quantity (positive long, negative short).';
COMMENT ON COLUMN trading.reconciliation_log.our_price IS 'Our price (e.g. average cost or fill price).';
COMMENT ON COLUMN trading.reconciliation_log.broker_price IS 'The broker''s price for the same.';
COMMENT ON COLUMN trading.reconciliation_log.order_id IS 'Order concerned, if any (trading.staged_orders).';
COMMENT ON COLUMN trading.reconciliation_log.details IS 'Further details as a JSON object.';
COMMENT ON COLUMN trading.reconciliation_log.detected_at IS 'When the difference was found.';
COMMENT ON COLUMN trading.reconciliation_log.resolved_at IS 'When it was resolved; NULL while open (resolved_at, resolved_by and resolution go together).';
COMMENT ON COLUMN trading.reconciliation_log.resolved_by IS 'Who resolved it.';
COMMENT ON COLUMN trading.reconciliation_log.resolution IS 'How it was resolved, in words.';

-- trading.daily_stats (0202) ------------------------------------------------------------------
COMMENT ON TABLE trading.daily_stats IS
    'Per trading day: orders, fills, traded value, P&L, order-to-trade ratio; recomputed by ops_db.ledger.positions.refresh_daily_stats.';
COMMENT ON COLUMN trading.daily_stats.trading_date IS 'The day, in the time zone of the session that refreshed it.';
COMMENT ON COLUMN trading.daily_stats.orders_placed IS 'Orders staged that day.';
COMMENT ON COLUMN trading.daily_stats.orders_filled IS 'Of those, orders now filled.';
COMMENT ON COLUMN trading.daily_stats.orders_rejected IS 'Of those, orders now rejected.';
COMMENT ON COLUMN trading.daily_stats.orders_cancelled IS 'Of those, orders now cancelled.';
COMMENT ON COLUMN trading.daily_stats.trades_executed IS 'Fills executed that day.';
COMMENT ON COLUMN trading.daily_stats.traded_value IS 'Sum of quantity x price of those fills.';
COMMENT ON COLUMN trading.daily_stats.realized_pnl IS 'Realized P&L of those fills, before costs.';
COMMENT ON COLUMN trading.daily_stats.costs IS 'Commissions and fees of those fills (positive).';
COMMENT ON COLUMN trading.daily_stats.net_pnl IS 'realized_pnl - costs.';
COMMENT ON COLUMN trading.daily_stats.order_to_trade_ratio IS 'orders_placed / trades_executed, 2 decimals; NULL without fills.';
COMMENT ON COLUMN trading.daily_stats.kill_switch_triggered IS 'The kill switch was switched on that day.';
COMMENT ON COLUMN trading.daily_stats.updated_at IS 'When the row was last recomputed.';

-- trading.alerts (0202) -----------------------------------------------------------------------
COMMENT ON TABLE trading.alerts IS 'Alerts for the desk (risk, broker, system) and their resolution.';
COMMENT ON COLUMN trading.alerts.id IS 'Alert id.';
COMMENT ON COLUMN trading.alerts.alert_type IS 'Kind of alert, lower_snake_case (e.g. concentration, broker_reject).';
COMMENT ON COLUMN trading.alerts.severity IS 'INFO, WARNING, CRITICAL or EMERGENCY.';
COMMENT ON COLUMN trading.alerts.message IS 'What is wrong, in words.';
COMMENT ON COLUMN trading.alerts.source IS 'Component or service that raised it.';
COMMENT ON COLUMN trading.alerts.symbol IS 'Instrument concerned, if any.';
COMMENT ON COLUMN trading.alerts.details IS 'Further details as a JSON object.';
COMMENT ON COLUMN trading.alerts.created_at IS 'When it was raised.';
COMMENT ON COLUMN trading.alerts.resolved_at IS 'When it was resolved; NULL while open (resolved_at, resolved_by and resolution go together).';
COMMENT ON COLUMN trading.alerts.resolved_by IS 'Who resolved it.';
COMMENT ON COLUMN trading.alerts.resolution IS 'How it was resolved, in words.';

-- trading.agent_decisions (0202) --------------------------------------------------------------
COMMENT ON TABLE trading.agent_decisions IS 'What each trading agent decided, on what and why; append-only, 7-day chunks.';
COMMENT ON COLUMN trading.agent_decisions.decided_at IS 'When the agent decided.';
COMMENT ON COLUMN trading.agent_decisions.id IS 'Decision id.';
COMMENT ON COLUMN trading.agent_decisions.agent IS 'Name of the agent.';
COMMENT ON COLUMN trading.agent_decisions.action IS 'What it decided, lower_snake_case (e.g. stage_order, skip).';
COMMENT ON COLUMN trading.agent_decisions.symbol IS 'Instrument concerned, if any.';
COMMENT ON COLUMN trading.agent_decisions.order_id IS 'Order it led to, if any (trading.staged_orders.id, no foreign key).';
COMMENT ON COLUMN trading.agent_decisions.signal_id IS 'Signal it acted on, if any (trading.signals.id, no foreign key).';
COMMENT ON COLUMN trading.agent_decisions.confidence IS 'The agent''s confidence, 0..1.';
COMMENT ON COLUMN trading.agent_decisions.reasoning IS 'Why, in words.';
COMMENT ON COLUMN trading.agent_decisions.inputs IS 'What the agent saw, as a JSON object.';
COMMENT ON COLUMN trading.agent_decisions.outcome IS 'What came of it, as a JSON object.';

-- trading.system_health (0202) ----------------------------------------------------------------
COMMENT ON TABLE trading.system_health IS 'Health samples per component, 1-day chunks, kept 90 days.';
COMMENT ON COLUMN trading.system_health.checked_at IS 'When the component was checked.';
COMMENT ON COLUMN trading.system_health.component IS 'Component checked (e.g. oms, broker-gw, market-data).';
COMMENT ON COLUMN trading.system_health.status IS 'healthy, degraded, down or unknown.';
COMMENT ON COLUMN trading.system_health.health_score IS 'Health score 0..100 (100 = fully healthy).';
COMMENT ON COLUMN trading.system_health.metrics IS 'Measured figures as a JSON object.';
COMMENT ON COLUMN trading.system_health.details IS 'Further details as a JSON object.';

-- trading.data_quality (0202) -----------------------------------------------------------------
COMMENT ON TABLE trading.data_quality IS 'Results of data quality checks, 1-day chunks, kept 90 days.';
COMMENT ON COLUMN trading.data_quality.checked_at IS 'When the check ran.';
COMMENT ON COLUMN trading.data_quality.source IS 'Data source checked (e.g. a feed name).';
COMMENT ON COLUMN trading.data_quality.check_name IS 'Which check, lower_snake_case (e.g. stale_prices, gaps).';
COMMENT ON COLUMN trading.data_quality.symbol IS 'Instrument checked, if the check is per symbol.';
COMMENT ON COLUMN trading.data_quality.passed IS 'Whether the check passed.';
COMMENT ON COLUMN trading.data_quality.score IS 'Quality score 0..100, if the check gives one.';
COMMENT ON COLUMN trading.data_quality.details IS 'Findings as a JSON object.';

-- ops_internal.maintenance_runs (0300) --------------------------------------------------------
COMMENT ON TABLE ops_internal.maintenance_runs IS
    'Each ops-db maintain run: started, finished, succeeded, the actions it took (jsonb list).';
COMMENT ON COLUMN ops_internal.maintenance_runs.id IS 'Run id.';
COMMENT ON COLUMN ops_internal.maintenance_runs.started_at IS 'When the run started.';
COMMENT ON COLUMN ops_internal.maintenance_runs.finished_at IS 'When it finished; NULL while running or if it died.';
COMMENT ON COLUMN ops_internal.maintenance_runs.edition IS 'TimescaleDB edition it ran on: apache or timescale.';
COMMENT ON COLUMN ops_internal.maintenance_runs.dry_run IS 'true: --dry-run, it only reported what it would do.';
COMMENT ON COLUMN ops_internal.maintenance_runs.succeeded IS 'true or false once finished; NULL while running.';
COMMENT ON COLUMN ops_internal.maintenance_runs.actions IS 'What it did (or would do), as a JSON list of actions.';
COMMENT ON COLUMN ops_internal.maintenance_runs.error IS 'Why it failed, when it did.';

-- ops_internal.data_relations (sql/schema/010_catalog.sql) ------------------------------------
COMMENT ON VIEW ops_internal.data_relations IS
    'Relations of trading and ops_internal that hold data (tables, hypertables, rollups); what backups count and ops-db stats sizes.';
COMMENT ON COLUMN ops_internal.data_relations.relid IS 'The relation (pg_class oid).';
COMMENT ON COLUMN ops_internal.data_relations.schema_name IS 'Its schema.';
COMMENT ON COLUMN ops_internal.data_relations.relation_name IS 'Its name.';
COMMENT ON COLUMN ops_internal.data_relations.kind IS 'hypertable, continuous_aggregate, materialized_view or table.';
COMMENT ON COLUMN ops_internal.data_relations.storage IS 'Continuous aggregate: the materialization hypertable holding its rows; else NULL.';

-- trading.latest_prices (sql/schema/110_market_analytics.sql) ---------------------------------
COMMENT ON VIEW trading.latest_prices IS 'The newest raw price of every symbol.';
COMMENT ON COLUMN trading.latest_prices.symbol IS 'Ticker.';
COMMENT ON COLUMN trading.latest_prices."timestamp" IS 'Time of its newest row in stock_prices.';
COMMENT ON COLUMN trading.latest_prices.close_price IS 'Price of that row.';
COMMENT ON COLUMN trading.latest_prices.volume IS 'Shares traded in that tick or source bar.';
COMMENT ON COLUMN trading.latest_prices.vwap IS 'That row''s source bar VWAP; NULL for a tick.';

-- trading.v_active_positions (sql/schema/200_trading_ledger.sql) ------------------------------
COMMENT ON VIEW trading.v_active_positions IS 'Open positions with mark-to-market P&L (seed 004).';
COMMENT ON COLUMN trading.v_active_positions.id IS 'Position id (trading.positions).';
COMMENT ON COLUMN trading.v_active_positions.symbol IS 'Instrument.';
COMMENT ON COLUMN trading.v_active_positions.direction IS 'long (quantity > 0) or short.';
COMMENT ON COLUMN trading.v_active_positions.quantity IS 'Signed quantity: positive long, negative short.';
COMMENT ON COLUMN trading.v_active_positions.avg_cost IS 'Average entry price per unit.';
COMMENT ON COLUMN trading.v_active_positions.current_price IS 'Last mark; NULL until marked.';
COMMENT ON COLUMN trading.v_active_positions.market_value IS 'quantity x current_price (negative for a short).';
COMMENT ON COLUMN trading.v_active_positions.unrealized_pnl IS '(current_price - avg_cost) x quantity, before costs.';
COMMENT ON COLUMN trading.v_active_positions.unrealized_pnl_pct IS 'unrealized_pnl as a percentage of the cost |quantity| x avg_cost (5 = +5%).';
COMMENT ON COLUMN trading.v_active_positions.realized_pnl IS 'P&L realized so far on this position, before costs.';
COMMENT ON COLUMN trading.v_active_positions.fees IS 'Commissions and fees paid on it (positive).';
COMMENT ON COLUMN trading.v_active_positions.opened_at IS 'When it was opened.';
COMMENT ON COLUMN trading.v_active_positions.last_marked_at IS 'When current_price was set.';

-- trading.v_reconciliation_issues (sql/schema/200_trading_ledger.sql) -------------------------
COMMENT ON VIEW trading.v_reconciliation_issues IS 'Unresolved reconciliation issues, oldest first by age (seed 004).';
COMMENT ON COLUMN trading.v_reconciliation_issues.id IS 'Issue id (trading.reconciliation_log).';
COMMENT ON COLUMN trading.v_reconciliation_issues.symbol IS 'Instrument concerned.';
COMMENT ON COLUMN trading.v_reconciliation_issues.issue_type IS 'quantity_mismatch, price_mismatch, missing_at_broker, unknown_at_broker, order_status_mismatch or other.';
COMMENT ON COLUMN trading.v_reconciliation_issues.our_quantity IS 'Our signed quantity.';
COMMENT ON COLUMN trading.v_reconciliation_issues.broker_quantity IS 'The broker''s signed quantity.';
COMMENT ON COLUMN trading.v_reconciliation_issues.quantity_difference IS 'broker_quantity - our_quantity (positive: the broker holds more).';
COMMENT ON COLUMN trading.v_reconciliation_issues.our_price IS 'Our price.';
COMMENT ON COLUMN trading.v_reconciliation_issues.broker_price IS 'The broker''s price.';
COMMENT ON COLUMN trading.v_reconciliation_issues.order_id IS 'Order concerned, if any.';
COMMENT ON COLUMN trading.v_reconciliation_issues.details IS 'Further details as a JSON object.';
COMMENT ON COLUMN trading.v_reconciliation_issues.detected_at IS 'When the difference was found.';
COMMENT ON COLUMN trading.v_reconciliation_issues.age IS 'How long it has been open: now() - detected_at.';

-- trading.v_today_orders (sql/schema/200_trading_ledger.sql) ----------------------------------
COMMENT ON VIEW trading.v_today_orders IS 'Orders staged today, in the session''s time zone (seed 004).';
COMMENT ON COLUMN trading.v_today_orders.id IS 'Order id.';
COMMENT ON COLUMN trading.v_today_orders.client_order_id IS 'The application''s unique id for the order.';
COMMENT ON COLUMN trading.v_today_orders.broker_order_id IS 'The broker''s order id, once submitted.';
COMMENT ON COLUMN trading.v_today_orders.strategy IS 'Strategy name.';
COMMENT ON COLUMN trading.v_today_orders.symbol IS 'Instrument.';
COMMENT ON COLUMN trading.v_today_orders.side IS 'buy or sell.';
COMMENT ON COLUMN trading.v_today_orders.order_type IS 'market, limit, stop or stop_limit.';
COMMENT ON COLUMN trading.v_today_orders.quantity IS 'Quantity ordered (positive).';
COMMENT ON COLUMN trading.v_today_orders.limit_price IS 'Limit price, for limit and stop_limit orders.';
COMMENT ON COLUMN trading.v_today_orders.stop_price IS 'Stop price, for stop and stop_limit orders.';
COMMENT ON COLUMN trading.v_today_orders.status IS 'Current status.';
COMMENT ON COLUMN trading.v_today_orders.approval_required IS 'Whether it needs approval.';
COMMENT ON COLUMN trading.v_today_orders.filled_quantity IS 'Quantity filled so far.';
COMMENT ON COLUMN trading.v_today_orders.avg_fill_price IS 'Average fill price; NULL before the first fill.';
COMMENT ON COLUMN trading.v_today_orders.created_by IS 'Who staged it.';
COMMENT ON COLUMN trading.v_today_orders.created_at IS 'When it was staged.';
COMMENT ON COLUMN trading.v_today_orders.updated_at IS 'When it last changed.';

-- Functions of 0200_order_workflow and 0201_fills_and_positions -------------------------------
-- (trigger functions are left out: they are not for users and are to leave `trading`)
COMMENT ON FUNCTION trading.kill_switch_active() IS 'Whether trading is halted: trading.kill_switch_state.active.';
COMMENT ON FUNCTION ops_internal.kill_switch_hold() IS 'Internal to the order guard: reads the kill switch FOR SHARE, so a halt waits for orders in flight.';
COMMENT ON FUNCTION trading.set_kill_switch(boolean, text, text) IS 'Halt (true) or resume (false) trading, with a reason and the acting user; the only way to change the kill switch.';
COMMENT ON FUNCTION ops_internal.lock_symbol(text) IS 'Internal: the per-symbol transaction lock that fills and position closes take, so they apply one at a time.';
COMMENT ON FUNCTION ops_internal.order_change_context(bigint) IS 'Internal: who acts in the order change an owner function is making (read by the audit trigger).';
COMMENT ON FUNCTION trading.stage_order(text, bigint, bigint, text, text, text, numeric, numeric, numeric, numeric, numeric, text, text, numeric, jsonb, jsonb, boolean, jsonb, jsonb, jsonb, text[], timestamptz) IS
    'Stage an order idempotently: a known client order id returns the existing order only when every term is identical, else raises naming the fields that differ.';
COMMENT ON FUNCTION trading.transition_order(bigint, text, text, text, text) IS
    'Move order p_order_id to p_to_status as p_actor, locking it first; p_reason goes into the audit event (and is the rejection reason), p_broker_order_id is needed for submitted. Returns the order.';
COMMENT ON FUNCTION trading.screen_order(bigint, text) IS
    'Automatic screening: a staged order goes to pending_approval when it needs approval, else to approved; returns it.';
COMMENT ON FUNCTION trading.expire_due_orders(timestamptz, text) IS
    'Expire every open order whose expires_at <= p_now (cron-safe, skips locked orders); returns the expired orders.';
COMMENT ON FUNCTION trading.close_position(text, numeric, text) IS
    'Close the open position in p_symbol at p_price without a fill (expiry, assignment, write-off), realizing the difference to average cost.';
-- Helpers the order trigger uses; callable, but not an API (candidates to leave `trading`).
COMMENT ON FUNCTION trading.order_transition_allowed(text, text) IS 'The order state machine: whether status to_status may follow from_status.';
COMMENT ON FUNCTION trading.order_status_terminal(text) IS 'Whether an order status is final: filled, cancelled, rejected or expired.';
COMMENT ON FUNCTION trading.order_approval_reasons(trading.staged_orders) IS
    'Why an order needs approval (risk score > 75, failed compliance or concentration check, strategy limits): one line each.';
COMMENT ON FUNCTION ops_internal.current_actor() IS 'The authenticated login role (session_user): what the database records when no validated actor is given.';

-- Functions of sql/schema/110_market_analytics.sql --------------------------------------------
COMMENT ON FUNCTION trading.price_bars(text, interval, timestamptz, timestamptz) IS
    'OHLCV bars of p_symbol for any interval in [p_from, p_to): 1m/5m/1h/1d from the rollups, other intervals from raw prices (90 days).';
COMMENT ON FUNCTION trading.calculate_rsi(text, integer, interval) IS
    'Wilder''s RSI (0..100) of p_symbol''s closes over p_period bars of p_interval; NULL until p_period changes exist.';
COMMENT ON FUNCTION trading.calculate_bollinger_bands(text, integer, numeric, interval) IS
    'Bollinger bands of p_symbol: SMA of p_period closes +/- p_num_std population standard deviations; NULL until p_period bars exist.';
COMMENT ON FUNCTION trading.calculate_moving_average(text, integer, interval) IS
    'Simple and exponential moving averages of p_symbol''s closes over p_period bars of p_interval (EMA seeded with the first SMA).';
COMMENT ON FUNCTION trading.calculate_vwap(text, timestamptz, timestamptz) IS
    'Volume-weighted average price of p_symbol''s raw prices in [p_from, p_to); NULL without volume.';
COMMENT ON FUNCTION trading.options_chain(text, date, date, timestamptz) IS
    'Latest quote since p_quoted_since of every p_underlying contract expiring in [p_expires_from, p_expires_to], by expiry, type, strike.';
COMMENT ON FUNCTION trading.put_call_ratio(timestamptz, timestamptz) IS
    'Put and call volume and put/call ratio per underlying over [p_from, p_to) of the raw quotes.';

-- Functions of sql/schema/200_trading_ledger.sql ----------------------------------------------
COMMENT ON FUNCTION trading.get_today_pnl() IS
    'Today''s net realized P&L: realized P&L of today''s fills minus their commissions and fees (today in the session''s time zone).';
COMMENT ON FUNCTION trading.get_order_to_trade_ratio() IS
    'Orders staged today per fill recorded today, 2 decimals; NULL while nothing has traded today.';

-- ops_internal functions operators call (0003, 0102, sql/schema/100_market_maintenance.sql) -----
COMMENT ON FUNCTION ops_internal.timescaledb_edition() IS
    'timescale when the TSL features (continuous aggregates, columnstore, jobs) are on, else apache';
COMMENT ON FUNCTION ops_internal.rollup_policy_start_offset(text) IS
    'How far back a refresh of this rollup may reach: its raw data''s retention minus one day (NULL: no retention).';
COMMENT ON FUNCTION ops_internal.materialize_rollup(text, timestamptz, timestamptz) IS
    'apache edition: re-aggregate the rollup p_name''s buckets in [p_lo, p_hi) from its source; returns the rows written. Owner only.';
COMMENT ON FUNCTION ops_internal.refresh_rollup_tables(boolean) IS
    'apache edition: refresh every rollup over the ranges logged in rollup_invalidation (what ops-db maintain runs); nothing on timescale. Owner only.';
COMMENT ON FUNCTION ops_internal.apply_retention(boolean) IS
    'Apply ops_internal.retention: drop old chunks (apache) or align retention and refresh policies (timescale); p_dry_run only reports. Owner only.';
COMMENT ON FUNCTION ops_internal.rollup_status() IS
    'How current each rollup is: refreshed through when (continuous aggregate watermark or last refresh), and the lag behind now().';
COMMENT ON FUNCTION ops_internal.route_system_event() IS
    'Trigger: routes an INSERT into trading.system_events to the routine or critical table by severity.';
COMMENT ON FUNCTION ops_internal.staged_orders_guard() IS
    'Trigger on trading.staged_orders (before insert and update): the order state machine, approval rules, kill switch and four eyes.';
COMMENT ON FUNCTION ops_internal.staged_orders_audit() IS
    'Trigger on trading.staged_orders (after insert and update): one trading.order_events row per change, and a NOTIFY order_updates hint.';
COMMENT ON FUNCTION ops_internal.order_events_append_only() IS
    'Trigger on trading.order_events: refuses UPDATE, DELETE and TRUNCATE of the audit trail for every role but a superuser.';
COMMENT ON FUNCTION ops_internal.executions_apply_fill() IS
    'Trigger on trading.executions (before insert): moves the order and the symbol''s position in the same statement, one fill of a symbol at a time.';
COMMENT ON FUNCTION ops_internal.rollup_log_changes() IS
    'Trigger (apache edition): logs the time range of the rows a statement wrote (its transition tables) into ops_internal.rollup_invalidation.';
COMMENT ON FUNCTION ops_internal.market_time_window() IS
    'The times market data may carry: from 2000-01-01 to one day ahead of now; rollups refresh only inside it.';

-- @drop
