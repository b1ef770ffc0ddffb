-- The low-stock threshold lives with the data it classifies. Statuses are stored per stock row,
-- so a threshold held only in each processor's configuration left the statuses of untouched rows
-- stale after a change (and two processors with different values would disagree). A processor
-- starting with another LOW_STOCK_THRESHOLD calls set_low_stock_threshold(), which re-evaluates
-- every status once; merges read the stored value.
CREATE TABLE stock_settings (
    singleton           boolean     NOT NULL DEFAULT true,
    low_stock_threshold integer     NOT NULL CONSTRAINT stock_settings_threshold_non_negative CHECK (low_stock_threshold >= 0),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT stock_settings_pkey PRIMARY KEY (singleton),
    CONSTRAINT stock_settings_one_row CHECK (singleton)
);
-- LOW_STOCK_THRESHOLD's default (lib/config.ts), the value every status so far was computed with
-- unless the deployment changed it (then its processors' first start re-evaluates).
INSERT INTO stock_settings (singleton, low_stock_threshold) VALUES (true, 10);

-- Sets the threshold and, when it changes, re-evaluates every stock row's status in one statement
-- under the merge lock (so no batch interleaves), logging, counting and announcing each change
-- like a merge does. A re-evaluated change's message_id is the stock row's last event: the one
-- whose quantity the new threshold classifies. Returns {changed, previous, status_changes,
-- first_status_change_id, last_status_change_id}.
CREATE FUNCTION set_low_stock_threshold(p_threshold integer) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v_previous integer;
    v_changes integer;
    v_first bigint;
    v_last bigint;
BEGIN
    -- The usual case, a processor starting with the stored value, takes no lock: a start never
    -- waits for a merge in progress.
    SELECT low_stock_threshold INTO v_previous FROM stock_settings WHERE singleton;
    IF v_previous = p_threshold THEN
        RETURN jsonb_build_object('changed', false, 'previous', v_previous, 'status_changes', 0);
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('warehouse-stock-monitor.apply_batch'));
    SELECT low_stock_threshold INTO v_previous FROM stock_settings WHERE singleton FOR UPDATE;
    IF v_previous = p_threshold THEN
        RETURN jsonb_build_object('changed', false, 'previous', v_previous, 'status_changes', 0);
    END IF;
    UPDATE stock_settings SET low_stock_threshold = p_threshold, updated_at = now() WHERE singleton;

    WITH changed AS (
        SELECT warehouse_id, product_id, quantity, status AS previous_status,
               stock_status_for(quantity, p_threshold) AS status, last_message_id
          FROM stock
         WHERE status <> stock_status_for(quantity, p_threshold)
    ), updated AS (
        UPDATE stock s SET status = c.status, updated_at = now()
          FROM changed c
         WHERE s.warehouse_id = c.warehouse_id AND s.product_id = c.product_id
    ), logged AS (
        INSERT INTO status_changes (warehouse_id, product_id, previous_status, status, quantity, message_id)
        SELECT warehouse_id, product_id, previous_status, status, quantity, last_message_id
          FROM changed
         ORDER BY warehouse_id, product_id
        RETURNING id
    )
    SELECT count(*), min(id), max(id) INTO v_changes, v_first, v_last FROM logged;

    IF v_changes > 0 THEN
        UPDATE status_change_counter SET total = total + v_changes WHERE singleton;
        PERFORM pg_notify('stock_status_changes',
            jsonb_build_object('first_id', v_first, 'last_id', v_last, 'count', v_changes)::text);
    END IF;
    RETURN jsonb_build_object('changed', true, 'previous', v_previous, 'status_changes', v_changes,
                              'first_status_change_id', v_first, 'last_status_change_id', v_last);
END
$$;
