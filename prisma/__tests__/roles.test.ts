import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scramVerifier } from '../../lib/db/roles.js';
import { createEmptyDatabase, createTestDatabase, type TestDatabase } from '../../lib/testing/database.js';
import { roleUrl, TEST_ROLE_PASSWORDS } from '../../lib/testing/roles.js';

// The services' roles (prisma/migrations/…_roles): the API reads and cannot write; the processor
// writes what it owns and nothing more; the migration job gives them LOGIN and a password.

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('roles');
});
afterAll(async () => db?.drop());

async function as<T>(role: 'processor' | 'api', fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: roleUrl(db.url, role) });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const TABLES = ['events', 'stock', 'movements', 'status_changes', 'status_change_counter', 'consumer_offsets', 'dead_letters', 'skipped_offsets', 'stock_settings', 'ledger_totals', 'ledger_batches'];

describe('wsm_api', () => {
  it('reads every table and LISTENs', async () => {
    await as('api', async (client) => {
      for (const table of TABLES) await expect(client.query(`SELECT count(*) FROM ${table}`), table).resolves.toBeDefined();
      await expect(client.query('LISTEN stock_status_changes')).resolves.toBeDefined();
    });
  });

  it('cannot write, delete or change the schema', async () => {
    await as('api', async (client) => {
      await expect(client.query("UPDATE stock_settings SET low_stock_threshold = 1")).rejects.toMatchObject({ code: '42501' });
      await expect(client.query('DELETE FROM events')).rejects.toMatchObject({ code: '42501' });
      await expect(client.query("INSERT INTO ledger_totals (name, value) VALUES ('x', 1)")).rejects.toMatchObject({ code: '42501' });
      await expect(client.query('CREATE TABLE api_was_here (id int)')).rejects.toMatchObject({ code: '42501' });
      await expect(client.query('SELECT set_low_stock_threshold(1)')).rejects.toMatchObject({ code: '42501' });
    });
  });
});

describe('wsm_processor', () => {
  it('never deletes, truncates, rewrites the ledger or changes the schema', async () => {
    await as('processor', async (client) => {
      await expect(client.query('DELETE FROM events')).rejects.toMatchObject({ code: '42501' });
      await expect(client.query('UPDATE events SET quantity = 1')).rejects.toMatchObject({ code: '42501' });
      await expect(client.query('TRUNCATE stock')).rejects.toMatchObject({ code: '42501' });
      await expect(client.query('DELETE FROM dead_letters')).rejects.toMatchObject({ code: '42501' });
      await expect(client.query('UPDATE ledger_batches SET received_at = now()')).rejects.toMatchObject({ code: '42501' });
      await expect(client.query('DROP TABLE movements')).rejects.toMatchObject({ code: '42501' });
      await expect(client.query('CREATE TABLE processor_was_here (id int)')).rejects.toMatchObject({ code: '42501' });
      // Its own temporary tables it may make (prepare_batch_session).
      await expect(client.query('SELECT prepare_batch_session()')).resolves.toBeDefined();
    });
  });
});

describe('the migration job', () => {
  it('stores the same SCRAM verifier PostgreSQL computes for a password', async () => {
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      const role = `scram_check_${Date.now()}`;
      await admin.query(`SET password_encryption = 'scram-sha-256'; CREATE ROLE ${role} PASSWORD 'correct horse battery staple'`);
      const { rows } = await admin.query<{ rolpassword: string }>('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [role]);
      await admin.query(`DROP ROLE ${role}`);
      const stored = rows[0]!.rolpassword;
      const [, iterations, salt] = /^SCRAM-SHA-256\$(\d+):([^$]+)\$/.exec(stored)!;
      expect(scramVerifier('correct horse battery staple', Buffer.from(salt!, 'base64'), Number(iterations))).toBe(stored);
    } finally {
      await admin.end();
    }
  });

  it('gives the roles LOGIN and their passwords when it has them', async () => {
    const empty = await createEmptyDatabase('roles');
    try {
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'prisma/migrate.ts'], {
        cwd: ROOT,
        env: { ...process.env, DATABASE_URL: empty.url, PROCESSOR_DATABASE_PASSWORD: TEST_ROLE_PASSWORDS.processor, API_DATABASE_PASSWORD: TEST_ROLE_PASSWORDS.api },
      });
      expect(stdout).toContain('LOGIN with the given password: wsm_processor, wsm_api');
      expect(stdout).not.toContain(TEST_ROLE_PASSWORDS.processor);
      for (const role of ['processor', 'api'] as const) {
        const client = new pg.Client({ connectionString: roleUrl(empty.url, role) });
        await client.connect();
        const { rows } = await client.query<{ user: string }>('SELECT current_user AS user');
        await client.end();
        expect(rows[0]!.user).toBe(role === 'processor' ? 'wsm_processor' : 'wsm_api');
      }
    } finally {
      await empty.drop();
    }
  });
});
