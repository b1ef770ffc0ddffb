-- The ledger totals that are instants (names ending in _ms: epoch milliseconds, see the init
-- migration) may be negative: an event before 1970 is valid (lib/event.ts, years 1-9999), and
-- a batch whose latest event time was before 1970 failed the old CHECK and could not be applied.
-- Counts stay non-negative.
ALTER TABLE ledger_totals DROP CONSTRAINT ledger_totals_non_negative;
ALTER TABLE ledger_totals ADD CONSTRAINT ledger_totals_counts_non_negative CHECK (value >= 0 OR name LIKE '%\_ms');
