import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateEnvelope } from '../../lib/event.js';
import { createTestDatabase, type TestDatabase } from '../../lib/testing/database.js';
import { envelope } from '../../lib/testing/envelopes.js';
import { Batch } from '../batch.js';
import { applyBatch, prepareBatchSession } from '../sql/apply-batch.js';
import { copyToStaging } from '../sql/copy-staging.js';

// Received order is ledger order (prisma/migrations/20261124000900_ledger_batches): the API pages
// a received-time range on ledger positions, so a batch that began before another but merged
// after it must not carry the earlier time.

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('received');
});
afterAll(async () => db?.drop());

async function session(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  await prepareBatchSession(client);
  return client;
}

/** One processor's batch of `count` arrivals for one key, read from its own partition. */
function batchOf(partition: number, warehouseId: string, productId: string, count: number): Batch {
  const batch = new Batch('received.movements');
  for (let offset = 0; offset < count; offset++) {
    const validated = validateEnvelope(envelope({ warehouse_id: warehouseId, product_id: productId, event: 'arrival', quantity: 1 }));
    if (!validated.ok) throw new Error(validated.detail);
    batch.add({ kind: 'event', topic: 'received.movements', partition, offset, key: null, event: validated.event });
  }
  return batch;
}

async function merge(client: pg.Client, batch: Batch): Promise<void> {
  await copyToStaging(client, batch.events());
  await applyBatch(client, { groupId: 'received', topic: 'received.movements', ranges: batch.partitionRanges, gaps: batch.gaps });
}

describe('received_at', () => {
  it('grows along the ledger: a batch that began first and merged second is stored just after the other', async () => {
    const [early, late] = [await session(), await session()];
    const [w, pEarly, pLate] = [randomUUID(), randomUUID(), randomUUID()];
    try {
      await early.query('BEGIN');
      const { rows: began } = await early.query<{ at: Date }>('SELECT now() AS at');
      await new Promise((resolve) => setTimeout(resolve, 20));
      await late.query('BEGIN');
      await merge(late, batchOf(1, w, pLate, 3));
      await late.query('COMMIT');
      await merge(early, batchOf(0, w, pEarly, 2));
      await early.query('COMMIT');

      // In microseconds since the epoch (a JavaScript Date keeps milliseconds only).
      const micros = "(extract(epoch FROM received_at) * 1000000)::bigint::text";
      const { rows } = await db.pool.query<{ product_id: string; seq: string; received_us: string }>(
        `SELECT product_id, seq, ${micros} AS received_us FROM events WHERE warehouse_id = $1 ORDER BY seq`,
        [w],
      );
      expect(rows.map((r) => r.product_id)).toEqual([pLate, pLate, pLate, pEarly, pEarly]);
      const lateUs = BigInt(rows[0]!.received_us);
      expect(lateUs).toBeGreaterThan(BigInt(began[0]!.at.getTime()) * 1000n);
      // Lifted to just after the batch before it, not its own transaction's start.
      expect(rows.map((r) => BigInt(r.received_us))).toEqual([lateUs, lateUs, lateUs, lateUs + 1n, lateUs + 1n]);

      const { rows: batches } = await db.pool.query<{ first_seq: string; last_seq: string; received_us: string }>(
        `SELECT first_seq, last_seq, ${micros} AS received_us FROM ledger_batches ORDER BY first_seq`,
      );
      expect(batches).toHaveLength(2);
      const seqs = rows.map((r) => Number(r.seq));
      expect(seqs.slice(0, 3).every((s) => s >= Number(batches[0]!.first_seq) && s <= Number(batches[0]!.last_seq))).toBe(true);
      expect(seqs.slice(3).every((s) => s >= Number(batches[1]!.first_seq) && s <= Number(batches[1]!.last_seq))).toBe(true);
      expect(batches.map((b) => BigInt(b.received_us))).toEqual([lateUs, lateUs + 1n]);

      // The stock rows a batch changes carry its received time (the API's stock as of an instant).
      const { rows: stock } = await db.pool.query<{ updated_us: string }>(
        'SELECT (extract(epoch FROM updated_at) * 1000000)::bigint::text AS updated_us FROM stock WHERE warehouse_id = $1 AND product_id = $2',
        [w, pEarly],
      );
      expect(BigInt(stock[0]!.updated_us)).toBe(lateUs + 1n);
    } finally {
      await early.end();
      await late.end();
    }
  });

  it('records no batch for a merge that wrote no ledger row (a redelivery)', async () => {
    const client = await session();
    try {
      const before = (await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM ledger_batches')).rows[0]!.n;
      const batch = batchOf(2, randomUUID(), randomUUID(), 2);
      await client.query('BEGIN');
      await merge(client, batch);
      await client.query('COMMIT');
      // The same records again, from the next offsets: every message id is in the ledger already.
      const again = new Batch('received.movements');
      batch.events().forEach((record, i) => again.add({ ...record, offset: 2 + i }));
      await client.query('BEGIN');
      await merge(client, again);
      await client.query('COMMIT');
      expect((await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM ledger_batches')).rows[0]!.n).toBe(String(Number(before) + 1));
    } finally {
      await client.end();
    }
  });
});
