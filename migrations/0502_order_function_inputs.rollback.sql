SET ROLE ops_owner;

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
RESET ROLE;
