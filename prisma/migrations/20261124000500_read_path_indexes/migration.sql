-- Read paths of the API (issue 12). Every filter combination the API accepts is served by an
-- index, or the API refuses it with a 400 that says why; api/__tests__/query-plans.test.ts runs
-- EXPLAIN on every accepted list query over a database large enough that the planner would scan a
-- whole table if no index served it, and fails on any sequential scan of a large table.
--
-- Lists filtered by a time range are ordered by that time (ties by their id): each page is then
-- one index range scan that stops after a page of rows, however old the range. Ordering by the id
-- and filtering on a time that grows with it is the trap this avoids: the planner assumes the
-- matching rows are spread evenly and walks the id index from the wrong end.
--
-- Write cost: the processor inserts every ledger row into each index of `events`, and secondary
-- index maintenance is about half of a merge (docs/scaling.md). The two time indexes below grow
-- at their right edge only (times arrive nearly in order), the cheapest kind of index insert; the
-- movements and status-change indexes cost one entry per movement or status change, and two of
-- them are partial. One (warehouse, product)'s ledger (the history route, the stock as of an
-- instant) has no index of its own: an index led by two random UUIDs is the dearest kind to
-- maintain, and the API reads a pair's rows through the smaller of its product's and its
-- warehouse's ledger (events_product_seq_idx, events_warehouse_seq_idx).
-- Measured with `npx tsx load/bench/ledger-index-cost.ts` (20k-row inserts in message-id order,
-- as apply_batch writes, into copies of `events` holding 500k rows, durable PostgreSQL, 12
-- rotating rounds, one run, machine shared): the init migration's six indexes 660 ms per batch;
-- + events_event_time_idx 1.19x, + events_received_idx 1.20x, both 1.37x. The ledger insert is
-- about a quarter of a merge (make profile-merge: 317 of 1,255 ms), so about 9% more merge time,
-- which issue 11 weighs against throughput.

-- GET /api/events?since=&until= (event time), in event-time order.
CREATE INDEX events_event_time_idx ON events (event_time, seq);

-- GET /api/events?receivedSince=&receivedUntil=, in received order (one value per batch).
CREATE INDEX events_received_idx ON events (received_at, seq);

-- A movement's time: its departure, or its arrival when no departure is known (what
-- GET /api/movements?since=&until= filters on). Stored so that it can be indexed and ordered by;
-- the processor never writes it. Adding it rewrites the table once.
ALTER TABLE movements
    ADD COLUMN moved_at timestamptz GENERATED ALWAYS AS (coalesce(departed_at, arrived_at)) STORED;
CREATE INDEX movements_moved_at_idx ON movements (moved_at, movement_id);

-- GET /api/movements?state=in_transit and ?state=arrived: movements with one side are the few
-- (goods on the road now, arrivals whose departure is unknown); a completed movement leaves these
-- partial indexes at its next vacuum. state=completed is most rows and pages on the primary key.
CREATE INDEX movements_in_transit_idx ON movements (movement_id) WHERE arrival_message_id IS NULL;
CREATE INDEX movements_arrived_only_idx ON movements (movement_id) WHERE departure_message_id IS NULL;

-- GET /api/status-changes?since=&until=, in changed-at order.
CREATE INDEX status_changes_changed_at_idx ON status_changes (changed_at, id);
-- GET /api/status-changes?productId= (status_changes_stock_idx leads with the warehouse).
CREATE INDEX status_changes_product_idx ON status_changes (product_id, id);
