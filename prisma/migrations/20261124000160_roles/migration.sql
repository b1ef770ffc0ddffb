-- Least privilege (../shared/design.md section 7): one role per service, so a compromised or buggy
-- service can do only what it needs. Both are created NOLOGIN; prisma/migrate.ts gives each LOGIN
-- and a password when PROCESSOR_DATABASE_PASSWORD / API_DATABASE_PASSWORD are set, and each
-- service then connects with a DATABASE_URL naming its role. The migration job alone stays the
-- owner of the schema.
--
--   wsm_processor  reads and writes exactly what the merge touches, runs its functions, and makes
--                  its temporary staging tables; never DELETE, TRUNCATE or DDL on the data.
--   wsm_api        SELECT only (LISTEN needs no privilege).
--
-- Roles belong to the whole server, not to one database: created once, if missing (another
-- database on the server, or a concurrent migration, may have created them).
--
-- A new table must be granted here too: the API gets SELECT on every table created later by the
-- migrating role (default privileges below); the processor gets nothing by default. A trigger on
-- a table the processor writes runs as wsm_processor, so whatever the trigger writes must be
-- granted to it as well (ledger_totals below), or its function made SECURITY DEFINER.

DO $$
BEGIN
    CREATE ROLE wsm_processor NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$;

DO $$
BEGIN
    CREATE ROLE wsm_api NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$;

DO $$
BEGIN
    EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO wsm_processor', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO wsm_api', current_database());
END
$$;
GRANT USAGE ON SCHEMA public TO wsm_processor, wsm_api;

-- The processor: what apply_batch, the dead-letter insert, the readiness and offset reads and
-- set_low_stock_threshold do, statement by statement.
GRANT SELECT, INSERT ON events TO wsm_processor;
GRANT SELECT, INSERT, UPDATE ON stock TO wsm_processor;
GRANT SELECT, INSERT, UPDATE ON movements TO wsm_processor;
GRANT SELECT, INSERT ON status_changes TO wsm_processor;
GRANT SELECT, UPDATE ON status_change_counter TO wsm_processor;
GRANT SELECT, INSERT, UPDATE ON consumer_offsets TO wsm_processor;
-- SELECT: INSERT ... ON CONFLICT (topic, partition, offset) reads the arbiter columns.
GRANT SELECT, INSERT ON dead_letters TO wsm_processor;
GRANT SELECT, INSERT ON skipped_offsets TO wsm_processor;
GRANT SELECT, UPDATE ON stock_settings TO wsm_processor;
-- The template of its temporary tables (CREATE TEMP TABLE ... LIKE needs SELECT on it).
GRANT SELECT ON staging_events TO wsm_processor;
-- Written by the statement-level triggers on events, stock and dead_letters.
GRANT SELECT, INSERT, UPDATE ON ledger_totals TO wsm_processor;
-- The ledger's positions are reserved as a block with nextval/setval (apply_batch_ledger).
GRANT USAGE, UPDATE ON SEQUENCE events_seq_seq TO wsm_processor;
GRANT USAGE ON SEQUENCE status_changes_id_seq, dead_letters_id_seq, skipped_offsets_id_seq TO wsm_processor;
GRANT EXECUTE ON FUNCTION
    apply_batch(text, text, integer[], bigint[], bigint[], integer[], bigint[], bigint[]),
    apply_batch_fence(text, text, integer[], bigint[], bigint[], integer[], bigint[], bigint[]),
    apply_batch_classify(),
    apply_batch_decide(),
    apply_batch_ledger(integer, integer),
    apply_batch_stock(integer),
    apply_batch_movements(),
    apply_batch_status_log(integer),
    prepare_batch_session(),
    set_low_stock_threshold(integer),
    stock_status_for(bigint, integer),
    ledger_totals_add(text, bigint),
    ledger_totals_raise(text, bigint)
    TO wsm_processor;

-- The API reads everything the product stores, and nothing else.
GRANT SELECT ON events, stock, movements, status_changes, status_change_counter, consumer_offsets,
    dead_letters, skipped_offsets, stock_settings, ledger_totals TO wsm_api;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO wsm_api;

-- A database migrated before these roles existed (a later-named migration applied first) has
-- tables whose own migration could not grant to them: the console's per-day totals
-- (…_console_stats), written by a trigger on status_changes, so by the processor's merge.
DO $$
BEGIN
    IF to_regclass('public.status_changes_per_day') IS NOT NULL THEN
        GRANT SELECT, INSERT, UPDATE ON status_changes_per_day TO wsm_processor;
        GRANT SELECT ON status_changes_per_day TO wsm_api;
    END IF;
END
$$;
