-- The internal helpers of the ledger leave schema trading too (after its trigger functions,
-- 0503): the order guard's kill switch hold, the per-symbol fill lock, the owner-only change
-- context and the unused current_actor(). Their callers are redefined to name them in
-- ops_internal; nothing else changes. What stays in trading is what analysts and the app call
-- (the state machine and approval-rule functions among them).
-- depends: 0503_trigger_functions_internal
-- squawk-ignore-file ban-set-schema -- internal functions only: their callers are redefined here, no client calls them
SET ROLE ops_owner;
ALTER FUNCTION trading.kill_switch_hold() SET SCHEMA ops_internal;
ALTER FUNCTION trading.lock_symbol(text) SET SCHEMA ops_internal;
ALTER FUNCTION trading.order_change_context(bigint) SET SCHEMA ops_internal;
ALTER FUNCTION trading.current_actor() SET SCHEMA ops_internal;

CREATE OR REPLACE FUNCTION ops_internal.staged_orders_guard() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    strategy_active boolean;
    by_fill boolean := false;
    claim ops_internal.order_change_context;
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'staged' THEN
            RAISE EXCEPTION 'a new order starts as staged, not %', NEW.status
                USING ERRCODE = 'OPS01';
        END IF;
        IF NEW.filled_quantity <> 0 OR NEW.avg_fill_price IS NOT NULL OR NEW.approved_by IS NOT NULL
           OR NEW.broker_order_id IS NOT NULL THEN
            RAISE EXCEPTION 'a new order has no fills, approval or broker order id yet'
                USING ERRCODE = 'OPS04';
        END IF;
        SELECT active INTO strategy_active FROM trading.strategies WHERE id = NEW.strategy_id;
        IF strategy_active IS FALSE THEN
            RAISE EXCEPTION 'strategy % is not active; it cannot stage orders', NEW.strategy_id
                USING ERRCODE = 'OPS04';
        END IF;
        IF ops_internal.kill_switch_hold() THEN
            RAISE EXCEPTION 'trading is halted by the kill switch: no new orders'
                USING ERRCODE = 'OPS03';
        END IF;
        NEW.created_at := now();
        NEW.updated_at := NEW.created_at;
        NEW.submitted_at := NULL;
        NEW.executed_at := NULL;
        NEW.closed_at := NULL;
        NEW.approved_at := NULL;
        NEW.rejection_reason := NULL;
        NEW.status_reason := NULL;
        NEW.approval_reasons := trading.order_approval_reasons(NEW);
        NEW.approval_required := cardinality(NEW.approval_reasons) > 0;
        RETURN NEW;
    END IF;

    -- UPDATE. Fill state moves only inside the fill trigger, which runs as the owner and has
    -- recorded the change in the owner-only context table (a client's own trigger cannot).
    claim := ops_internal.order_change_context(OLD.id);
    by_fill := claim.kind IS NOT DISTINCT FROM 'fill';
    IF trading.order_status_terminal(OLD.status) THEN
        RAISE EXCEPTION 'order % is %; it can no longer change', OLD.id, OLD.status
            USING ERRCODE = 'OPS01';
    END IF;
    IF NEW.status <> OLD.status AND NOT trading.order_transition_allowed(OLD.status, NEW.status) THEN
        RAISE EXCEPTION 'order % is %: it cannot become %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'OPS01',
                  HINT = 'see the order state machine in docs/trading-ledger.md';
    END IF;
    IF NEW.id <> OLD.id OR NEW.client_order_id <> OLD.client_order_id OR NEW.created_at <> OLD.created_at
       OR NEW.created_by <> OLD.created_by THEN
        RAISE EXCEPTION 'the id, client order id, creator and creation time of order % cannot change', OLD.id
            USING ERRCODE = 'OPS04';
    END IF;
    IF OLD.status <> 'staged' AND (
        NEW.strategy_id, NEW.symbol, NEW.side, NEW.order_type, NEW.quantity, NEW.limit_price, NEW.stop_price,
        NEW.time_in_force, NEW.risk_score, NEW.compliance_flags, NEW.concentration_check)
        IS DISTINCT FROM (
        OLD.strategy_id, OLD.symbol, OLD.side, OLD.order_type, OLD.quantity, OLD.limit_price, OLD.stop_price,
        OLD.time_in_force, OLD.risk_score, OLD.compliance_flags, OLD.concentration_check) THEN
        RAISE EXCEPTION 'order % is %: its terms, risk and compliance can change only while it is staged',
            OLD.id, OLD.status
            USING ERRCODE = 'OPS01';
    END IF;
    IF NOT by_fill AND (NEW.filled_quantity, NEW.avg_fill_price, NEW.executed_at)
                       IS DISTINCT FROM (OLD.filled_quantity, OLD.avg_fill_price, OLD.executed_at) THEN
        RAISE EXCEPTION 'the filled quantity of order % changes only by recording a fill', OLD.id
            USING ERRCODE = 'OPS01';
    END IF;
    IF NEW.status = 'staged' THEN
        NEW.approval_reasons := trading.order_approval_reasons(NEW);
        NEW.approval_required := cardinality(NEW.approval_reasons) > 0;
    ELSIF (NEW.approval_required, NEW.approval_reasons) IS DISTINCT FROM (OLD.approval_required, OLD.approval_reasons)
    THEN
        RAISE EXCEPTION 'whether order % needs approval is decided by the database when it is staged', OLD.id
            USING ERRCODE = 'OPS01';
    END IF;
    IF NEW.broker_order_id IS DISTINCT FROM OLD.broker_order_id
       AND NOT (OLD.broker_order_id IS NULL AND NEW.status = 'submitted' AND OLD.status = 'approved') THEN
        RAISE EXCEPTION 'the broker order id of order % is set once, when it is submitted', OLD.id
            USING ERRCODE = 'OPS01';
    END IF;
    IF (NEW.approved_by, NEW.approved_at) IS DISTINCT FROM (OLD.approved_by, OLD.approved_at)
       AND NOT (NEW.status = 'approved' AND OLD.status <> 'approved') THEN
        RAISE EXCEPTION 'approval of order % is recorded only when it is approved', OLD.id
            USING ERRCODE = 'OPS01';
    END IF;
    IF NEW.status_reason IS DISTINCT FROM OLD.status_reason
       AND NOT (NEW.status <> OLD.status AND NEW.status IN ('cancelled', 'expired', 'rejected')) THEN
        RAISE EXCEPTION 'the reason of order % is recorded only when it is cancelled, expired or rejected', OLD.id
            USING ERRCODE = 'OPS01';
    END IF;

    IF NEW.status <> OLD.status THEN
        IF NEW.status IN ('partially_filled', 'filled') AND NOT by_fill THEN
            RAISE EXCEPTION 'order % becomes % only by recording fills', OLD.id, NEW.status
                USING ERRCODE = 'OPS01';
        END IF;
        IF OLD.status = 'staged' AND NEW.status = 'approved' AND OLD.approval_required THEN
            RAISE EXCEPTION 'order % needs approval (%): it must go to pending_approval first',
                OLD.id, array_to_string(OLD.approval_reasons, '; ')
                USING ERRCODE = 'OPS01';
        END IF;
        IF OLD.status = 'staged' AND NEW.status = 'pending_approval' AND NOT OLD.approval_required THEN
            RAISE EXCEPTION 'order % needs no approval: approve it directly', OLD.id
                USING ERRCODE = 'OPS01';
        END IF;
        IF NEW.status IN ('approved', 'submitted') AND ops_internal.kill_switch_hold() THEN
            RAISE EXCEPTION 'trading is halted by the kill switch: order % cannot become %', OLD.id, NEW.status
                USING ERRCODE = 'OPS03';
        END IF;
        IF NEW.status = 'approved' THEN
            NEW.approved_by := coalesce(NEW.approved_by, claim.actor, session_user::text);
            NEW.approved_at := now();
            -- Four eyes: an order that needs approval is approved by someone other than its creator.
            IF OLD.approval_required AND lower(NEW.approved_by) = lower(OLD.created_by) THEN
                RAISE EXCEPTION 'order % was staged by %: it must be approved by someone else (four eyes)',
                    OLD.id, OLD.created_by
                    USING ERRCODE = 'OPS06';
            END IF;
        END IF;
        IF NEW.status = 'rejected' THEN
            NEW.rejection_reason := coalesce(NEW.rejection_reason, NEW.status_reason);
            NEW.status_reason := coalesce(NEW.status_reason, NEW.rejection_reason);
            IF NEW.rejection_reason IS NULL THEN
                RAISE EXCEPTION 'rejecting order % needs a reason', OLD.id
                    USING ERRCODE = 'OPS04';
            END IF;
        END IF;
        IF NEW.status = 'submitted' THEN
            IF NEW.broker_order_id IS NULL THEN
                RAISE EXCEPTION 'submitting order % needs the broker order id', OLD.id
                    USING ERRCODE = 'OPS04';
            END IF;
            NEW.submitted_at := now();
        END IF;
        IF trading.order_status_terminal(NEW.status) THEN
            NEW.closed_at := now();
        END IF;
    ELSIF NEW.rejection_reason IS DISTINCT FROM OLD.rejection_reason THEN
        RAISE EXCEPTION 'a rejection reason is recorded only when order % is rejected', OLD.id
            USING ERRCODE = 'OPS01';
    END IF;
    -- Times the database keeps: set on the transition that owns them, never by hand.
    IF NOT (NEW.status = 'submitted' AND OLD.status <> 'submitted') THEN
        NEW.submitted_at := OLD.submitted_at;
    END IF;
    IF NEW.status = OLD.status THEN
        NEW.closed_at := OLD.closed_at;
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION ops_internal.executions_apply_fill() RETURNS trigger
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
    IF NOT coalesce(NEW.quantity > 0 AND NEW.quantity <= 1e9 AND NEW.price > 0 AND NEW.price <= 1e9, false)
       OR NEW.recorded_by IS NULL OR NEW.recorded_by !~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$' THEN
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

    -- One fill at a time per symbol, after the order lock (always in this order: no deadlock);
    -- every statement below takes a new snapshot, so it sees the fills committed before.
    PERFORM ops_internal.lock_symbol(o.symbol);
    NEW.sequenced_at := clock_timestamp();
    NEW.symbol := o.symbol;
    NEW.side := o.side;
    NEW.created_at := now();
    costs := coalesce(NEW.commission, 0) + coalesce(NEW.fees, 0);

    INSERT INTO ops_internal.order_change_context (xid, order_id, kind, actor, details)
    VALUES (pg_current_xact_id(), o.id, 'fill', NEW.recorded_by, jsonb_build_object(
        'execution_id', NEW.id, 'fill_quantity', NEW.quantity, 'fill_price', NEW.price,
        'broker_trade_id', NEW.broker_trade_id));
    UPDATE trading.staged_orders
       SET filled_quantity = new_filled,
           avg_fill_price = round((coalesce(avg_fill_price, 0) * filled_quantity + NEW.quantity * NEW.price)
                                  / new_filled, 10),
           status = CASE WHEN new_filled = quantity THEN 'filled' ELSE 'partially_filled' END,
           executed_at = CASE WHEN new_filled = quantity THEN NEW.executed_at ELSE executed_at END
     WHERE id = o.id;
    DELETE FROM ops_internal.order_change_context WHERE xid = pg_current_xact_id() AND order_id = o.id;

    -- The position: average cost; reductions realize (price - avg_cost) per unit closed.
    signed_qty := CASE o.side WHEN 'buy' THEN NEW.quantity ELSE -NEW.quantity END;
    NEW.realized_pnl := 0;
    SELECT * INTO p FROM trading.positions WHERE symbol = o.symbol AND status = 'open' FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO trading.positions (symbol, quantity, avg_cost, fees, opened_at)
        VALUES (o.symbol, signed_qty, NEW.price, costs, NEW.executed_at)
        RETURNING * INTO p;
        NEW.position_id := p.id;
        RETURN NEW;
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

CREATE OR REPLACE FUNCTION trading.close_position(p_symbol text, p_price numeric, p_reason text)
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
    PERFORM ops_internal.lock_symbol(p_symbol);
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

RESET ROLE;
