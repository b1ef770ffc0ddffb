-- The batch merge: the one call that applies a staged batch to the ledger, the stock, the
-- movements and the status log, and moves the consumed offsets, inside the caller's transaction.

-- Status of a stock quantity for a given low-stock threshold (LOW_STOCK_THRESHOLD).
CREATE FUNCTION stock_status_for(quantity bigint, low_threshold integer) RETURNS stock_status
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN quantity <= 0 THEN 'out_of_stock'::stock_status
        WHEN quantity <= low_threshold THEN 'low'::stock_status
        ELSE 'available'::stock_status
    END
$$;

-- Makes this connection's temporary staging and work tables. Called once per connection by the
-- processor; the tables are emptied by every commit (ON COMMIT DELETE ROWS), never WAL-logged and
-- invisible to other connections, so processors never see each other's batches.
CREATE FUNCTION prepare_batch_session() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    CREATE TEMP TABLE IF NOT EXISTS batch_staging (LIKE public.staging_events) ON COMMIT DELETE ROWS;
    CREATE TEMP TABLE IF NOT EXISTS batch_work (
        seq                integer        NOT NULL,
        message_id         uuid           NOT NULL,
        movement_id        uuid           NOT NULL,
        warehouse_id       uuid           NOT NULL,
        product_id         uuid           NOT NULL,
        event              movement_event NOT NULL,
        quantity           integer        NOT NULL,
        event_time         timestamptz    NOT NULL,
        produced_at        timestamptz    NOT NULL,
        source             text           NOT NULL,
        topic              text           NOT NULL,
        "partition"        integer        NOT NULL,
        "offset"           bigint         NOT NULL,
        duplicate_movement boolean        NOT NULL,
        opening_quantity   bigint         NOT NULL,
        opening_status     stock_status   NOT NULL,
        -- Signed stock effect if applied: +quantity, -quantity, or 0 for a duplicate movement event.
        delta              bigint         NOT NULL,
        -- Keys whose unconstrained running balance dips below zero go through the sequential pass.
        needs_sequential   boolean        NOT NULL,
        outcome            event_outcome,
        reject_reason      reject_reason,
        stock_after        bigint
    ) ON COMMIT DELETE ROWS;
END
$$;

-- Applies the batch staged in pg_temp.batch_staging.
--
-- Offsets: p_partitions[i] was consumed from p_first_offsets[i] up to p_next_offsets[i] - 1 (valid
-- and invalid records alike). The call fails with SQLSTATE WSF01 (fenced) when any partition's
-- stored next offset is already past the batch's first offset: a newer owner of that partition
-- has moved on, and this batch must be dropped, not applied twice.
--
-- Semantics (../shared/design.md section 3):
--   * a message id already in the ledger, or seen earlier in the batch, is a redelivery: ignored;
--   * a second departure (or arrival) for a movement, under another message id, is rejected as
--     duplicate_movement_event and has no stock effect;
--   * events take effect per (warehouse, product) in batch order (seq); a departure the stock
--     cannot cover is rejected as insufficient_stock and leaves the stock unchanged;
--   * every status change is logged, counted and announced with pg_notify on commit.
--
-- Merges are serialised by a transaction-level advisory lock. With one lock the merge reads stock
-- and movements knowing no other merge is between its read and its write, so no row-lock ordering
-- or retry-on-conflict is needed, and status change ids grow in commit order (the SSE stream
-- resumes on them). COPY, which is most of a batch's database time, still runs in parallel.
--
-- Returns counts, and with p_collect_notifications the changed stock rows and status changes.
CREATE FUNCTION apply_batch(
    p_group_id text,
    p_topic text,
    p_partitions integer[],
    p_first_offsets bigint[],
    p_next_offsets bigint[],
    p_low_threshold integer,
    p_collect_notifications boolean
) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v_fenced integer;
    v_staged integer;
    v_seqs integer[] := '{}';
    v_outcomes event_outcome[] := '{}';
    v_reasons reject_reason[] := '{}';
    v_balances bigint[] := '{}';
    v_balance bigint;
    v_key_warehouse uuid;
    v_key_product uuid;
    v_row record;
    v_first_change bigint;
    v_last_change bigint;
    v_changes integer;
    v_result jsonb;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('warehouse-stock-monitor.apply_batch'));

    -- Fence: claim every partition's offset range, or fail the whole batch.
    INSERT INTO consumer_offsets (group_id, topic, "partition", next_offset)
    SELECT p_group_id, p_topic, p, 0 FROM unnest(p_partitions) AS p
    ON CONFLICT DO NOTHING;

    UPDATE consumer_offsets o
       SET next_offset = f.next_offset, updated_at = now()
      FROM unnest(p_partitions, p_first_offsets, p_next_offsets) AS f("partition", first_offset, next_offset)
     WHERE o.group_id = p_group_id AND o.topic = p_topic AND o."partition" = f."partition"
       AND o.next_offset <= f.first_offset;
    GET DIAGNOSTICS v_fenced = ROW_COUNT;
    IF v_fenced <> coalesce(cardinality(p_partitions), 0) THEN
        RAISE EXCEPTION 'batch fenced: a partition''s stored offset is past this batch''s first offset'
            USING ERRCODE = 'WSF01';
    END IF;

    SELECT count(*) INTO v_staged FROM pg_temp.batch_staging;
    IF v_staged = 0 THEN
        RETURN jsonb_build_object('staged', 0, 'fresh', 0, 'applied', 0, 'insufficient_stock', 0,
            'duplicate_movement_event', 0, 'status_changes', 0, 'stock', '[]'::jsonb, 'status', '[]'::jsonb);
    END IF;

    -- Fresh statistics let the planner size the joins below for this batch, and invalidate plans
    -- cached for an earlier batch of a very different size.
    ANALYZE pg_temp.batch_staging;

    INSERT INTO pg_temp.batch_work
    WITH fresh AS (
        SELECT DISTINCT ON (s.message_id) s.*
          FROM pg_temp.batch_staging s
         WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.message_id = s.message_id)
         ORDER BY s.message_id, s.seq
    ), classified AS (
        SELECT f.*,
               (CASE f.event WHEN 'departure' THEN m.departure_message_id ELSE m.arrival_message_id END) IS NOT NULL
               OR row_number() OVER (PARTITION BY f.movement_id, f.event ORDER BY f.seq) > 1 AS duplicate_movement,
               coalesce(st.quantity, 0) AS opening_quantity,
               coalesce(st.status, 'out_of_stock') AS opening_status
          FROM fresh f
          LEFT JOIN movements m ON m.movement_id = f.movement_id
          LEFT JOIN stock st ON st.warehouse_id = f.warehouse_id AND st.product_id = f.product_id
    ), signed AS (
        SELECT c.*,
               CASE WHEN c.duplicate_movement THEN 0
                    WHEN c.event = 'arrival' THEN c.quantity
                    ELSE -c.quantity END::bigint AS delta
          FROM classified c
    ), running AS (
        SELECT s.*,
               s.opening_quantity + sum(s.delta) OVER (PARTITION BY s.warehouse_id, s.product_id ORDER BY s.seq) AS balance
          FROM signed s
    ), keyed AS (
        SELECT r.*, min(r.balance) OVER (PARTITION BY r.warehouse_id, r.product_id) < 0 AS needs_sequential
          FROM running r
    )
    SELECT k.seq, k.message_id, k.movement_id, k.warehouse_id, k.product_id, k.event, k.quantity,
           k.event_time, k.produced_at, k.source, k.topic, k."partition", k."offset",
           k.duplicate_movement, k.opening_quantity, k.opening_status, k.delta, k.needs_sequential,
           -- Keys that never dip below zero: every event applies except duplicate movement events.
           CASE WHEN k.needs_sequential THEN NULL
                WHEN k.duplicate_movement THEN 'rejected'::event_outcome
                ELSE 'applied'::event_outcome END,
           CASE WHEN NOT k.needs_sequential AND k.duplicate_movement
                THEN 'duplicate_movement_event'::reject_reason END,
           CASE WHEN k.needs_sequential THEN NULL ELSE k.balance END
      FROM keyed k;

    -- The sequential pass, only for keys where some departure may not be covered: a rejected
    -- departure changes nothing, so later balances depend on earlier decisions.
    FOR v_row IN
        SELECT w.seq, w.warehouse_id, w.product_id, w.opening_quantity, w.delta, w.duplicate_movement
          FROM pg_temp.batch_work w
         WHERE w.needs_sequential
         ORDER BY w.warehouse_id, w.product_id, w.seq
    LOOP
        IF v_key_warehouse IS DISTINCT FROM v_row.warehouse_id OR v_key_product IS DISTINCT FROM v_row.product_id THEN
            v_key_warehouse := v_row.warehouse_id;
            v_key_product := v_row.product_id;
            v_balance := v_row.opening_quantity;
        END IF;
        v_seqs := v_seqs || v_row.seq;
        IF v_row.duplicate_movement THEN
            v_outcomes := v_outcomes || 'rejected'::event_outcome;
            v_reasons := v_reasons || 'duplicate_movement_event'::reject_reason;
        ELSIF v_balance + v_row.delta < 0 THEN
            v_outcomes := v_outcomes || 'rejected'::event_outcome;
            v_reasons := v_reasons || 'insufficient_stock'::reject_reason;
        ELSE
            v_balance := v_balance + v_row.delta;
            v_outcomes := v_outcomes || 'applied'::event_outcome;
            v_reasons := v_reasons || NULL::reject_reason;
        END IF;
        v_balances := v_balances || v_balance;
    END LOOP;

    IF cardinality(v_seqs) > 0 THEN
        UPDATE pg_temp.batch_work w
           SET outcome = d.outcome, reject_reason = d.reason, stock_after = d.balance
          FROM unnest(v_seqs, v_outcomes, v_reasons, v_balances) AS d(seq, outcome, reason, balance)
         WHERE w.seq = d.seq;
    END IF;

    ANALYZE pg_temp.batch_work;

    -- The ledger. Inserting in message-id order walks the random-UUID primary key from left to
    -- right, touching each index page once per batch instead of once per row; the seq is taken in
    -- batch order first so the ledger position still follows the order of application.
    INSERT INTO events (message_id, seq, movement_id, warehouse_id, product_id, event, quantity,
                        event_time, produced_at, source, topic, "partition", "offset", outcome,
                        reject_reason, stock_after)
    SELECT o.message_id, o.ledger_seq, o.movement_id, o.warehouse_id, o.product_id, o.event, o.quantity,
           o.event_time, o.produced_at, o.source, o.topic, o."partition", o."offset", o.outcome,
           o.reject_reason, o.stock_after
      FROM (SELECT w.*, nextval(pg_get_serial_sequence('events', 'seq')) AS ledger_seq
              FROM pg_temp.batch_work w ORDER BY w.seq) o
     ORDER BY o.message_id;

    -- Stock: the balance after the last applied event of each key.
    INSERT INTO stock (warehouse_id, product_id, quantity, status, last_message_id, updated_at)
    SELECT DISTINCT ON (w.warehouse_id, w.product_id)
           w.warehouse_id, w.product_id, w.stock_after, stock_status_for(w.stock_after, p_low_threshold),
           w.message_id, now()
      FROM pg_temp.batch_work w
     WHERE w.outcome = 'applied'
     ORDER BY w.warehouse_id, w.product_id, w.seq DESC
    ON CONFLICT (warehouse_id, product_id) DO UPDATE
       SET quantity = EXCLUDED.quantity, status = EXCLUDED.status,
           last_message_id = EXCLUDED.last_message_id, updated_at = EXCLUDED.updated_at;

    -- Movements: each side is set once; a later duplicate of a side was rejected above.
    INSERT INTO movements (movement_id, product_id,
                           source_warehouse_id, departure_message_id, departed_at, quantity_sent,
                           destination_warehouse_id, arrival_message_id, arrived_at, quantity_received)
    SELECT w.movement_id,
           (array_agg(w.product_id ORDER BY w.seq))[1],
           (array_agg(w.warehouse_id) FILTER (WHERE w.event = 'departure'))[1],
           (array_agg(w.message_id) FILTER (WHERE w.event = 'departure'))[1],
           (array_agg(w.event_time) FILTER (WHERE w.event = 'departure'))[1],
           (array_agg(w.quantity) FILTER (WHERE w.event = 'departure'))[1],
           (array_agg(w.warehouse_id) FILTER (WHERE w.event = 'arrival'))[1],
           (array_agg(w.message_id) FILTER (WHERE w.event = 'arrival'))[1],
           (array_agg(w.event_time) FILTER (WHERE w.event = 'arrival'))[1],
           (array_agg(w.quantity) FILTER (WHERE w.event = 'arrival'))[1]
      FROM pg_temp.batch_work w
     WHERE NOT w.duplicate_movement
     GROUP BY w.movement_id
     ORDER BY w.movement_id
    ON CONFLICT (movement_id) DO UPDATE
       SET source_warehouse_id      = coalesce(movements.source_warehouse_id, EXCLUDED.source_warehouse_id),
           departure_message_id     = coalesce(movements.departure_message_id, EXCLUDED.departure_message_id),
           departed_at              = coalesce(movements.departed_at, EXCLUDED.departed_at),
           quantity_sent            = coalesce(movements.quantity_sent, EXCLUDED.quantity_sent),
           destination_warehouse_id = coalesce(movements.destination_warehouse_id, EXCLUDED.destination_warehouse_id),
           arrival_message_id       = coalesce(movements.arrival_message_id, EXCLUDED.arrival_message_id),
           arrived_at               = coalesce(movements.arrived_at, EXCLUDED.arrived_at),
           quantity_received        = coalesce(movements.quantity_received, EXCLUDED.quantity_received),
           updated_at               = now();

    -- Status changes, one per applied event that moved its key across a status boundary.
    WITH applied AS (
        SELECT w.seq, w.warehouse_id, w.product_id, w.message_id, w.stock_after,
               stock_status_for(w.stock_after, p_low_threshold) AS status_after,
               coalesce(lag(stock_status_for(w.stock_after, p_low_threshold))
                            OVER (PARTITION BY w.warehouse_id, w.product_id ORDER BY w.seq),
                        w.opening_status) AS status_before
          FROM pg_temp.batch_work w
         WHERE w.outcome = 'applied'
    ), logged AS (
        INSERT INTO status_changes (warehouse_id, product_id, previous_status, status, quantity, message_id)
        SELECT a.warehouse_id, a.product_id, a.status_before, a.status_after, a.stock_after, a.message_id
          FROM applied a
         WHERE a.status_before <> a.status_after
         ORDER BY a.seq
        RETURNING id
    )
    SELECT count(*), min(id), max(id) INTO v_changes, v_first_change, v_last_change FROM logged;

    IF v_changes > 0 THEN
        UPDATE status_change_counter SET total = total + v_changes WHERE singleton;
        -- One small notification per batch; listeners read the log from their last seen id, so a
        -- burst of changes never overflows pg_notify's 8000-byte payload limit.
        PERFORM pg_notify('stock_status_changes',
            jsonb_build_object('first_id', v_first_change, 'last_id', v_last_change, 'count', v_changes)::text);
    END IF;

    SELECT jsonb_build_object(
               'staged', v_staged,
               'fresh', count(*),
               'applied', count(*) FILTER (WHERE w.outcome = 'applied'),
               'insufficient_stock', count(*) FILTER (WHERE w.reject_reason = 'insufficient_stock'),
               'duplicate_movement_event', count(*) FILTER (WHERE w.reject_reason = 'duplicate_movement_event'),
               'status_changes', v_changes)
      INTO v_result
      FROM pg_temp.batch_work w;

    IF p_collect_notifications THEN
        v_result := v_result || jsonb_build_object(
            'stock', (SELECT coalesce(jsonb_agg(jsonb_build_array(s.warehouse_id, s.product_id, s.quantity, s.status)), '[]'::jsonb)
                        FROM (SELECT DISTINCT ON (w.warehouse_id, w.product_id) w.warehouse_id, w.product_id,
                                     w.stock_after AS quantity, stock_status_for(w.stock_after, p_low_threshold) AS status
                                FROM pg_temp.batch_work w
                               WHERE w.outcome = 'applied'
                               ORDER BY w.warehouse_id, w.product_id, w.seq DESC) s),
            'status', (SELECT coalesce(jsonb_agg(jsonb_build_array(c.id, c.warehouse_id, c.product_id, c.previous_status,
                                                                  c.status, c.quantity, c.message_id, c.changed_at) ORDER BY c.id), '[]'::jsonb)
                         FROM status_changes c
                        WHERE v_changes > 0 AND c.id BETWEEN v_first_change AND v_last_change));
    END IF;
    RETURN v_result;
END
$$;
