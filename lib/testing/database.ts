import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { withDatabase } from '../db/url.js';

/**
 * Test databases: each test file (or test) gets its own database, cloned from the migrated
 * template, so files run in parallel without seeing each other's rows.
 */

export interface TestDatabase {
  name: string;
  url: string;
  /** A pool on this database for assertions. */
  pool: pg.Pool;
  drop(): Promise<void>;
}


/** Runs `fn` with a client connected to the server's maintenance database. */
async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: inject('postgresAdminUrl') });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh migrated database (cloned from the template). */
export async function createTestDatabase(prefix = 't'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  // CREATE DATABASE ... TEMPLATE fails while another session is connected to the template, which
  // only happens for an instant while a parallel file clones it too: retry briefly.
  await withAdmin(async (client) => {
    for (let attempt = 0; ; attempt++) {
      try {
        await client.query(`CREATE DATABASE ${name} TEMPLATE ${inject('templateDatabase')}`);
        return;
      } catch (error) {
        if (attempt >= 20 || (error as { code?: string }).code !== '55006') throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 200));
      }
    }
  });
  return openTestDatabase(name);
}

/** An empty database with no schema at all, for migration tests. */
export async function createEmptyDatabase(prefix = 'empty'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await withAdmin((client) => client.query(`CREATE DATABASE ${name}`));
  return openTestDatabase(name);
}

function openTestDatabase(name: string): TestDatabase {
  const url = withDatabase(inject('postgresAdminUrl'), name);
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  // Idle connections die when a test stops the server's side of them (DROP DATABASE ... FORCE,
  // a proxy cut): expected here, and without a listener the pool would throw it as uncaught.
  pool.on('error', () => undefined);
  return {
    name,
    url,
    pool,
    async drop() {
      await pool.end();
      await withAdmin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}
