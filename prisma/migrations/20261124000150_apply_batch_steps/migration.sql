-- The batch merge in named steps. apply_batch() takes the merge lock and calls, in order:
--
--   apply_batch_fence       claim every partition's offset range or fail (WSF01); record skipped offsets
--   apply_batch_classify    fresh records (first occurrence of a message id, not in the ledger),
--                           duplicate movement events, opening stock, running balances
--   apply_batch_decide      the sequential pass for keys whose balance would dip below zero
--   apply_batch_ledger      ledger rows
--   (classify and ledger also count redeliveries whose content differs from the first occurrence)
--   apply_batch_stock       stock rows after the batch, with their status
--   apply_batch_movements   each side of each movement, with its own product
--   apply_batch_status_log  status changes: logged, counted, announced
--
-- so a change (the throughput work, a new rule) replaces one step, not a copy of the whole merge,
-- and `make profile-merge` times each. The steps work on this connection's pg_temp.batch_staging
-- and pg_temp.batch_work (prepare_batch_session()) inside the caller's transaction; they are not
-- meant to be called on their own.
--
-- Semantics (../shared/design.md section 3), changed from the first apply_batch:
--   * a message id's first occurrence (lowest offset) wins; later copies, in the batch or after
--     it, change nothing and no longer count as a movement's side either (a later copy used to
--     make the next event of its movement side a duplicate); copies whose content differs from
--     the ledger's are counted as conflicting;
--   * each side of a movement keeps its product (movements.departure_product_id, arrival_product_id);
--   * the low-stock threshold is read from stock_settings, not passed by the caller;
--   * offsets between the stored offset and the batch's first, and gaps inside the batch, are
--     recorded in skipped_offsets.

DROP FUNCTION apply_batch(text, text, integer[], bigint[], bigint[], integer);

-- Fence: claim every partition's offset range [first, next), or fail the whole batch with WSF01
-- when a partition's stored offset is already past its first offset (a newer owner applied it).
-- Records what was skipped: the offsets between the stored offset and the batch's first (a
-- never-stored partition counts from 0), and the gaps inside the batch the caller reports.
-- Returns the number of offsets skipped.
CREATE FUNCTION apply_batch_fence(
    p_group_id text,
    p_topic text,
    p_partitions integer[],
    p_first_offsets bigint[],
    p_next_offsets bigint[],
    p_gap_partitions integer[],
    p_gap_from bigint[],
    p_gap_to bigint[]
) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_claimed integer;
    v_skipped bigint;
BEGIN
    INSERT INTO consumer_offsets (group_id, topic, "partition", next_offset)
    SELECT p_group_id, p_topic, p, 0 FROM unnest(p_partitions) AS p
    ON CONFLICT DO NOTHING;

    WITH skipped AS (
        INSERT INTO skipped_offsets (group_id, topic, "partition", from_offset, to_offset)
        SELECT p_group_id, p_topic, f."partition", o.next_offset, f.first_offset
          FROM consumer_offsets o
          JOIN unnest(p_partitions, p_first_offsets) AS f("partition", first_offset)
            ON o.group_id = p_group_id AND o.topic = p_topic AND o."partition" = f."partition"
         WHERE o.next_offset < f.first_offset
        UNION ALL
        SELECT p_group_id, p_topic, g."partition", g.from_offset, g.to_offset
          FROM unnest(p_gap_partitions, p_gap_from, p_gap_to) AS g("partition", from_offset, to_offset)
        RETURNING to_offset - from_offset AS offsets
    )
    SELECT coalesce(sum(offsets), 0) INTO v_skipped FROM skipped;

    UPDATE consumer_offsets o
       SET next_offset = f.next_offset, updated_at = now()
      FROM unnest(p_partitions, p_first_offsets, p_next_offsets) AS f("partition", first_offset, next_offset)
     WHERE o.group_id = p_group_id AND o.topic = p_topic AND o."partition" = f."partition"
       AND o.next_offset <= f.first_offset;
    GET DIAGNOSTICS v_claimed = ROW_COUNT;
    IF v_claimed <> coalesce(cardinality(p_partitions), 0) THEN
        RAISE EXCEPTION 'batch fenced: a partition''s stored offset is past this batch''s first offset'
            USING ERRCODE = 'WSF01';
    END IF;
    RETURN v_skipped;
END
$$;

-- Classify: the fresh records into pg_temp.batch_work in one pass. A record is fresh when it is
-- its message id's first occurrence in the batch (lowest seq: read order, so offset order per
-- partition) and the id is not in the ledger; everything else is a redelivery and drops out
-- before any other rule looks at it. A fresh record is a duplicate movement event when its
-- movement already has that side, or an earlier fresh record of the batch is that side.
--
-- The first occurrences come from one sort (DISTINCT ON), whose row estimate is the staged
-- message ids' distinct count from ANALYZE: a join on (message_id, min(seq)) multiplies two
-- equality selectivities and is estimated at one row, which once planned the side aggregate as
-- the inner of a nested loop, rescanned per record (115 s for a 20k batch, `make profile-merge`).
-- The ledger is probed once per first occurrence, in message-id order (its primary key walked
-- left to right), by a scalar subquery: NULL when the id is new, else whether the content
-- differs. A scalar subquery is never turned into a hash over the whole ledger, which a semi- or
-- anti-join is free to choose (and did, on a small ledger).
-- Returns the fresh records, the first occurrences (fresh or not) and the first occurrences
-- whose content differs from the ledger's (later copies in the batch are counted by the ledger
-- step, once their first occurrence is in the ledger).
CREATE FUNCTION apply_batch_classify(OUT fresh integer, OUT first_occurrences integer, OUT conflicting integer)
LANGUAGE plpgsql AS $$
BEGIN
    WITH firsts AS MATERIALIZED (
        SELECT DISTINCT ON (s.message_id) s.*,
               (SELECT (e.movement_id, e.warehouse_id, e.product_id, e.event, e.quantity, e.event_time)
                       IS DISTINCT FROM (s.movement_id, s.warehouse_id, s.product_id, s.event, s.quantity, s.event_time)
                  FROM events e WHERE e.message_id = s.message_id) AS ledger_conflict
          FROM pg_temp.batch_staging s
         ORDER BY s.message_id, s.seq
    ), first_of_side AS (
        SELECT movement_id, event, min(seq) AS seq FROM firsts WHERE ledger_conflict IS NULL GROUP BY movement_id, event
    ), classified AS (
        SELECT f.*,
               (CASE f.event WHEN 'departure' THEN m.departure_message_id ELSE m.arrival_message_id END) IS NOT NULL
               OR f.seq > fs.seq AS duplicate_movement,
               coalesce(st.quantity, 0) AS opening_quantity,
               coalesce(st.status, 'out_of_stock') AS opening_status,
               st.warehouse_id IS NOT NULL AS stock_exists,
               m.movement_id IS NOT NULL AS movement_exists
          FROM firsts f
          JOIN first_of_side fs ON fs.movement_id = f.movement_id AND fs.event = f.event
          LEFT JOIN movements m ON m.movement_id = f.movement_id
          LEFT JOIN stock st ON st.warehouse_id = f.warehouse_id AND st.product_id = f.product_id
         WHERE f.ledger_conflict IS NULL
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
    ), inserted AS (
        INSERT INTO pg_temp.batch_work
            (seq, message_id, movement_id, warehouse_id, product_id, event, quantity, event_time, produced_at,
             source, topic, "partition", "offset", duplicate_movement, opening_quantity, opening_status,
             stock_exists, movement_exists, delta, balance, outcome, reject_reason, stock_after)
        SELECT r.seq, r.message_id, r.movement_id, r.warehouse_id, r.product_id, r.event, r.quantity,
               r.event_time, r.produced_at, r.source, r.topic, r."partition", r."offset",
               r.duplicate_movement, r.opening_quantity, r.opening_status, r.stock_exists, r.movement_exists,
               r.delta, r.balance,
               -- Right for every key whose balance never dips below zero; apply_batch_decide redoes the others.
               CASE WHEN r.duplicate_movement THEN 'rejected' ELSE 'applied' END::event_outcome,
               CASE WHEN r.duplicate_movement THEN 'duplicate_movement_event'::reject_reason END,
               r.balance
          FROM running r
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM inserted), (SELECT count(*) FROM firsts),
           (SELECT count(*) FROM firsts WHERE ledger_conflict)
      INTO fresh, first_occurrences, conflicting;
END
$$;

-- Decide: the sequential pass, only for keys where some departure may not be covered. A rejected
-- departure changes nothing, so later balances of its key depend on earlier decisions; every
-- other key's outcome is already right from classify's running balance.
CREATE FUNCTION apply_batch_decide() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_seqs integer[] := '{}';
    v_outcomes event_outcome[] := '{}';
    v_reasons reject_reason[] := '{}';
    v_balances bigint[] := '{}';
    v_balance bigint;
    v_key_warehouse uuid;
    v_key_product uuid;
    v_row record;
BEGIN
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
END
$$;

-- Ledger: one row per fresh record. Ledger positions are reserved as one block (seq base +
-- position in the batch) instead of a nextval() per row; the merge lock makes the reservation
-- race-free. Rows go in message-id order, which walks the random-UUID primary key from left to
-- right and touches each of its pages once per batch rather than once per row.
-- Then, only when the batch holds later copies of a message id (p_staged > p_firsts: a producer
-- sent an id twice within one batch, rare), counts those whose content differs from the ledger
-- row of their id, which now holds the first occurrence. Returns that count.
CREATE FUNCTION apply_batch_ledger(p_staged integer, p_firsts integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_seq_base bigint;
    v_conflicting integer := 0;
BEGIN
    v_seq_base := nextval(pg_get_serial_sequence('events', 'seq'));
    PERFORM setval(pg_get_serial_sequence('events', 'seq'), v_seq_base + p_staged);
    INSERT INTO events (message_id, seq, movement_id, warehouse_id, product_id, event, quantity,
                        event_time, produced_at, source, topic, "partition", "offset", outcome,
                        reject_reason, stock_after)
    SELECT w.message_id, v_seq_base + w.seq, w.movement_id, w.warehouse_id, w.product_id, w.event, w.quantity,
           w.event_time, w.produced_at, w.source, w.topic, w."partition", w."offset", w.outcome,
           w.reject_reason, w.stock_after
      FROM pg_temp.batch_work w
     ORDER BY w.message_id;

    IF p_staged > p_firsts THEN
        -- The copies first (materialized: the planner would otherwise probe the ledger for every
        -- staged record before the self-join narrows them down), then one ledger probe each.
        WITH copies AS MATERIALIZED (
            SELECT s.* FROM pg_temp.batch_staging s
             WHERE EXISTS (SELECT 1 FROM pg_temp.batch_staging b WHERE b.message_id = s.message_id AND b.seq < s.seq)
        )
        SELECT count(*) INTO v_conflicting
          FROM copies c
         WHERE (SELECT (e.movement_id, e.warehouse_id, e.product_id, e.event, e.quantity, e.event_time)
                       IS DISTINCT FROM (c.movement_id, c.warehouse_id, c.product_id, c.event, c.quantity, c.event_time)
                  FROM events e WHERE e.message_id = c.message_id);
    END IF;
    RETURN v_conflicting;
END
$$;

-- Stock: the balance after the last applied event of each key; rows that existed are updated in
-- place, new ones inserted (cheaper than INSERT ... ON CONFLICT per row, and an upsert would
-- check the CHECK on the proposed row first: ../shared/design.md section 6).
CREATE FUNCTION apply_batch_stock(p_threshold integer) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE stock st
       SET quantity = l.stock_after, status = stock_status_for(l.stock_after, p_threshold),
           last_message_id = l.message_id, updated_at = now()
      FROM (SELECT DISTINCT ON (w.warehouse_id, w.product_id) w.warehouse_id, w.product_id, w.stock_after, w.message_id
              FROM pg_temp.batch_work w
             WHERE w.outcome = 'applied' AND w.stock_exists
             ORDER BY w.warehouse_id, w.product_id, w.seq DESC) l
     WHERE st.warehouse_id = l.warehouse_id AND st.product_id = l.product_id;

    INSERT INTO stock (warehouse_id, product_id, quantity, status, last_message_id, updated_at)
    SELECT DISTINCT ON (w.warehouse_id, w.product_id)
           w.warehouse_id, w.product_id, w.stock_after, stock_status_for(w.stock_after, p_threshold),
           w.message_id, now()
      FROM pg_temp.batch_work w
     WHERE w.outcome = 'applied' AND NOT w.stock_exists
     ORDER BY w.warehouse_id, w.product_id, w.seq DESC;
END
$$;

-- Movements: each side is set once (a later copy of a side was rejected in classify); a movement
-- seen before gets its missing side, a new one is inserted with what this batch has. Each side
-- keeps its own product; product_id is the departure's product, else the arrival's.
CREATE FUNCTION apply_batch_movements() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE movements m
       SET source_warehouse_id      = coalesce(m.source_warehouse_id, j.source_warehouse_id),
           departure_message_id     = coalesce(m.departure_message_id, j.departure_message_id),
           departed_at              = coalesce(m.departed_at, j.departed_at),
           quantity_sent            = coalesce(m.quantity_sent, j.quantity_sent),
           departure_product_id     = coalesce(m.departure_product_id, j.departure_product_id),
           destination_warehouse_id = coalesce(m.destination_warehouse_id, j.destination_warehouse_id),
           arrival_message_id       = coalesce(m.arrival_message_id, j.arrival_message_id),
           arrived_at               = coalesce(m.arrived_at, j.arrived_at),
           quantity_received        = coalesce(m.quantity_received, j.quantity_received),
           arrival_product_id       = coalesce(m.arrival_product_id, j.arrival_product_id),
           product_id               = coalesce(m.departure_product_id, j.departure_product_id, m.arrival_product_id),
           updated_at               = now()
      FROM (SELECT coalesce(d.movement_id, a.movement_id) AS movement_id,
                   d.warehouse_id AS source_warehouse_id, d.message_id AS departure_message_id,
                   d.event_time AS departed_at, d.quantity AS quantity_sent, d.product_id AS departure_product_id,
                   a.warehouse_id AS destination_warehouse_id, a.message_id AS arrival_message_id,
                   a.event_time AS arrived_at, a.quantity AS quantity_received, a.product_id AS arrival_product_id
              FROM (SELECT * FROM pg_temp.batch_work WHERE event = 'departure' AND NOT duplicate_movement AND movement_exists) d
              FULL JOIN (SELECT * FROM pg_temp.batch_work WHERE event = 'arrival' AND NOT duplicate_movement AND movement_exists) a
                ON a.movement_id = d.movement_id) j
     WHERE m.movement_id = j.movement_id;

    INSERT INTO movements (movement_id, product_id,
                           source_warehouse_id, departure_message_id, departed_at, quantity_sent, departure_product_id,
                           destination_warehouse_id, arrival_message_id, arrived_at, quantity_received, arrival_product_id)
    SELECT coalesce(d.movement_id, a.movement_id), coalesce(d.product_id, a.product_id),
           d.warehouse_id, d.message_id, d.event_time, d.quantity, d.product_id,
           a.warehouse_id, a.message_id, a.event_time, a.quantity, a.product_id
      FROM (SELECT * FROM pg_temp.batch_work WHERE event = 'departure' AND NOT duplicate_movement AND NOT movement_exists) d
      FULL JOIN (SELECT * FROM pg_temp.batch_work WHERE event = 'arrival' AND NOT duplicate_movement AND NOT movement_exists) a
        ON a.movement_id = d.movement_id;
END
$$;

-- Status log: one change per applied event that moved its key across a status boundary. The
-- first event of a key compares with the stored status. Logged in batch order, counted in the
-- one counter row, announced with one small pg_notify per batch (listeners read the log from
-- their last seen id, so a burst never overflows pg_notify's 8000-byte payload limit).
-- Returns (changes, first id, last id).
CREATE FUNCTION apply_batch_status_log(p_threshold integer, OUT changes integer, OUT first_id bigint, OUT last_id bigint)
LANGUAGE plpgsql AS $$
BEGIN
    WITH applied AS (
        SELECT w.seq, w.warehouse_id, w.product_id, w.message_id, w.stock_after,
               stock_status_for(w.stock_after, p_threshold) AS status_after,
               coalesce(lag(stock_status_for(w.stock_after, p_threshold))
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
    SELECT count(*), min(id), max(id) INTO changes, first_id, last_id FROM logged;

    IF changes > 0 THEN
        UPDATE status_change_counter SET total = total + changes WHERE singleton;
        PERFORM pg_notify('stock_status_changes',
            jsonb_build_object('first_id', first_id, 'last_id', last_id, 'count', changes)::text);
    END IF;
END
$$;

-- Applies the batch staged in pg_temp.batch_staging, inside the caller's transaction.
--
-- Offsets: p_partitions[i] was consumed from p_first_offsets[i] up to p_next_offsets[i] - 1 (valid
-- and invalid records alike); the p_gap_* arrays list offset ranges [from, to) missing inside the
-- batch. Merges are serialised by a transaction-level advisory lock: the merge reads stock and
-- movements knowing no other merge is between its read and its write, so no row-lock ordering or
-- retry-on-conflict is needed, and ids (status changes, and the dead letters the caller inserts
-- after this call) grow in commit order. COPY, most of a batch's database time, still runs in
-- parallel.
--
-- Returns counts, the range of status change ids it logged and the threshold it used. The
-- changed stock rows are in pg_temp.batch_work until the transaction ends, for notifications.
CREATE FUNCTION apply_batch(
    p_group_id text,
    p_topic text,
    p_partitions integer[],
    p_first_offsets bigint[],
    p_next_offsets bigint[],
    p_gap_partitions integer[],
    p_gap_from bigint[],
    p_gap_to bigint[]
) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v_threshold integer;
    v_skipped bigint;
    v_staged integer;
    v_classified record;
    v_copies_conflicting integer;
    v_log record;
    v_result jsonb;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('warehouse-stock-monitor.apply_batch'));
    SELECT low_stock_threshold INTO v_threshold FROM stock_settings WHERE singleton;

    -- Each step is called through SELECT or PERFORM, never as a PL/pgSQL expression, whose fast
    -- path would hide it from auto_explain (make profile-merge times each step).
    SELECT apply_batch_fence(p_group_id, p_topic, p_partitions, p_first_offsets, p_next_offsets,
                             p_gap_partitions, p_gap_from, p_gap_to)
      INTO v_skipped;

    SELECT count(*) INTO v_staged FROM pg_temp.batch_staging;
    IF v_staged = 0 THEN
        RETURN jsonb_build_object('staged', 0, 'fresh', 0, 'applied', 0, 'insufficient_stock', 0,
            'duplicate_movement_event', 0, 'conflicting', 0, 'status_changes', 0,
            'skipped_offsets', v_skipped, 'low_stock_threshold', v_threshold);
    END IF;

    -- Fresh statistics let the planner size the joins below for this batch, and invalidate plans
    -- cached for an earlier batch of a very different size.
    ANALYZE pg_temp.batch_staging;

    SELECT * INTO v_classified FROM apply_batch_classify();
    PERFORM apply_batch_decide();
    SELECT apply_batch_ledger(v_staged, v_classified.first_occurrences) INTO v_copies_conflicting;
    PERFORM apply_batch_stock(v_threshold);
    PERFORM apply_batch_movements();
    SELECT * INTO v_log FROM apply_batch_status_log(v_threshold);

    SELECT jsonb_build_object(
               'staged', v_staged,
               'fresh', v_classified.fresh,
               'applied', count(*) FILTER (WHERE w.outcome = 'applied'),
               'insufficient_stock', count(*) FILTER (WHERE w.reject_reason = 'insufficient_stock'),
               'duplicate_movement_event', count(*) FILTER (WHERE w.reject_reason = 'duplicate_movement_event'),
               'conflicting', v_classified.conflicting + v_copies_conflicting,
               'status_changes', v_log.changes,
               'first_status_change_id', v_log.first_id,
               'last_status_change_id', v_log.last_id,
               'skipped_offsets', v_skipped,
               'low_stock_threshold', v_threshold)
      INTO v_result
      FROM pg_temp.batch_work w;
    RETURN v_result;
END
$$;
