-- Headline figures for the operator console (GET /api/stats): stock rows by status, movements in
-- transit and status changes per day, kept as running totals so that a stats request reads a few
-- rows instead of counting tables. The rows operators watch can be a large share of millions of
-- stock rows, and movements can stay in transit for days: a count(*) per request over either would
-- grow with the data (the init migration's ledger_totals exists for the same reason).
--
-- Each total is kept by a statement-level trigger with a transition table, so it costs one
-- aggregate per INSERT/UPDATE statement whoever the writer is, and apply_batch is untouched:
--   stock_rows:available, stock_rows:low   from status_changes: every change of a row's status is
--       logged there, and a new stock row's first change starts from out_of_stock (apply_batch's
--       opening status), so the rows at a status are the changes into it minus the changes out of
--       it. Rows at out_of_stock are stock_rows minus these two (stock_rows counts inserts).
--   movements:in_transit                   from movements: inserted without an arrival (+1), an
--       update or delete that ends that state (-1).
--   status_changes_per_day                 one row per UTC day of changed_at.
-- A total never goes below zero (greatest): a row written around the status log (a hand fix)
-- can make a total drift, but must never fail the processor's merge. console_totals_recount()
-- recomputes all of them from the tables in one scan each.

CREATE TABLE status_changes_per_day (
    -- The UTC day of status_changes.changed_at.
    day   date   NOT NULL,
    total bigint NOT NULL,
    CONSTRAINT status_changes_per_day_pkey PRIMARY KEY (day)
);

-- Adds `p_delta` (of either sign) to an existing total, never below zero.
CREATE FUNCTION ledger_totals_shift(p_name text, p_delta bigint) RETURNS void
LANGUAGE sql AS $$
    UPDATE ledger_totals SET value = greatest(value + p_delta, 0) WHERE name = p_name AND p_delta <> 0
$$;

CREATE FUNCTION console_totals_on_status_changes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM ledger_totals_shift('stock_rows:' || s.status, sum(s.delta))
       FROM (SELECT status::text AS status, 1 AS delta FROM new_rows
             UNION ALL
             SELECT previous_status::text, -1 FROM new_rows) s
      WHERE s.status <> 'out_of_stock'
      GROUP BY s.status;
    INSERT INTO status_changes_per_day (day, total)
    SELECT (changed_at AT TIME ZONE 'UTC')::date, count(*) FROM new_rows GROUP BY 1
    ON CONFLICT (day) DO UPDATE SET total = status_changes_per_day.total + EXCLUDED.total;
    RETURN NULL;
END
$$;
CREATE TRIGGER status_changes_console_totals AFTER INSERT ON status_changes
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION console_totals_on_status_changes();

-- In transit: a departure without an arrival (movements_has_a_side makes "no arrival" enough).
CREATE FUNCTION console_totals_on_movements() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM ledger_totals_shift('movements:in_transit', (SELECT count(*) FROM new_rows WHERE arrival_message_id IS NULL));
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM ledger_totals_shift('movements:in_transit',
            (SELECT count(*) FROM new_rows WHERE arrival_message_id IS NULL)
          - (SELECT count(*) FROM old_rows WHERE arrival_message_id IS NULL));
    ELSE
        PERFORM ledger_totals_shift('movements:in_transit', -(SELECT count(*) FROM old_rows WHERE arrival_message_id IS NULL));
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER movements_console_totals_insert AFTER INSERT ON movements
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION console_totals_on_movements();
CREATE TRIGGER movements_console_totals_update AFTER UPDATE ON movements
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION console_totals_on_movements();
CREATE TRIGGER movements_console_totals_delete AFTER DELETE ON movements
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION console_totals_on_movements();

-- Sets every console total from the tables (one scan each): at this migration, and by hand after
-- rows were written around the status log. Takes the merge's table locks in the order apply_batch
-- writes them, so it waits for a running merge instead of counting half of one.
CREATE FUNCTION console_totals_recount() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE stock, movements, status_changes IN SHARE MODE;
    INSERT INTO ledger_totals (name, value)
    SELECT 'stock_rows:available', count(*) FROM stock WHERE status = 'available'
    UNION ALL SELECT 'stock_rows:low', count(*) FROM stock WHERE status = 'low'
    UNION ALL SELECT 'movements:in_transit', count(*) FROM movements WHERE arrival_message_id IS NULL
    ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value;
    DELETE FROM status_changes_per_day;
    INSERT INTO status_changes_per_day (day, total)
    SELECT (changed_at AT TIME ZONE 'UTC')::date, count(*) FROM status_changes GROUP BY 1;
END
$$;
SELECT console_totals_recount();

-- Least privilege, where the service roles exist (created by an earlier migration): the
-- processor's merge fires the triggers above, the API reads the per-day totals.
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'wsm_processor') THEN
        GRANT SELECT, INSERT, UPDATE ON status_changes_per_day TO wsm_processor;
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'wsm_api') THEN
        GRANT SELECT ON status_changes_per_day TO wsm_api;
    END IF;
END
$$;
