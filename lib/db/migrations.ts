import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createLogger } from '../log.js';
import { connectionConfig } from './connection.js';

/**
 * Applies the SQL migrations in prisma/migrations, in name order, each in its own transaction,
 * recording them in Prisma's own bookkeeping table so that `prisma migrate deploy` (which needs
 * an engine binary this build cannot download) agrees wherever it can run.
 *
 * The table layout and the checksum (SHA-256 of migration.sql, hex) are Prisma's:
 * https://www.prisma.io/docs/orm/prisma-migrate/understanding-prisma-migrate/migration-histories
 */

export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../prisma/migrations');

const log = createLogger('migrations');

/** Longest one migration statement may run (see migrate()). */
const MIGRATION_STATEMENT_TIMEOUT_MS = 30 * 60_000;

// Serialises concurrent runners (two processors starting at once); any constant works.
const MIGRATION_LOCK_KEY = 7_212_301;

const CREATE_BOOKKEEPING = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

/** Thrown when a migration that was already applied has changed on disk, or failed before. */
export class MigrationError extends Error {
  override name = 'MigrationError';
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: string[];
}

/** Reads every `<name>/migration.sql` under `dir`, sorted by name. */
export async function readMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(path.join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    }),
  );
}

/**
 * Applies pending migrations to the database at `databaseUrl`. Idempotent: applied migrations
 * are skipped; a changed applied migration, or one recorded as failed, stops the run.
 */
export async function migrate(databaseUrl: string, dir = MIGRATIONS_DIR): Promise<MigrateResult> {
  const migrations = await readMigrations(dir);
  // Keep-alive and a connect timeout so a vanished database fails the run instead of hanging it;
  // statements may legitimately run long (a backfill over a large table), hence 30 minutes.
  const client = new pg.Client(connectionConfig(databaseUrl, { applicationName: 'migrate', statementTimeoutMs: MIGRATION_STATEMENT_TIMEOUT_MS }));
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await client.query(CREATE_BOOKKEEPING);
    const recorded = await client.query<{ migration_name: string; checksum: string; finished_at: Date | null; rolled_back_at: Date | null }>(
      'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL',
    );
    const byName = new Map(recorded.rows.map((row) => [row.migration_name, row]));
    const result: MigrateResult = { applied: [], alreadyApplied: [] };

    for (const migration of migrations) {
      const previous = byName.get(migration.name);
      if (previous) {
        if (previous.finished_at === null) {
          throw new MigrationError(`migration ${migration.name} is recorded as started but not finished; resolve it by hand`);
        }
        if (previous.checksum !== migration.checksum) {
          throw new MigrationError(
            `migration ${migration.name} was changed after it was applied (checksum ${previous.checksum} in the database, ${migration.checksum} on disk); add a new migration instead`,
          );
        }
        result.alreadyApplied.push(migration.name);
        continue;
      }
      await applyOne(client, migration);
      result.applied.push(migration.name);
    }
    return result;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await client.end();
  }
}

async function applyOne(client: pg.Client, migration: Migration): Promise<void> {
  const started = Date.now();
  await client.query('BEGIN');
  try {
    await client.query(migration.sql);
    await client.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
       VALUES ($1, $2, $3, now(), now(), 1)`,
      [randomUUID(), migration.checksum, migration.name],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw new MigrationError(`migration ${migration.name} failed: ${(error as Error).message}`, { cause: error });
  }
  log.info({ migration: migration.name, durationMs: Date.now() - started }, 'migration applied');
}
