import { appendFile, cp, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, MigrationError, MIGRATIONS_DIR, readMigrations } from '../../lib/db/migrations.js';
import { createEmptyDatabase, createTestDatabase, type TestDatabase } from '../../lib/testing/database.js';

const databases: TestDatabase[] = [];
afterEach(async () => {
  await Promise.all(databases.splice(0).map((db) => db.drop()));
});

async function empty(): Promise<TestDatabase> {
  const db = await createEmptyDatabase('mig');
  databases.push(db);
  return db;
}

describe('migrations', () => {
  it('apply from empty, in order, and record Prisma-compatible bookkeeping', async () => {
    const db = await empty();
    const onDisk = await readMigrations();
    const result = await migrate(db.url);
    expect(result.applied).toEqual(onDisk.map((m) => m.name));
    const recorded = await db.pool.query<{ migration_name: string; checksum: string; applied_steps_count: number; finished_at: Date | null }>(
      'SELECT migration_name, checksum, applied_steps_count, finished_at FROM _prisma_migrations ORDER BY migration_name',
    );
    expect(recorded.rows.map((r) => r.migration_name)).toEqual(onDisk.map((m) => m.name));
    expect(recorded.rows.map((r) => r.checksum)).toEqual(onDisk.map((m) => m.checksum));
    expect(recorded.rows.every((r) => r.finished_at !== null && r.applied_steps_count === 1)).toBe(true);
  });

  it('are a no-op when run again', async () => {
    const db = await empty();
    await migrate(db.url);
    const again = await migrate(db.url);
    expect(again.applied).toEqual([]);
    expect(again.alreadyApplied.length).toBe((await readMigrations()).length);
  });

  it('refuse a migration whose file changed after it was applied', async () => {
    const db = await empty();
    const dir = await mkdtemp(path.join(tmpdir(), 'migrations-'));
    await cp(MIGRATIONS_DIR, dir, { recursive: true });
    await migrate(db.url, dir);
    const [first] = await readMigrations(dir);
    await appendFile(path.join(dir, first!.name, 'migration.sql'), '\n-- edited after the fact\n');
    await expect(migrate(db.url, dir)).rejects.toThrow(MigrationError);
    await expect(migrate(db.url, dir)).rejects.toThrow(/was changed after it was applied/);
  });

  it('roll back a failing migration entirely and record nothing for it', async () => {
    const db = await empty();
    const dir = await mkdtemp(path.join(tmpdir(), 'migrations-'));
    await cp(MIGRATIONS_DIR, dir, { recursive: true });
    const broken = path.join(dir, '29990101000000_broken');
    await mkdir(broken);
    await writeFile(path.join(broken, 'migration.sql'), 'CREATE TABLE half_done (id int);\nSELECT no_such_function();\n');
    await expect(migrate(db.url, dir)).rejects.toThrow(/29990101000000_broken failed/);
    const table = await db.pool.query<{ t: string | null }>("SELECT to_regclass('half_done') AS t");
    expect(table.rows[0]?.t).toBeNull();
    const recorded = await db.pool.query("SELECT 1 FROM _prisma_migrations WHERE migration_name = '29990101000000_broken'");
    expect(recorded.rowCount).toBe(0);
  });
});

describe('schema constraints', () => {
  let db: TestDatabase;
  afterEach(async () => db?.drop());

  it('rejects negative stock with the CHECK constraint', async () => {
    db = await createTestDatabase('chk');
    const insert = db.pool.query(
      `INSERT INTO stock (warehouse_id, product_id, quantity, status, last_message_id)
       VALUES (gen_random_uuid(), gen_random_uuid(), -1, 'out_of_stock', gen_random_uuid())`,
    );
    await expect(insert).rejects.toMatchObject({ code: '23514', constraint: 'stock_quantity_never_negative' });
  });

  it('rejects an update that would take stock below zero', async () => {
    db = await createTestDatabase('chk');
    await db.pool.query(
      `INSERT INTO stock (warehouse_id, product_id, quantity, status, last_message_id)
       VALUES ('00000000-0000-0000-0000-000000000001', '00000000-0000-0000-0000-000000000002', 5, 'low', gen_random_uuid())`,
    );
    await expect(db.pool.query('UPDATE stock SET quantity = quantity - 6')).rejects.toMatchObject({ code: '23514', constraint: 'stock_quantity_never_negative' });
    const { rows } = await db.pool.query<{ quantity: string }>('SELECT quantity FROM stock');
    expect(rows[0]?.quantity).toBe('5');
  });
});
