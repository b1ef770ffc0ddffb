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
    -- The staged record plus what the merge decides about it.
    CREATE TEMP TABLE IF NOT EXISTS batch_work (
        LIKE public.staging_events,
        duplicate_movement boolean        NOT NULL,
        opening_quantity   bigint         NOT NULL,
        opening_status     stock_status   NOT NULL,
        -- Whether the stock row and the movement row existed before this batch: they decide
        -- between UPDATE and INSERT below (cheaper than INSERT ... ON CONFLICT per row).
        stock_exists       boolean        NOT NULL,
        movement_exists    boolean        NOT NULL,
        -- Signed stock effect if applied: +quantity, -quantity, or 0 for a duplicate movement event.
        delta              bigint         NOT NULL,
        -- Running balance of the key as if every departure applied.
        balance            bigint         NOT NULL,
        -- Keys whose unconstrained running balance dips below zero go through the sequential pass.
        needs_sequential   boolean        NOT NULL DEFAULT false,
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
-- Returns counts and the range of status change ids it logged. The changed stock rows are in
-- pg_temp.batch_work until the transaction ends, for the caller's notifications.
CREATE FUNCTION apply_batch(
    p_group_id text,
    p_topic text,
    p_partitions integer[],
    p_first_offsets bigint[],
    p_next_offsets bigint[],
    p_low_threshold integer
) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v_fenced integer;
    v_staged integer;
    v_seq_base bigint;
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
            'duplicate_movement_event', 0, 'status_changes', 0);
    END IF;

    -- Fresh statistics let the planner size the joins below for this batch, and invalidate plans
    -- cached for an earlier batch of a very different size.
    ANALYZE pg_temp.batch_staging;

    -- Classify every staged record in one pass. Redeliveries (a message id already in the ledger
    -- or earlier in the batch) drop out; a second departure or arrival of a movement is a
    -- duplicate movement event. Hash aggregates (first seq per message id and per movement side)
    -- instead of DISTINCT ON / row_number() keep this to one sort (by key, for the running balance).
    INSERT INTO pg_temp.batch_work
        (seq, message_id, movement_id, warehouse_id, product_id, event, quantity, event_time, produced_at,
         source, topic, "partition", "offset", duplicate_movement, opening_quantity, opening_status,
         stock_exists, movement_exists, delta, balance, outcome, reject_reason, stock_after)
    WITH first_of_message AS (
        SELECT message_id, min(seq) AS seq FROM pg_temp.batch_staging GROUP BY message_id
    ), first_of_side AS (
        SELECT movement_id, event, min(seq) AS seq FROM pg_temp.batch_staging GROUP BY movement_id, event
    ), classified AS (
        SELECT s.*,
               (CASE s.event WHEN 'departure' THEN m.departure_message_id ELSE m.arrival_message_id END) IS NOT NULL
               OR s.seq > fs.seq AS duplicate_movement,
               coalesce(st.quantity, 0) AS opening_quantity,
               coalesce(st.status, 'out_of_stock') AS opening_status,
               st.warehouse_id IS NOT NULL AS stock_exists,
               m.movement_id IS NOT NULL AS movement_exists
          FROM pg_temp.batch_staging s
          JOIN first_of_message fm ON fm.message_id = s.message_id AND fm.seq = s.seq
          JOIN first_of_side fs ON fs.movement_id = s.movement_id AND fs.event = s.event
          LEFT JOIN movements m ON m.movement_id = s.movement_id
          LEFT JOIN stock st ON st.warehouse_id = s.warehouse_id AND st.product_id = s.product_id
         WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.message_id = s.message_id)
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
    )
    SELECT r.seq, r.message_id, r.movement_id, r.warehouse_id, r.product_id, r.event, r.quantity,
           r.event_time, r.produced_at, r.source, r.topic, r."partition", r."offset",
           r.duplicate_movement, r.opening_quantity, r.opening_status, r.stock_exists, r.movement_exists,
           r.delta, r.balance,
           -- Right for every key whose balance never dips below zero; the others are redone below.
           CASE WHEN r.duplicate_movement THEN 'rejected' ELSE 'applied' END::event_outcome,
           CASE WHEN r.duplicate_movement THEN 'duplicate_movement_event'::reject_reason END,
           r.balance
      FROM running r;

    -- The sequential pass, only for keys where some departure may not be covered: a rejected
    -- departure changes nothing, so later balances depend on earlier decisions.
    UPDATE pg_temp.batch_work w
       SET needs_sequential = true
     WHERE (w.warehouse_id, w.product_id) IN (SELECT n.warehouse_id, n.product_id FROM pg_temp.batch_work n WHERE n.balance < 0);

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

    -- The ledger. Ledger positions are reserved as one block (seq base + position in the batch)
    -- instead of a nextval() per row; the advisory lock makes the reservation race-free. Rows go
    -- in message-id order, which walks the random-UUID primary key from left to right and touches
    -- each of its pages once per batch rather than once per row.
    v_seq_base := nextval(pg_get_serial_sequence('events', 'seq'));
    PERFORM setval(pg_get_serial_sequence('events', 'seq'), v_seq_base + v_staged);
    INSERT INTO events (message_id, seq, movement_id, warehouse_id, product_id, event, quantity,
                        event_time, produced_at, source, topic, "partition", "offset", outcome,
                        reject_reason, stock_after)
    SELECT w.message_id, v_seq_base + w.seq, w.movement_id, w.warehouse_id, w.product_id, w.event, w.quantity,
           w.event_time, w.produced_at, w.source, w.topic, w."partition", w."offset", w.outcome,
           w.reject_reason, w.stock_after
      FROM pg_temp.batch_work w
     ORDER BY w.message_id;

    -- Stock: the balance after the last applied event of each key; rows that existed are
    -- updated in place, new ones inserted.
    UPDATE stock st
       SET quantity = l.stock_after, status = stock_status_for(l.stock_after, p_low_threshold),
           last_message_id = l.message_id, updated_at = now()
      FROM (SELECT DISTINCT ON (w.warehouse_id, w.product_id) w.warehouse_id, w.product_id, w.stock_after, w.message_id
              FROM pg_temp.batch_work w
             WHERE w.outcome = 'applied' AND w.stock_exists
             ORDER BY w.warehouse_id, w.product_id, w.seq DESC) l
     WHERE st.warehouse_id = l.warehouse_id AND st.product_id = l.product_id;

    INSERT INTO stock (warehouse_id, product_id, quantity, status, last_message_id, updated_at)
    SELECT DISTINCT ON (w.warehouse_id, w.product_id)
           w.warehouse_id, w.product_id, w.stock_after, stock_status_for(w.stock_after, p_low_threshold),
           w.message_id, now()
      FROM pg_temp.batch_work w
     WHERE w.outcome = 'applied' AND NOT w.stock_exists
     ORDER BY w.warehouse_id, w.product_id, w.seq DESC;

    -- Movements: each side is set once (a later copy of a side was rejected above); a movement
    -- seen before gets its missing side, a new one is inserted with what this batch has.
    UPDATE movements m
       SET source_warehouse_id      = coalesce(m.source_warehouse_id, j.source_warehouse_id),
           departure_message_id     = coalesce(m.departure_message_id, j.departure_message_id),
           departed_at              = coalesce(m.departed_at, j.departed_at),
           quantity_sent            = coalesce(m.quantity_sent, j.quantity_sent),
           destination_warehouse_id = coalesce(m.destination_warehouse_id, j.destination_warehouse_id),
           arrival_message_id       = coalesce(m.arrival_message_id, j.arrival_message_id),
           arrived_at               = coalesce(m.arrived_at, j.arrived_at),
           quantity_received        = coalesce(m.quantity_received, j.quantity_received),
           updated_at               = now()
      FROM (SELECT coalesce(d.movement_id, a.movement_id) AS movement_id,
                   d.warehouse_id AS source_warehouse_id, d.message_id AS departure_message_id,
                   d.event_time AS departed_at, d.quantity AS quantity_sent,
                   a.warehouse_id AS destination_warehouse_id, a.message_id AS arrival_message_id,
                   a.event_time AS arrived_at, a.quantity AS quantity_received
              FROM (SELECT * FROM pg_temp.batch_work WHERE event = 'departure' AND NOT duplicate_movement AND movement_exists) d
              FULL JOIN (SELECT * FROM pg_temp.batch_work WHERE event = 'arrival' AND NOT duplicate_movement AND movement_exists) a
                ON a.movement_id = d.movement_id) j
     WHERE m.movement_id = j.movement_id;

    INSERT INTO movements (movement_id, product_id,
                           source_warehouse_id, departure_message_id, departed_at, quantity_sent,
                           destination_warehouse_id, arrival_message_id, arrived_at, quantity_received)
    SELECT coalesce(d.movement_id, a.movement_id), coalesce(d.product_id, a.product_id),
           d.warehouse_id, d.message_id, d.event_time, d.quantity,
           a.warehouse_id, a.message_id, a.event_time, a.quantity
      FROM (SELECT * FROM pg_temp.batch_work WHERE event = 'departure' AND NOT duplicate_movement AND NOT movement_exists) d
      FULL JOIN (SELECT * FROM pg_temp.batch_work WHERE event = 'arrival' AND NOT duplicate_movement AND NOT movement_exists) a
        ON a.movement_id = d.movement_id;

    -- Status changes, one per applied event that moved its key across a status boundary. The
    -- first event of a key compares with the stored status, so a changed threshold is logged too.
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
               'status_changes', v_changes,
               'first_status_change_id', v_first_change,
               'last_status_change_id', v_last_change)
      INTO v_result
      FROM pg_temp.batch_work w;
    RETURN v_result;
END
$$;
