-- Fewer writes per event in the merge (issue 11). Measured together with …_ledger_batches in
-- alternating `make profile-merge ARGS='--preload 5M'` runs (docs/scaling.md section 1.1): on a
-- 5M-row ledger the ledger step went from 680-706 to 423-455 ms per 20k-event batch, the stock
-- step from 190-194 to 124-140 ms, database CPU per event from 85-88 to 72-82 us; on a fresh
-- database the difference was within the machine's noise.
--
-- 1. The ledger no longer indexes every row by movement id (events_movement_idx: a random-UUID
--    B-tree, one entry per event). A movement's ledger rows are derivable: every fresh event that
--    is not a duplicate side is its movement's departure or arrival (apply_batch_movements sets
--    each side from the first fresh event of that side, whatever its outcome), so
--    GET /api/events?movementId= reads the two side message ids from the movement row, and the
--    rejected duplicate sides, which are few, from the partial index below
--    (api/routes/events-query.ts). The movement view already joins its sides by message id.
-- 2. Stock pages keep 30% free, so that an update that leaves the status alone (most of them: the
--    quantity is not indexed) is a HOT update: no new entry in stock's three indexes. Pages
--    written before this migration fill up as before until the table is rewritten
--    (VACUUM FULL stock, or pg_repack, in a quiet hour).
DROP INDEX events_movement_idx;
CREATE INDEX events_duplicate_movement_idx ON events (movement_id) WHERE reject_reason = 'duplicate_movement_event';

ALTER TABLE stock SET (fillfactor = 70);
