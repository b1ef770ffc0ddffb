-- The ledger's received time without an index of its own (issue 11). events_received_idx put
-- every ledger row into one more B-tree for GET /api/events?receivedSince=&receivedUntil= (1.20x
-- the ledger insert: load/bench/ledger-index-cost.ts). Received times come one per batch, so a
-- table of batches answers the same question with one row per batch instead of one entry per
-- event: each merge records its ledger positions and the time it stored them, and a received-time
-- range becomes a range of ledger positions (api/routes/events-query.ts).
--
-- received_at is still the batch transaction's start (now()), but apply_batch now chooses it under
-- the merge lock and always after the previous batch's (lifted to one microsecond after it when
-- needed): with two processors a batch that began first could merge second and carry the earlier
-- time. So received order is ledger order, a list filtered by received time pages on the ledger
-- position, and each batch still has a received time of its own. The stock rows a batch changes
-- carry the same time (the API's stock as of an instant reads it back from the ledger).

-- One row per merge that wrote ledger rows: its block of positions [first_seq, last_seq] (staging
-- seq 0 .. n-1 after the reserved base; the positions of redeliveries stay unused), all stored at
-- received_at.
CREATE TABLE ledger_batches (
    first_seq   bigint      NOT NULL,
    last_seq    bigint      NOT NULL,
    received_at timestamptz NOT NULL,
    CONSTRAINT ledger_batches_pkey PRIMARY KEY (first_seq),
    CONSTRAINT ledger_batches_range CHECK (last_seq >= first_seq)
);
CREATE INDEX ledger_batches_received_idx ON ledger_batches (received_at) INCLUDE (first_seq, last_seq);

-- The batches already in the ledger, one per received time (a batch's rows share it). With two
-- processors these times need not grow with the positions; the API's position bounds are a min
-- and a max over the batches in the range, which hold either way, and it keeps the exact time
-- filter on the rows.
INSERT INTO ledger_batches (first_seq, last_seq, received_at)
SELECT min(seq), max(seq), received_at FROM events GROUP BY received_at;

DROP INDEX events_received_idx;

-- Ledger: as in …_apply_batch_steps, plus the batch's row in ledger_batches, and the received
-- time apply_batch chose.
DROP FUNCTION apply_batch_ledger(integer, integer);
CREATE FUNCTION apply_batch_ledger(p_staged integer, p_firsts integer, p_received_at timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_seq_base bigint;
    v_inserted integer;
    v_conflicting integer := 0;
BEGIN
    v_seq_base := nextval(pg_get_serial_sequence('events', 'seq'));
    PERFORM setval(pg_get_serial_sequence('events', 'seq'), v_seq_base + p_staged);
    INSERT INTO events (message_id, seq, movement_id, warehouse_id, product_id, event, quantity,
                        event_time, produced_at, source, topic, "partition", "offset", outcome,
                        reject_reason, stock_after, received_at)
    SELECT w.message_id, v_seq_base + w.seq, w.movement_id, w.warehouse_id, w.product_id, w.event, w.quantity,
           w.event_time, w.produced_at, w.source, w.topic, w."partition", w."offset", w.outcome,
           w.reject_reason, w.stock_after, p_received_at
      FROM pg_temp.batch_work w
     ORDER BY w.message_id;
    GET DIAGNOSTICS v_inserted = ROW_COUNT;
    IF v_inserted > 0 THEN
        INSERT INTO ledger_batches (first_seq, last_seq, received_at) VALUES (v_seq_base, v_seq_base + p_staged - 1, p_received_at);
    END IF;

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

-- Stock: as in …_apply_batch_steps, its rows updated at the batch's received time (what the
-- API's stock as of an instant answers from the ledger). The balance after the last applied event of each key; rows that existed are updated in
-- place, new ones inserted (cheaper than INSERT ... ON CONFLICT per row, and an upsert would
-- check the CHECK on the proposed row first: ../shared/design.md section 6).
DROP FUNCTION apply_batch_stock(integer);
CREATE FUNCTION apply_batch_stock(p_threshold integer, p_received_at timestamptz) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE stock st
       SET quantity = l.stock_after, status = stock_status_for(l.stock_after, p_threshold),
           last_message_id = l.message_id, updated_at = p_received_at
      FROM (SELECT DISTINCT ON (w.warehouse_id, w.product_id) w.warehouse_id, w.product_id, w.stock_after, w.message_id
              FROM pg_temp.batch_work w
             WHERE w.outcome = 'applied' AND w.stock_exists
             ORDER BY w.warehouse_id, w.product_id, w.seq DESC) l
     WHERE st.warehouse_id = l.warehouse_id AND st.product_id = l.product_id;

    INSERT INTO stock (warehouse_id, product_id, quantity, status, last_message_id, updated_at)
    SELECT DISTINCT ON (w.warehouse_id, w.product_id)
           w.warehouse_id, w.product_id, w.stock_after, stock_status_for(w.stock_after, p_threshold),
           w.message_id, p_received_at
      FROM pg_temp.batch_work w
     WHERE w.outcome = 'applied' AND NOT w.stock_exists
     ORDER BY w.warehouse_id, w.product_id, w.seq DESC;
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
CREATE OR REPLACE FUNCTION apply_batch(
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
    v_received_at timestamptz;
    v_skipped bigint;
    v_staged integer;
    v_classified record;
    v_copies_conflicting integer;
    v_log record;
    v_result jsonb;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('warehouse-stock-monitor.apply_batch'));
    SELECT low_stock_threshold INTO v_threshold FROM stock_settings WHERE singleton;
    -- The batch's received time: its transaction's start, as it always was, but after the previous
    -- batch's (a batch that began before another can merge after it), so received order is ledger
    -- order and each batch keeps a time of its own (one microsecond later when lifted).
    SELECT greatest(now(), max(b.received_at) + interval '1 microsecond') INTO v_received_at
      FROM (SELECT received_at FROM ledger_batches ORDER BY first_seq DESC LIMIT 1) b;

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
    SELECT apply_batch_ledger(v_staged, v_classified.first_occurrences, v_received_at) INTO v_copies_conflicting;
    PERFORM apply_batch_stock(v_threshold, v_received_at);
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

DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'wsm_processor') THEN
        GRANT SELECT, INSERT ON ledger_batches TO wsm_processor;
        GRANT EXECUTE ON FUNCTION apply_batch_ledger(integer, integer, timestamptz), apply_batch_stock(integer, timestamptz) TO wsm_processor;
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'wsm_api') THEN
        GRANT SELECT ON ledger_batches TO wsm_api;
    END IF;
END
$$;
