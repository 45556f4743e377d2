-- Fills move the books: an insert into trading.executions updates its order (filled quantity,
-- average fill price, status) and the symbol's position (average cost, realized P&L, flips
-- through zero, close at zero) in the same statement, or nothing is written at all.
-- Portfolio snapshots are a hypertable of the account's value over time.
-- depends: 0200_order_workflow
SET ROLE ops_owner;

-- One row per position's life: opened by a fill from flat, closed when it returns to zero.
-- quantity is signed: positive long, negative short.
CREATE TABLE trading.positions (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    symbol text NOT NULL,
    quantity numeric NOT NULL,
    avg_cost numeric NOT NULL,
    realized_pnl numeric NOT NULL DEFAULT 0,
    fees numeric NOT NULL DEFAULT 0,
    status text NOT NULL DEFAULT 'open',
    current_price numeric,
    market_value numeric GENERATED ALWAYS AS (quantity * current_price) STORED,
    unrealized_pnl numeric GENERATED ALWAYS AS ((current_price - avg_cost) * quantity) STORED,
    opened_at timestamptz NOT NULL DEFAULT now(),
    closed_at timestamptz,
    close_price numeric,
    close_reason text,
    last_marked_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT positions_symbol_valid CHECK (symbol ~ '^[A-Z0-9][A-Z0-9./ -]{0,31}$'),
    CONSTRAINT positions_status_valid CHECK (status IN ('open', 'closed')),
    CONSTRAINT positions_open_has_quantity CHECK ((status = 'open') = (quantity <> 0)),
    CONSTRAINT positions_closed_at_matches_status CHECK ((status = 'closed') = (closed_at IS NOT NULL)),
    CONSTRAINT positions_current_price_valid
        CHECK (current_price IS NULL OR (current_price > 0 AND current_price <= 1e9)),
    CONSTRAINT positions_avg_cost_valid CHECK (avg_cost > 0 AND avg_cost <= 1e9)
);
CREATE UNIQUE INDEX positions_open_symbol_key ON trading.positions (symbol) WHERE status = 'open';
CREATE INDEX positions_closed_at_idx ON trading.positions (closed_at DESC) WHERE status = 'closed';
COMMENT ON TABLE trading.positions IS
    'Positions at average cost; moved only by fills (trading.executions) and trading.close_position().';

CREATE TABLE trading.executions (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id bigint NOT NULL REFERENCES trading.staged_orders (id),
    position_id bigint REFERENCES trading.positions (id),
    symbol text NOT NULL DEFAULT '',   -- copied from the order by the trigger
    side text NOT NULL DEFAULT '',     -- copied from the order by the trigger
    quantity numeric NOT NULL,
    price numeric NOT NULL,
    commission numeric NOT NULL DEFAULT 0,
    fees numeric NOT NULL DEFAULT 0,   -- exchange, regulatory and other charges
    realized_pnl numeric NOT NULL DEFAULT 0,  -- computed by the trigger, before costs
    venue text,
    broker_trade_id text,
    executed_at timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT executions_broker_trade_id_key UNIQUE (broker_trade_id),
    CONSTRAINT executions_quantity_valid CHECK (quantity > 0 AND quantity <= 1e9 AND scale(quantity) <= 8),
    CONSTRAINT executions_price_valid CHECK (price > 0 AND price <= 1e9),
    CONSTRAINT executions_costs_valid CHECK (commission >= 0 AND commission <= 1e9 AND fees >= 0 AND fees <= 1e9),
    CONSTRAINT executions_venue_valid CHECK (venue IS NULL OR venue ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$'),
    CONSTRAINT executions_broker_trade_id_valid
        CHECK (broker_trade_id IS NULL OR broker_trade_id ~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$')
);
CREATE INDEX executions_order_idx ON trading.executions (order_id, executed_at);
CREATE INDEX executions_executed_at_idx ON trading.executions (executed_at DESC);
CREATE INDEX executions_position_idx ON trading.executions (position_id);
COMMENT ON TABLE trading.executions IS
    'Fills with price, quantity, costs, venue and broker trade id; inserting one moves order and position.';

CREATE FUNCTION trading.executions_apply_fill() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    o trading.staged_orders;
    p trading.positions;
    signed_qty numeric;
    new_filled numeric;
    closing numeric;
    remaining numeric;
    costs numeric;
BEGIN
    -- Bad numbers: leave the refusal to the table's named constraints, which say what is wrong.
    IF NOT coalesce(NEW.quantity > 0 AND NEW.quantity <= 1e9 AND NEW.price > 0 AND NEW.price <= 1e9, false) THEN
        RETURN NEW;
    END IF;
    SELECT * INTO o FROM trading.staged_orders WHERE id = NEW.order_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no order with id %', NEW.order_id USING ERRCODE = 'OPS05';
    END IF;
    IF o.status NOT IN ('submitted', 'partially_filled') THEN
        RAISE EXCEPTION 'order % is %: fills are recorded only for submitted orders', o.id, o.status
            USING ERRCODE = 'OPS01';
    END IF;
    new_filled := o.filled_quantity + NEW.quantity;
    IF new_filled > o.quantity THEN
        RAISE EXCEPTION 'a fill of % would take order % to % of %: overfill refused',
            NEW.quantity, o.id, new_filled, o.quantity
            USING ERRCODE = 'OPS02';
    END IF;

    NEW.symbol := o.symbol;
    NEW.side := o.side;
    NEW.created_at := now();
    costs := coalesce(NEW.commission, 0) + coalesce(NEW.fees, 0);

    PERFORM set_config('ops_db.event_details', jsonb_build_object(
        'execution_id', NEW.id, 'fill_quantity', NEW.quantity, 'fill_price', NEW.price,
        'broker_trade_id', NEW.broker_trade_id)::text, true);
    UPDATE trading.staged_orders
       SET filled_quantity = new_filled,
           avg_fill_price = round((coalesce(avg_fill_price, 0) * filled_quantity + NEW.quantity * NEW.price)
                                  / new_filled, 10),
           status = CASE WHEN new_filled = quantity THEN 'filled' ELSE 'partially_filled' END,
           executed_at = CASE WHEN new_filled = quantity THEN NEW.executed_at ELSE executed_at END
     WHERE id = o.id;
    PERFORM set_config('ops_db.event_details', '', true);

    -- The position: average cost; reductions realize (price - avg_cost) per unit closed.
    signed_qty := CASE o.side WHEN 'buy' THEN NEW.quantity ELSE -NEW.quantity END;
    NEW.realized_pnl := 0;
    SELECT * INTO p FROM trading.positions WHERE symbol = o.symbol AND status = 'open' FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO trading.positions (symbol, quantity, avg_cost, fees, opened_at)
        VALUES (o.symbol, signed_qty, NEW.price, costs, NEW.executed_at)
        ON CONFLICT (symbol) WHERE status = 'open' DO NOTHING
        RETURNING * INTO p;
        IF FOUND THEN
            NEW.position_id := p.id;
            RETURN NEW;
        END IF;
        -- Another transaction opened it first; apply the fill to theirs.
        SELECT * INTO p FROM trading.positions WHERE symbol = o.symbol AND status = 'open' FOR UPDATE;
    END IF;
    NEW.position_id := p.id;

    IF sign(signed_qty) = sign(p.quantity) THEN
        UPDATE trading.positions
           SET avg_cost = round((abs(quantity) * avg_cost + NEW.quantity * NEW.price)
                                / (abs(quantity) + NEW.quantity), 10),
               quantity = quantity + signed_qty,
               fees = fees + costs,
               updated_at = now()
         WHERE id = p.id;
        RETURN NEW;
    END IF;

    closing := least(NEW.quantity, abs(p.quantity));
    NEW.realized_pnl := closing * (NEW.price - p.avg_cost) * sign(p.quantity);
    remaining := p.quantity + signed_qty;
    IF remaining <> 0 AND sign(remaining) = sign(p.quantity) THEN
        UPDATE trading.positions
           SET quantity = remaining,
               realized_pnl = realized_pnl + NEW.realized_pnl,
               fees = fees + costs,
               updated_at = now()
         WHERE id = p.id;
        RETURN NEW;
    END IF;

    -- Back to zero: the position closes. Past zero: the rest opens a new one at the fill price.
    UPDATE trading.positions
       SET quantity = 0,
           status = 'closed',
           realized_pnl = realized_pnl + NEW.realized_pnl,
           fees = fees + costs,
           closed_at = NEW.executed_at,
           close_price = NEW.price,
           close_reason = CASE WHEN remaining = 0 THEN 'flat' ELSE 'flipped' END,
           updated_at = now()
     WHERE id = p.id;
    IF remaining <> 0 THEN
        INSERT INTO trading.positions (symbol, quantity, avg_cost, opened_at)
        VALUES (o.symbol, remaining, NEW.price, NEW.executed_at);
    END IF;
    RETURN NEW;
END
$$;
REVOKE EXECUTE ON FUNCTION trading.executions_apply_fill() FROM PUBLIC;

CREATE TRIGGER executions_apply_fill BEFORE INSERT ON trading.executions
    FOR EACH ROW EXECUTE FUNCTION trading.executions_apply_fill();

-- Close what is left of a position at a price without a fill: expiry, assignment, write-off.
CREATE FUNCTION trading.close_position(p_symbol text, p_price numeric, p_reason text)
    RETURNS trading.positions
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    p trading.positions;
BEGIN
    IF NOT coalesce(p_price > 0 AND p_price <= 1e9, false) THEN
        RAISE EXCEPTION 'closing price must be a positive number up to 1e9, not %', p_price
            USING ERRCODE = 'OPS04';
    END IF;
    IF coalesce(length(btrim(p_reason)), 0) NOT BETWEEN 1 AND 2000 THEN
        RAISE EXCEPTION 'closing a position needs a reason' USING ERRCODE = 'OPS04';
    END IF;
    SELECT * INTO p FROM trading.positions WHERE symbol = p_symbol AND status = 'open' FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no open position in %', p_symbol USING ERRCODE = 'OPS05';
    END IF;
    UPDATE trading.positions
       SET realized_pnl = realized_pnl + quantity * (p_price - avg_cost),
           quantity = 0,
           status = 'closed',
           closed_at = now(),
           close_price = p_price,
           close_reason = p_reason,
           current_price = p_price,
           updated_at = now()
     WHERE id = p.id
    RETURNING * INTO p;
    RETURN p;
END
$$;
REVOKE EXECUTE ON FUNCTION trading.close_position(text, numeric, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION trading.close_position(text, numeric, text) TO ops_app;

CREATE TABLE trading.portfolio_snapshots (
    snapshot_at timestamptz NOT NULL,
    cash_balance numeric NOT NULL,
    positions_value numeric NOT NULL,
    total_value numeric NOT NULL,
    unrealized_pnl numeric NOT NULL,
    realized_pnl_today numeric NOT NULL,
    open_positions integer NOT NULL,
    details jsonb NOT NULL DEFAULT '{}',
    CONSTRAINT portfolio_snapshots_pkey PRIMARY KEY (snapshot_at),
    CONSTRAINT portfolio_snapshots_cash_valid CHECK (cash_balance >= -1e15 AND cash_balance <= 1e15),
    CONSTRAINT portfolio_snapshots_details_object CHECK (jsonb_typeof(details) = 'object')
);
SELECT create_hypertable('trading.portfolio_snapshots', by_range('snapshot_at', interval '7 days'));
COMMENT ON TABLE trading.portfolio_snapshots IS 'The account''s value over time (seed 003 portfolios).';

-- Fills are facts: the application adds them, never edits them. Positions move only by fills,
-- close_position() and marks (current_price).
REVOKE UPDATE, DELETE, TRUNCATE ON trading.executions FROM ops_app;
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON trading.positions FROM ops_app;
GRANT UPDATE (current_price, last_marked_at) ON trading.positions TO ops_app;
REVOKE UPDATE, DELETE, TRUNCATE ON trading.portfolio_snapshots FROM ops_app;

RESET ROLE;
