import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateEnvelope, type Envelope } from '../../lib/event.js';
import { createTestDatabase, type TestDatabase } from '../../lib/testing/database.js';
import { envelope } from '../../lib/testing/envelopes.js';
import { Batch } from '../batch.js';
import { applyBatch, prepareBatchSession } from '../sql/apply-batch.js';
import { copyToStaging } from '../sql/copy-staging.js';

// How the merge reaches existing rows, read from its plans (auto_explain), not from its speed: a
// plan that scans a whole table per batch costs more as the table grows, which no timing test on a
// shared machine would tell apart from noise (prisma/migrations/20261124001000_movements_update_plan).

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('plans');
});
afterAll(async () => db?.drop());

const TOPIC = 'plans.movements';
let offset = 0;

function batchOf(envelopes: readonly Envelope[]): Batch {
  const batch = new Batch(TOPIC);
  for (const e of envelopes) {
    const validated = validateEnvelope(e);
    if (!validated.ok) throw new Error(validated.detail);
    batch.add({ kind: 'event', topic: TOPIC, partition: 0, offset: offset++, key: null, event: validated.event });
  }
  return batch;
}

async function merge(client: pg.Client, batch: Batch): Promise<void> {
  await client.query('BEGIN');
  await copyToStaging(client, batch.events());
  await applyBatch(client, { groupId: 'plans', topic: TOPIC, ranges: batch.partitionRanges, gaps: batch.gaps });
  await client.query('COMMIT');
}

describe('apply_batch plans', () => {
  it('finds a movement\'s first side through the primary key in a session whose first batch met an empty table', { timeout: 120_000 }, async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await prepareBatchSession(client);
      const w = randomUUID();
      // First batch of the session, a full one as after a backlog: no movement exists yet, so every
      // statement is planned against an empty movements table and a large batch.
      await merge(client, batchOf(Array.from({ length: 10_000 }, () => envelope({ warehouse_id: w, event: 'arrival', quantity: 1 }))));
      // 20k movements known by their arrival only.
      const arrivals = Array.from({ length: 20_000 }, () => envelope({ warehouse_id: w, event: 'arrival', quantity: 1 }));
      await merge(client, batchOf(arrivals));
      // Then the departures of ten of them.
      const departures = arrivals.slice(0, 10).map((a) => envelope({ movement_id: a.data.movement_id, product_id: a.data.product_id, event: 'departure', quantity: 1 }));
      const notices: string[] = [];
      client.on('notice', (notice) => notices.push(notice.message ?? ''));
      await client.query("LOAD 'auto_explain'");
      await client.query('SET auto_explain.log_min_duration = 0; SET auto_explain.log_nested_statements = on; SET auto_explain.log_level = notice');
      await merge(client, batchOf(departures));

      const update = notices.find((notice) => notice.includes('Update on movements'));
      expect(update, notices.join('\n---\n')).toBeDefined();
      expect(update).toContain('Index Scan using movements_pkey on movements');
      expect(update).not.toContain('Seq Scan on movements');
      const { rows } = await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM movements WHERE departure_message_id IS NOT NULL AND arrival_message_id IS NOT NULL');
      expect(rows[0]!.n).toBe('10');
    } finally {
      await client.end();
    }
  });
});
