-- apply_batch_movements' UPDATE is planned for each batch instead of once per session (issue 11).
-- A statement without parameters in PL/pgSQL keeps the plan it got on its first run until a table
-- it reads is analysed again. The first batch of a session on a young database meets an empty
-- `movements`, the planner sizes it at 10 pages and hash-joins a sequential scan of the whole
-- table, and every later batch of that session repeated the scan, which grows with the table:
-- 34 ms of a 20k-event batch at 55k movements (`PROFILE_PLANS=1 make profile-merge`), until
-- autovacuum's next analyze of `movements`. EXECUTE plans against the table's current size, so
-- the second side is found through the primary key. The other statements of the merge planned
-- index probes from the first batch on.

-- Movements: each side is set once (a later copy of a side was rejected in classify); a movement
-- seen before gets its missing side, a new one is inserted with what this batch has. Each side
-- keeps its own product; product_id is the departure's product, else the arrival's.
CREATE OR REPLACE FUNCTION apply_batch_movements() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    -- EXECUTE: planned for this batch (see above), not once per session.
    EXECUTE $update$
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
     WHERE m.movement_id = j.movement_id
    $update$;

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

