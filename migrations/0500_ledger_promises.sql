-- The trading ledger keeps its promises against any client and any interleaving (issue 10):
--   1. fills and position closes serialize per symbol (an advisory lock taken after the order
--      row lock), then read the open position with a fresh snapshot: no fill is refused for a race;
--   2. the kill switch is one state row changed only by trading.set_kill_switch(); the order guard
--      holds that row FOR SHARE, so a halt waits for submissions in flight and every later one sees it;
--   3. the audit trail records facts: the login role beside the validated claimed actor; a claim
--      of who acts is honoured only when an owner function wrote it to a table no client may write;
--      TRUNCATE is refused like UPDATE and DELETE;
--   4. separation of duties: only ops_risk changes strategies; an approver differs from the creator;
--   8. staging a known client order id returns the order only when every term is identical.
-- depends: 0300_maintenance_runs
-- squawk-ignore-file constraint-missing-not-valid -- the checks come with new columns of small ledger tables (strategies, the kill switch, orders and fills of the day); the runner's lock_timeout bounds the wait
-- squawk-ignore-file ban-drop-default -- 'unrecorded' only fills login_role of the events written before 0500; the audit trigger sets it on every new one

-- The risk desk's role (cluster-wide, so created only when missing, like 0002_roles).
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ops_risk') THEN
        CREATE ROLE ops_risk NOLOGIN;
    END IF;
    -- Granted only when missing: a later run by a login that is no admin of ops_readonly
    -- (a member of ops_owner, as the README allows) must not fail on it.
    IF NOT pg_has_role('ops_risk', 'ops_readonly', 'MEMBER') THEN
        GRANT ops_readonly TO ops_risk;
    END IF;
END
$roles$;

SET ROLE ops_owner;

-- 1 ----------------------------------------------------------------------------------------
-- recorded_by: who claims to record the fill (validated like created_by), a fact of the row.
-- sequenced_at: when the fill trigger got the symbol's lock, i.e. the order fills were applied in.
ALTER TABLE trading.executions
    ADD COLUMN recorded_by text NOT NULL DEFAULT 'broker',
    ADD COLUMN sequenced_at timestamptz;
ALTER TABLE trading.executions
    ADD CONSTRAINT executions_recorded_by_valid CHECK (recorded_by ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$');

-- The lock that serializes everything that moves one symbol's position. Two-key form, so it
-- never meets the single-key advisory locks of migrate and maintain.
CREATE FUNCTION trading.lock_symbol(p_symbol text) RETURNS void
    LANGUAGE sql VOLATILE
    AS $$ SELECT pg_advisory_xact_lock(1869640560, hashtext(p_symbol)) $$;  -- 1869640560 = 'opsp'
REVOKE EXECUTE ON FUNCTION trading.lock_symbol(text) FROM PUBLIC;

-- 3: the channel through which an owner function tells the audit trigger who acts and why.
-- Only the owner writes it (the functions below, SECURITY DEFINER); a row lives only during the
-- one UPDATE it describes, so nothing a client sets (session settings, RETURNING clauses,
-- its own triggers) can make the audit record a claim.
CREATE TABLE ops_internal.order_change_context (
    xid xid8 NOT NULL,
    order_id bigint NOT NULL,
    kind text NOT NULL,
    actor text NOT NULL,
    details jsonb NOT NULL DEFAULT '{}',
    CONSTRAINT order_change_context_pkey PRIMARY KEY (xid, order_id),
    CONSTRAINT order_change_context_kind_valid CHECK (kind IN ('transition', 'fill')),
    CONSTRAINT order_change_context_actor_valid CHECK (actor ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$')
);
REVOKE ALL ON ops_internal.order_change_context FROM ops_app, ops_readonly;
COMMENT ON TABLE ops_internal.order_change_context IS
    'Transient: who acts in the order change an owner function is making; empty between statements.';

CREATE FUNCTION trading.order_change_context(p_order_id bigint) RETURNS ops_internal.order_change_context
    LANGUAGE sql STABLE
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
        SELECT * FROM ops_internal.order_change_context WHERE xid = pg_current_xact_id() AND order_id = p_order_id
    $$;
REVOKE EXECUTE ON FUNCTION trading.order_change_context(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION trading.order_change_context(bigint) TO ops_app;

-- Who acts in a change of an order: the claim an owner function recorded, else the login.
CREATE OR REPLACE FUNCTION trading.current_actor() RETURNS text
    LANGUAGE sql STABLE
    AS $$ SELECT session_user::text $$;

CREATE OR REPLACE FUNCTION trading.executions_apply_fill() RETURNS trigger
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
    PERFORM trading.lock_symbol(o.symbol);
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
    PERFORM trading.lock_symbol(p_symbol);
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

-- 2 ----------------------------------------------------------------------------------------
CREATE TABLE trading.kill_switch_state (
    singleton boolean PRIMARY KEY DEFAULT true,
    active boolean NOT NULL,
    reason text,
    actor text,
    login_role text,
    changed_at timestamptz,
    CONSTRAINT kill_switch_state_singleton CHECK (singleton),
    CONSTRAINT kill_switch_state_reason_valid CHECK (reason IS NULL OR length(btrim(reason)) BETWEEN 1 AND 2000),
    CONSTRAINT kill_switch_state_actor_valid CHECK (actor IS NULL OR actor ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$'),
    CONSTRAINT kill_switch_state_login_role_valid CHECK (login_role IS NULL OR length(login_role) BETWEEN 1 AND 64)
);
COMMENT ON TABLE trading.kill_switch_state IS
    'The kill switch now (one row); changed only by trading.set_kill_switch(), which appends kill_switch_events.';
-- The state the history ended in, by insertion order (never by a created_at a client chose).
INSERT INTO trading.kill_switch_state (active, reason, actor, changed_at)
SELECT coalesce((SELECT active FROM trading.kill_switch_events ORDER BY id DESC LIMIT 1), false),
       (SELECT reason FROM trading.kill_switch_events ORDER BY id DESC LIMIT 1),
       (SELECT actor FROM trading.kill_switch_events ORDER BY id DESC LIMIT 1),
       (SELECT created_at FROM trading.kill_switch_events ORDER BY id DESC LIMIT 1);
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON trading.kill_switch_state FROM ops_app;

ALTER TABLE trading.kill_switch_events ADD COLUMN login_role text;
ALTER TABLE trading.kill_switch_events
    ADD CONSTRAINT kill_switch_events_login_role_valid CHECK (login_role IS NULL OR length(login_role) BETWEEN 1 AND 64);
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON trading.kill_switch_events FROM ops_app;
COMMENT ON TABLE trading.kill_switch_events IS
    'Append-only kill switch history, written by trading.set_kill_switch(); the state is trading.kill_switch_state.';

CREATE OR REPLACE FUNCTION trading.kill_switch_active() RETURNS boolean
    LANGUAGE sql STABLE
    AS $$ SELECT coalesce((SELECT active FROM trading.kill_switch_state), false) $$;

-- The guard's read: FOR SHARE, so a halt (an UPDATE of the row) waits for every transaction
-- that has staged, approved or submitted under the old state, and any such transaction that
-- comes after the halt waits for it and then reads it (REPEATABLE READ: a serialization failure).
CREATE FUNCTION trading.kill_switch_hold() RETURNS boolean
    LANGUAGE plpgsql VOLATILE
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    halted boolean;
BEGIN
    SELECT active INTO halted FROM trading.kill_switch_state FOR SHARE;
    RETURN coalesce(halted, false);
END
$$;
REVOKE EXECUTE ON FUNCTION trading.kill_switch_hold() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION trading.kill_switch_hold() TO ops_app;

CREATE FUNCTION trading.set_kill_switch(p_active boolean, p_reason text, p_actor text)
    RETURNS trading.kill_switch_state
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    s trading.kill_switch_state;
BEGIN
    IF p_active IS NULL THEN
        RAISE EXCEPTION 'active must be true (halt) or false (resume)' USING ERRCODE = 'OPS04';
    END IF;
    IF p_reason IS NULL OR length(btrim(p_reason)) NOT BETWEEN 1 AND 2000 THEN
        RAISE EXCEPTION 'the kill switch needs a reason of 1 to 2000 characters' USING ERRCODE = 'OPS04';
    END IF;
    IF p_actor IS NULL OR p_actor !~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$' THEN
        RAISE EXCEPTION 'who switches (actor) must be 1-64 letters, digits, ''.'', ''_'', ''@'' or ''-'''
            USING ERRCODE = 'OPS04';
    END IF;
    UPDATE trading.kill_switch_state
       SET active = p_active, reason = p_reason, actor = p_actor, login_role = session_user,
           changed_at = clock_timestamp()
     WHERE singleton
    RETURNING * INTO s;
    INSERT INTO trading.kill_switch_events (active, reason, actor, login_role, created_at)
    VALUES (s.active, s.reason, s.actor, s.login_role, s.changed_at);
    RETURN s;
END
$$;
REVOKE EXECUTE ON FUNCTION trading.set_kill_switch(boolean, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION trading.set_kill_switch(boolean, text, text) TO ops_app, ops_risk;

-- 3 ----------------------------------------------------------------------------------------
-- Why an order was cancelled, expired or rejected: a fact of the row, so the audit diff records it.
ALTER TABLE trading.staged_orders ADD COLUMN status_reason text;
ALTER TABLE trading.staged_orders
    ADD CONSTRAINT staged_orders_status_reason_valid
        CHECK (status_reason IS NULL OR length(btrim(status_reason)) BETWEEN 1 AND 2000);

-- Rows written before this migration carry 'unrecorded': the login was not kept then.
ALTER TABLE trading.order_events ADD COLUMN login_role text DEFAULT 'unrecorded';
ALTER TABLE trading.order_events ALTER COLUMN login_role DROP DEFAULT;

CREATE OR REPLACE FUNCTION trading.staged_orders_guard() RETURNS trigger
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
        IF trading.kill_switch_hold() THEN
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
    claim := trading.order_change_context(OLD.id);
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
        IF NEW.status IN ('approved', 'submitted') AND trading.kill_switch_hold() THEN
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

-- What the trail records: the diff computed from OLD and NEW; the login (session_user, which
-- no client can change); the claimed actor: created_by for a new order, the actor an owner
-- function recorded for its change, else the login. No session setting is read.
CREATE OR REPLACE FUNCTION trading.staged_orders_audit() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    changed jsonb := '{}';
    extra jsonb := '{}';
    claim ops_internal.order_change_context;
    who text;
    kind text;
    event_id bigint;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        SELECT coalesce(jsonb_object_agg(n.key, n.value), '{}') INTO changed
        FROM jsonb_each(to_jsonb(NEW)) n
        JOIN jsonb_each(to_jsonb(OLD)) o USING (key)
        WHERE n.value IS DISTINCT FROM o.value AND n.key NOT IN ('updated_at');
        IF changed = '{}' THEN
            RETURN NULL;  -- nothing changed: nothing to record
        END IF;
        SELECT * INTO claim FROM ops_internal.order_change_context
         WHERE xid = pg_current_xact_id() AND order_id = NEW.id;
        who := coalesce(claim.actor, session_user::text);
        extra := coalesce(claim.details, '{}');
        IF NEW.status = 'approved' AND OLD.status <> 'approved' THEN
            extra := extra || jsonb_build_object('approved_by', NEW.approved_by, 'created_by', NEW.created_by);
        END IF;
    ELSE
        who := NEW.created_by;
    END IF;
    kind := CASE
        WHEN TG_OP = 'INSERT' THEN 'created'
        WHEN NEW.filled_quantity <> OLD.filled_quantity THEN 'fill'
        WHEN NEW.status <> OLD.status THEN 'transition'
        ELSE 'changed' END;
    INSERT INTO trading.order_events (order_id, event_type, from_status, to_status, actor, login_role, details)
    VALUES (NEW.id, kind, CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END, NEW.status, who, session_user,
            CASE WHEN TG_OP = 'INSERT'
                 THEN jsonb_build_object('symbol', NEW.symbol, 'side', NEW.side, 'quantity', NEW.quantity,
                                         'order_type', NEW.order_type, 'approval_required', NEW.approval_required,
                                         'approval_reasons', to_jsonb(NEW.approval_reasons))
                 ELSE jsonb_build_object('changed', changed) END || extra)
    RETURNING id INTO event_id;
    PERFORM pg_notify('order_updates', json_build_object(
        'order_id', NEW.id,
        'client_order_id', NEW.client_order_id,
        'event_id', event_id,
        'event', kind,
        'symbol', NEW.symbol,
        'from', CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END,
        'to', NEW.status,
        'filled_quantity', NEW.filled_quantity)::text);
    RETURN NULL;
END
$$;

-- TRUNCATE is refused like UPDATE and DELETE (a statement trigger); drop_chunks still drops
-- whole chunks for retention.
CREATE TRIGGER order_events_no_truncate BEFORE TRUNCATE ON trading.order_events
    FOR EACH STATEMENT EXECUTE FUNCTION trading.order_events_append_only();
-- Statement triggers do not reach the chunks, so the owner gives up TRUNCATE itself: new chunks
-- copy the hypertable's privileges; drop_chunks needs ownership, not TRUNCATE.
REVOKE TRUNCATE ON trading.order_events FROM ops_owner;
DO $chunks$
DECLARE
    chunk regclass;
BEGIN
    FOR chunk IN SELECT show_chunks('trading.order_events') LOOP
        EXECUTE format('REVOKE TRUNCATE ON %s FROM ops_owner', chunk);
    END LOOP;
END
$chunks$;

-- The one way to move an order (SECURITY DEFINER): inputs validated, the claimed actor written
-- to the owner-only context for the audit, then the trigger judges the transition.
CREATE OR REPLACE FUNCTION trading.transition_order(
    p_order_id bigint,
    p_to_status text,
    p_actor text,
    p_reason text DEFAULT NULL,
    p_broker_order_id text DEFAULT NULL
) RETURNS SETOF trading.staged_orders
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    current_status text;
BEGIN
    IF p_actor IS NULL OR p_actor !~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$' THEN
        RAISE EXCEPTION 'actor must be 1-64 letters, digits, ''.'', ''_'', ''@'' or ''-'', starting with a letter or digit'
            USING ERRCODE = 'OPS04';
    END IF;
    IF p_reason IS NOT NULL AND length(btrim(p_reason)) NOT BETWEEN 1 AND 2000 THEN
        RAISE EXCEPTION 'reason must have 1 to 2000 characters' USING ERRCODE = 'OPS04';
    END IF;
    SELECT status INTO current_status FROM trading.staged_orders WHERE id = p_order_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no order with id %', p_order_id USING ERRCODE = 'OPS05';
    END IF;
    IF current_status = p_to_status THEN
        RAISE EXCEPTION 'order % is already %', p_order_id, p_to_status USING ERRCODE = 'OPS01';
    END IF;
    INSERT INTO ops_internal.order_change_context (xid, order_id, kind, actor)
    VALUES (pg_current_xact_id(), p_order_id, 'transition', p_actor);
    RETURN QUERY
        UPDATE trading.staged_orders
           SET status = p_to_status,
               approved_by = CASE WHEN p_to_status = 'approved' THEN p_actor ELSE approved_by END,
               rejection_reason = CASE WHEN p_to_status = 'rejected' THEN p_reason ELSE rejection_reason END,
               status_reason = CASE WHEN p_to_status IN ('cancelled', 'expired', 'rejected') THEN p_reason
                                    ELSE status_reason END,
               broker_order_id = CASE WHEN p_to_status = 'submitted' THEN p_broker_order_id ELSE broker_order_id END
         WHERE id = p_order_id
        RETURNING *;
    DELETE FROM ops_internal.order_change_context WHERE xid = pg_current_xact_id() AND order_id = p_order_id;
END
$$;
REVOKE EXECUTE ON FUNCTION trading.transition_order(bigint, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION trading.transition_order(bigint, text, text, text, text) TO ops_app;

CREATE OR REPLACE FUNCTION trading.screen_order(p_order_id bigint, p_actor text) RETURNS SETOF trading.staged_orders
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    needs_approval boolean;
BEGIN
    SELECT approval_required INTO needs_approval FROM trading.staged_orders WHERE id = p_order_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no order with id %', p_order_id USING ERRCODE = 'OPS05';
    END IF;
    RETURN QUERY SELECT * FROM trading.transition_order(
        p_order_id, CASE WHEN needs_approval THEN 'pending_approval' ELSE 'approved' END, p_actor);
END
$$;
REVOKE EXECUTE ON FUNCTION trading.screen_order(bigint, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION trading.screen_order(bigint, text) TO ops_app;

CREATE OR REPLACE FUNCTION trading.expire_due_orders(p_now timestamptz DEFAULT now(), p_actor text DEFAULT 'system')
    RETURNS SETOF trading.staged_orders
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    due bigint;
BEGIN
    IF p_now IS NULL THEN
        RAISE EXCEPTION 'the time to expire orders at must be given' USING ERRCODE = 'OPS04';
    END IF;
    FOR due IN
        SELECT id FROM trading.staged_orders
         WHERE expires_at <= p_now
           AND status IN ('staged', 'pending_approval', 'approved', 'submitted', 'partially_filled')
         ORDER BY id
           FOR UPDATE SKIP LOCKED
    LOOP
        RETURN QUERY SELECT * FROM trading.transition_order(due, 'expired', p_actor, 'expired at ' || p_now::text);
    END LOOP;
END
$$;
REVOKE EXECUTE ON FUNCTION trading.expire_due_orders(timestamptz, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION trading.expire_due_orders(timestamptz, text) TO ops_app;

-- 8 ----------------------------------------------------------------------------------------
-- Stage an order; a known client order id returns the existing order only when every term
-- given is identical, else OPS07 naming the fields that differ (compared here, by the database).
CREATE FUNCTION trading.stage_order(
    p_client_order_id text, p_strategy_id bigint, p_signal_id bigint, p_symbol text, p_side text,
    p_order_type text, p_quantity numeric, p_limit_price numeric, p_stop_price numeric, p_stop_loss numeric,
    p_take_profit numeric, p_time_in_force text, p_created_by text, p_risk_score numeric, p_risk_factors jsonb,
    p_portfolio_impact jsonb, p_concentration_check boolean, p_compliance_flags jsonb, p_metadata jsonb,
    p_market_data jsonb, p_tags text[], p_expires_at timestamptz
) RETURNS trading.staged_orders
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    o trading.staged_orders;
    differing text[];
BEGIN
    INSERT INTO trading.staged_orders (
        client_order_id, strategy_id, signal_id, symbol, side, order_type, quantity, limit_price, stop_price,
        stop_loss, take_profit, time_in_force, created_by, risk_score, risk_factors, portfolio_impact,
        concentration_check, compliance_flags, metadata, market_data, tags, expires_at)
    VALUES (
        p_client_order_id, p_strategy_id, p_signal_id, p_symbol, p_side, p_order_type, p_quantity, p_limit_price,
        p_stop_price, p_stop_loss, p_take_profit, coalesce(p_time_in_force, 'day'), p_created_by, p_risk_score,
        coalesce(p_risk_factors, '{}'), coalesce(p_portfolio_impact, '{}'), p_concentration_check,
        coalesce(p_compliance_flags, '{}'), coalesce(p_metadata, '{}'), coalesce(p_market_data, '{}'),
        coalesce(p_tags, '{}'), p_expires_at)
    ON CONFLICT (client_order_id) DO NOTHING
    RETURNING * INTO o;
    IF FOUND THEN
        RETURN o;
    END IF;
    SELECT * INTO STRICT o FROM trading.staged_orders WHERE client_order_id = p_client_order_id;
    differing := array_remove(ARRAY[
        CASE WHEN o.strategy_id IS DISTINCT FROM p_strategy_id THEN 'strategy_id' END,
        CASE WHEN o.signal_id IS DISTINCT FROM p_signal_id THEN 'signal_id' END,
        CASE WHEN o.symbol IS DISTINCT FROM p_symbol THEN 'symbol' END,
        CASE WHEN o.side IS DISTINCT FROM p_side THEN 'side' END,
        CASE WHEN o.order_type IS DISTINCT FROM p_order_type THEN 'order_type' END,
        CASE WHEN o.quantity IS DISTINCT FROM p_quantity THEN 'quantity' END,
        CASE WHEN o.limit_price IS DISTINCT FROM p_limit_price THEN 'limit_price' END,
        CASE WHEN o.stop_price IS DISTINCT FROM p_stop_price THEN 'stop_price' END,
        CASE WHEN o.stop_loss IS DISTINCT FROM p_stop_loss THEN 'stop_loss' END,
        CASE WHEN o.take_profit IS DISTINCT FROM p_take_profit THEN 'take_profit' END,
        CASE WHEN o.time_in_force IS DISTINCT FROM coalesce(p_time_in_force, 'day') THEN 'time_in_force' END,
        CASE WHEN o.created_by IS DISTINCT FROM p_created_by THEN 'created_by' END,
        CASE WHEN o.risk_score IS DISTINCT FROM p_risk_score THEN 'risk_score' END,
        CASE WHEN o.risk_factors IS DISTINCT FROM coalesce(p_risk_factors, '{}') THEN 'risk_factors' END,
        CASE WHEN o.portfolio_impact IS DISTINCT FROM coalesce(p_portfolio_impact, '{}') THEN 'portfolio_impact' END,
        CASE WHEN o.concentration_check IS DISTINCT FROM p_concentration_check THEN 'concentration_check' END,
        CASE WHEN o.compliance_flags IS DISTINCT FROM coalesce(p_compliance_flags, '{}') THEN 'compliance_flags' END,
        CASE WHEN o.metadata IS DISTINCT FROM coalesce(p_metadata, '{}') THEN 'metadata' END,
        CASE WHEN o.market_data IS DISTINCT FROM coalesce(p_market_data, '{}') THEN 'market_data' END,
        CASE WHEN o.tags IS DISTINCT FROM coalesce(p_tags, '{}') THEN 'tags' END,
        CASE WHEN o.expires_at IS DISTINCT FROM p_expires_at THEN 'expires_at' END
    ], NULL);
    IF cardinality(differing) > 0 THEN
        RAISE EXCEPTION 'client order id % is already used by order % with a different %',
            p_client_order_id, o.id, array_to_string(differing, ', ')
            USING ERRCODE = 'OPS07';
    END IF;
    RETURN o;
END
$$;
REVOKE EXECUTE ON FUNCTION trading.stage_order(text, bigint, bigint, text, text, text, numeric, numeric, numeric,
    numeric, numeric, text, text, numeric, jsonb, jsonb, boolean, jsonb, jsonb, jsonb, text[], timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION trading.stage_order(text, bigint, bigint, text, text, text, numeric, numeric, numeric,
    numeric, numeric, text, text, numeric, jsonb, jsonb, boolean, jsonb, jsonb, jsonb, text[], timestamptz) TO ops_app;

-- 4 ----------------------------------------------------------------------------------------
-- Strategies, their limits and approval rules belong to the risk desk; the app only reads them.
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON trading.strategies FROM ops_app;
GRANT SELECT, INSERT, UPDATE ON trading.strategies TO ops_risk;
GRANT USAGE ON SEQUENCE trading.strategies_id_seq TO ops_risk;

RESET ROLE;
