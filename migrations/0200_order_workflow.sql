-- The order workflow: strategies, the kill switch, staged orders with their state machine,
-- and the append-only audit trail `trading.order_events` written by the database itself.
-- Every rule lives here, so raw SQL from any client is held to it; Python only reports.
-- depends: 0004_retention_settings
SET ROLE ops_owner;

-- Strategies (seed 004) with the limits the approval rules read (seed 000).
CREATE TABLE trading.strategies (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    strategy_type text NOT NULL DEFAULT 'manual',
    mode text NOT NULL DEFAULT 'PAPER',
    active boolean NOT NULL DEFAULT true,
    requires_approval boolean NOT NULL DEFAULT false,
    max_order_quantity numeric,
    max_order_value numeric,
    description text,
    params jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT strategies_name_key UNIQUE (name),
    CONSTRAINT strategies_name_valid CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$'),
    CONSTRAINT strategies_type_valid CHECK (strategy_type ~ '^[a-z][a-z0-9_]{0,31}$'),
    CONSTRAINT strategies_mode_valid CHECK (mode IN ('PAPER', 'LIVE')),
    CONSTRAINT strategies_max_order_quantity_valid
        CHECK (max_order_quantity IS NULL OR (max_order_quantity > 0 AND max_order_quantity <= 1e9)),
    CONSTRAINT strategies_max_order_value_valid
        CHECK (max_order_value IS NULL OR (max_order_value > 0 AND max_order_value <= 1e15)),
    CONSTRAINT strategies_params_object CHECK (jsonb_typeof(params) = 'object')
);
COMMENT ON TABLE trading.strategies IS
    'Trading strategies; orders above max_order_quantity/max_order_value need approval.';

-- The kill switch is its history: the newest row says whether trading is halted.
CREATE TABLE trading.kill_switch_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    active boolean NOT NULL,
    reason text NOT NULL,
    actor text NOT NULL DEFAULT session_user,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT kill_switch_events_reason_valid CHECK (length(btrim(reason)) BETWEEN 1 AND 2000),
    CONSTRAINT kill_switch_events_actor_valid CHECK (actor ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$')
);
CREATE INDEX kill_switch_events_created_at_idx ON trading.kill_switch_events (created_at DESC, id DESC);
COMMENT ON TABLE trading.kill_switch_events IS
    'Append-only kill switch history; the newest row is the current state (see trading.kill_switch_active()).';

CREATE FUNCTION trading.kill_switch_active() RETURNS boolean
    LANGUAGE sql STABLE
    AS $$
        SELECT coalesce((SELECT active FROM trading.kill_switch_events ORDER BY created_at DESC, id DESC LIMIT 1),
                        false)
    $$;

CREATE TABLE trading.staged_orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_order_id text NOT NULL,
    strategy_id bigint NOT NULL REFERENCES trading.strategies (id),
    signal_id bigint,  -- trading.signals(id); a hypertable, so no foreign key
    symbol text NOT NULL,
    side text NOT NULL,
    order_type text NOT NULL,
    quantity numeric NOT NULL,
    limit_price numeric,
    stop_price numeric,
    stop_loss numeric,
    take_profit numeric,
    time_in_force text NOT NULL DEFAULT 'day',
    status text NOT NULL DEFAULT 'staged',
    created_by text NOT NULL,
    -- risk (seed 000)
    risk_score numeric,
    risk_factors jsonb NOT NULL DEFAULT '{}',
    portfolio_impact jsonb NOT NULL DEFAULT '{}',
    concentration_check boolean,
    -- compliance and approval (seed 000); approval_required is computed by the database
    compliance_flags jsonb NOT NULL DEFAULT '{}',
    approval_required boolean NOT NULL DEFAULT false,
    approval_reasons text[] NOT NULL DEFAULT '{}',
    approved_by text,
    approved_at timestamptz,
    rejection_reason text,
    -- broker and fills (seed 004); filled_quantity and avg_fill_price move only with fills
    broker_order_id text,
    filled_quantity numeric NOT NULL DEFAULT 0,
    avg_fill_price numeric,
    -- metadata (seed 000)
    metadata jsonb NOT NULL DEFAULT '{}',
    market_data jsonb NOT NULL DEFAULT '{}',
    tags text[] NOT NULL DEFAULT '{}',
    -- times
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,
    submitted_at timestamptz,
    executed_at timestamptz,
    closed_at timestamptz,
    CONSTRAINT staged_orders_client_order_id_key UNIQUE (client_order_id),
    CONSTRAINT staged_orders_broker_order_id_key UNIQUE (broker_order_id),
    CONSTRAINT staged_orders_client_order_id_valid CHECK (client_order_id ~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$'),
    CONSTRAINT staged_orders_broker_order_id_valid
        CHECK (broker_order_id IS NULL OR broker_order_id ~ '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$'),
    CONSTRAINT staged_orders_symbol_valid CHECK (symbol ~ '^[A-Z0-9][A-Z0-9./ -]{0,31}$'),
    CONSTRAINT staged_orders_side_valid CHECK (side IN ('buy', 'sell')),
    CONSTRAINT staged_orders_order_type_valid CHECK (order_type IN ('market', 'limit', 'stop', 'stop_limit')),
    CONSTRAINT staged_orders_time_in_force_valid CHECK (time_in_force IN ('day', 'gtc', 'ioc', 'fok', 'opg', 'cls')),
    CONSTRAINT staged_orders_status_valid CHECK (status IN (
        'staged', 'pending_approval', 'approved', 'submitted', 'partially_filled',
        'filled', 'cancelled', 'rejected', 'expired')),
    -- `x > 0 AND x <= bound` also refuses NaN and infinity, which numeric would accept.
    CONSTRAINT staged_orders_quantity_valid CHECK (quantity > 0 AND quantity <= 1e9 AND scale(quantity) <= 8),
    CONSTRAINT staged_orders_prices_valid CHECK (
        (limit_price IS NULL OR (limit_price > 0 AND limit_price <= 1e9))
        AND (stop_price IS NULL OR (stop_price > 0 AND stop_price <= 1e9))
        AND (stop_loss IS NULL OR (stop_loss > 0 AND stop_loss <= 1e9))
        AND (take_profit IS NULL OR (take_profit > 0 AND take_profit <= 1e9))),
    CONSTRAINT staged_orders_limit_price_matches_type
        CHECK ((limit_price IS NOT NULL) = (order_type IN ('limit', 'stop_limit'))),
    CONSTRAINT staged_orders_stop_price_matches_type
        CHECK ((stop_price IS NOT NULL) = (order_type IN ('stop', 'stop_limit'))),
    CONSTRAINT staged_orders_created_by_valid CHECK (created_by ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$'),
    CONSTRAINT staged_orders_approved_by_valid
        CHECK (approved_by IS NULL OR approved_by ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$'),
    CONSTRAINT staged_orders_risk_score_valid CHECK (risk_score IS NULL OR (risk_score >= 0 AND risk_score <= 100)),
    CONSTRAINT staged_orders_rejection_reason_valid
        CHECK (rejection_reason IS NULL OR length(btrim(rejection_reason)) BETWEEN 1 AND 2000),
    CONSTRAINT staged_orders_filled_quantity_valid CHECK (filled_quantity >= 0 AND (filled_quantity <= quantity OR NOT quantity > 0)),
    CONSTRAINT staged_orders_json_objects CHECK (
        jsonb_typeof(risk_factors) = 'object' AND jsonb_typeof(portfolio_impact) = 'object'
        AND jsonb_typeof(compliance_flags) = 'object' AND jsonb_typeof(metadata) = 'object'
        AND jsonb_typeof(market_data) = 'object'),
    CONSTRAINT staged_orders_tags_valid CHECK (cardinality(tags) <= 32),
    CONSTRAINT staged_orders_expires_after_creation CHECK (expires_at IS NULL OR expires_at > created_at)
);
CREATE INDEX staged_orders_created_at_idx ON trading.staged_orders (created_at DESC, id DESC);
CREATE INDEX staged_orders_status_idx ON trading.staged_orders (status, created_at DESC, id DESC);
CREATE INDEX staged_orders_symbol_idx ON trading.staged_orders (symbol, created_at DESC, id DESC);
CREATE INDEX staged_orders_strategy_idx ON trading.staged_orders (strategy_id, created_at DESC, id DESC);
CREATE INDEX staged_orders_open_expiry_idx ON trading.staged_orders (expires_at)
    WHERE status IN ('staged', 'pending_approval', 'approved', 'submitted', 'partially_filled');
COMMENT ON TABLE trading.staged_orders IS
    'Orders through their whole life; status changes are checked by trigger (see docs/trading-ledger.md).';

-- Written only by the trigger below (SECURITY DEFINER); nobody but the owner may change it.
CREATE TABLE trading.order_events (
    id bigint GENERATED ALWAYS AS IDENTITY,
    order_id bigint NOT NULL REFERENCES trading.staged_orders (id),
    occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    event_type text NOT NULL,
    from_status text,
    to_status text NOT NULL,
    actor text NOT NULL,
    details jsonb NOT NULL DEFAULT '{}',
    CONSTRAINT order_events_pkey PRIMARY KEY (id, occurred_at),
    CONSTRAINT order_events_type_valid CHECK (event_type IN ('created', 'transition', 'fill', 'changed'))
);
SELECT create_hypertable('trading.order_events', by_range('occurred_at', interval '7 days'));
CREATE INDEX order_events_order_idx ON trading.order_events (order_id, occurred_at, id);
COMMENT ON TABLE trading.order_events IS
    'Append-only audit trail: one row per insert and change of an order, written by the database.';

-- The state machine: the one definition of which status may follow which.
CREATE FUNCTION trading.order_transition_allowed(from_status text, to_status text) RETURNS boolean
    LANGUAGE sql IMMUTABLE
    AS $$
        SELECT CASE from_status
            WHEN 'staged' THEN to_status IN ('pending_approval', 'approved', 'rejected', 'cancelled', 'expired')
            WHEN 'pending_approval' THEN to_status IN ('approved', 'rejected', 'cancelled', 'expired')
            WHEN 'approved' THEN to_status IN ('submitted', 'cancelled', 'expired')
            WHEN 'submitted' THEN to_status IN ('partially_filled', 'filled', 'rejected', 'cancelled', 'expired')
            WHEN 'partially_filled' THEN to_status IN ('filled', 'cancelled', 'expired')
            ELSE false
        END
    $$;

CREATE FUNCTION trading.order_status_terminal(status text) RETURNS boolean
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT status IN ('filled', 'cancelled', 'rejected', 'expired') $$;

-- Approval rules (seed 000): risk score above 75, a failed compliance check, a size above the
-- strategy's limit, or a strategy that always wants approval.
CREATE FUNCTION trading.order_approval_reasons(o trading.staged_orders) RETURNS text[]
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    reasons text[] := '{}';
    strategy trading.strategies;
    failed text;
    reference_price numeric;
BEGIN
    IF o.risk_score > 75 THEN
        reasons := reasons || format('risk score %s is above 75', o.risk_score);
    END IF;
    IF o.concentration_check IS FALSE THEN
        reasons := reasons || 'concentration check failed'::text;
    END IF;
    FOR failed IN
        SELECT key FROM jsonb_each(o.compliance_flags)
        WHERE jsonb_typeof(value) = 'object' AND value -> 'passed' = 'false'::jsonb
        ORDER BY key
    LOOP
        reasons := reasons || format('compliance check %s failed', failed);
    END LOOP;
    SELECT * INTO strategy FROM trading.strategies WHERE id = o.strategy_id;
    IF strategy.requires_approval THEN
        reasons := reasons || format('strategy %s requires approval of every order', strategy.name);
    END IF;
    IF o.quantity > strategy.max_order_quantity THEN
        reasons := reasons || format('quantity %s is above the strategy limit of %s', o.quantity,
                                     strategy.max_order_quantity);
    END IF;
    -- Market orders carry no price; their value is judged on the last price staged with them.
    reference_price := coalesce(o.limit_price, o.stop_price,
                                CASE WHEN jsonb_typeof(o.market_data -> 'last_price') = 'number'
                                     THEN (o.market_data ->> 'last_price')::numeric END);
    IF o.quantity * reference_price > strategy.max_order_value THEN
        reasons := reasons || format('order value %s is above the strategy limit of %s',
                                     round(o.quantity * reference_price, 2), strategy.max_order_value);
    END IF;
    RETURN reasons;
END
$$;

-- Who acts: set per transaction by ops_db (set_config('ops_db.actor', ..., true)), else the login.
CREATE FUNCTION trading.current_actor() RETURNS text
    LANGUAGE sql STABLE
    AS $$ SELECT coalesce(nullif(current_setting('ops_db.actor', true), ''), session_user::text) $$;

CREATE FUNCTION trading.staged_orders_guard() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    strategy_active boolean;
    by_fill boolean := pg_trigger_depth() > 1;  -- fired from the executions trigger
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
        IF trading.kill_switch_active() THEN
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
        NEW.approval_reasons := trading.order_approval_reasons(NEW);
        NEW.approval_required := cardinality(NEW.approval_reasons) > 0;
        RETURN NEW;
    END IF;

    -- UPDATE
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
        IF NEW.status IN ('approved', 'submitted') AND trading.kill_switch_active() THEN
            RAISE EXCEPTION 'trading is halted by the kill switch: order % cannot become %', OLD.id, NEW.status
                USING ERRCODE = 'OPS03';
        END IF;
        IF NEW.status = 'approved' THEN
            NEW.approved_by := coalesce(NEW.approved_by, trading.current_actor());
            NEW.approved_at := now();
        END IF;
        IF NEW.status = 'rejected' AND NEW.rejection_reason IS NULL THEN
            RAISE EXCEPTION 'rejecting order % needs a reason', OLD.id
                USING ERRCODE = 'OPS04';
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

-- One audit row per insert and change, and a NOTIFY with a small JSON payload.
-- SECURITY DEFINER: the application may not write order_events itself.
CREATE FUNCTION trading.staged_orders_audit() RETURNS trigger
    LANGUAGE plpgsql
    SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    changed jsonb := '{}';
    extra jsonb;
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
    END IF;
    kind := CASE
        WHEN TG_OP = 'INSERT' THEN 'created'
        WHEN NEW.filled_quantity <> OLD.filled_quantity THEN 'fill'
        WHEN NEW.status <> OLD.status THEN 'transition'
        ELSE 'changed' END;
    extra := coalesce(nullif(current_setting('ops_db.event_details', true), '')::jsonb, '{}');
    INSERT INTO trading.order_events (order_id, event_type, from_status, to_status, actor, details)
    VALUES (NEW.id, kind, CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END, NEW.status, trading.current_actor(),
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
REVOKE EXECUTE ON FUNCTION trading.staged_orders_audit() FROM PUBLIC;

CREATE TRIGGER staged_orders_guard BEFORE INSERT OR UPDATE ON trading.staged_orders
    FOR EACH ROW EXECUTE FUNCTION trading.staged_orders_guard();
CREATE TRIGGER staged_orders_audit AFTER INSERT OR UPDATE ON trading.staged_orders
    FOR EACH ROW EXECUTE FUNCTION trading.staged_orders_audit();

-- The audit trail refuses changes even from its owner; retention may still drop whole chunks.
CREATE FUNCTION trading.order_events_append_only() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    RAISE EXCEPTION 'the order audit trail is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER order_events_append_only BEFORE UPDATE OR DELETE ON trading.order_events
    FOR EACH ROW EXECUTE FUNCTION trading.order_events_append_only();

-- One way to move an order: lock it, say clearly when it is gone or already there, then let
-- the trigger judge the transition. Reason/broker id go where the target status needs them.
CREATE FUNCTION trading.transition_order(
    p_order_id bigint,
    p_to_status text,
    p_actor text,
    p_reason text DEFAULT NULL,
    p_broker_order_id text DEFAULT NULL
) RETURNS SETOF trading.staged_orders
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    current_status text;
BEGIN
    SELECT status INTO current_status FROM trading.staged_orders WHERE id = p_order_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no order with id %', p_order_id USING ERRCODE = 'OPS05';
    END IF;
    IF current_status = p_to_status THEN
        RAISE EXCEPTION 'order % is already %', p_order_id, p_to_status USING ERRCODE = 'OPS01';
    END IF;
    PERFORM set_config('ops_db.actor', p_actor, true);
    PERFORM set_config('ops_db.event_details',
                       jsonb_strip_nulls(jsonb_build_object('reason', p_reason))::text, true);
    RETURN QUERY
        UPDATE trading.staged_orders
           SET status = p_to_status,
               approved_by = CASE WHEN p_to_status = 'approved' THEN p_actor ELSE approved_by END,
               rejection_reason = CASE WHEN p_to_status = 'rejected' THEN p_reason ELSE rejection_reason END,
               broker_order_id = CASE WHEN p_to_status = 'submitted' THEN p_broker_order_id ELSE broker_order_id END
         WHERE id = p_order_id
        RETURNING *;
    PERFORM set_config('ops_db.event_details', '', true);
END
$$;

-- Screening (seed 000, "Automatic Screening"): staged orders go to pending_approval or approved.
CREATE FUNCTION trading.screen_order(p_order_id bigint, p_actor text) RETURNS SETOF trading.staged_orders
    LANGUAGE plpgsql
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

-- Expire every open order whose expires_at has passed (cron-safe; returns what it expired).
CREATE FUNCTION trading.expire_due_orders(p_now timestamptz DEFAULT now(), p_actor text DEFAULT 'system')
    RETURNS SETOF trading.staged_orders
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    due bigint;
BEGIN
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

-- The application reads and writes orders but never deletes them, and never touches the trail.
REVOKE DELETE, TRUNCATE ON trading.staged_orders FROM ops_app;
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON trading.order_events FROM ops_app;
REVOKE UPDATE, DELETE, TRUNCATE ON trading.kill_switch_events FROM ops_app;

RESET ROLE;
