import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateEnvelope } from '../../lib/event.js';
import { applyEnvelopes } from '../../lib/testing/apply.js';
import { createTestDatabase, type TestDatabase } from '../../lib/testing/database.js';
import { envelope } from '../../lib/testing/envelopes.js';
import { Batch } from '../batch.js';
import type { ApplyResult } from '../sql/apply-batch.js';
import { setLowStockThreshold } from '../sql/stock-settings.js';
import { BatchWriter } from '../writer.js';

// The edge cases of ../shared/design.md section 3 at merge level, through the real write path
// (COPY into staging and one apply_batch call).

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('edge');
});
afterAll(async () => db?.drop());

describe('instants', () => {
  it('stores the first instant of year 1 and the last of year 9999 exactly', async () => {
    const first = envelope({ timestamp: '0001-01-01T00:00:00Z' }, { time: Date.parse('0001-01-01T00:00:00Z') });
    const last = envelope({ timestamp: '9999-12-31T23:59:59.999Z' }, { time: Date.parse('9999-12-31T23:59:59.999Z') });
    await applyEnvelopes(db.url, [first, last]);
    const { rows } = await db.pool.query<{ message_id: string; event_time: string; produced_at: string }>(
      `SELECT message_id, to_char(event_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS') AS event_time,
              to_char(produced_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS') AS produced_at
         FROM events WHERE message_id = ANY($1::uuid[]) ORDER BY event_time`,
      [[first.id, last.id]],
    );
    expect(rows).toEqual([
      { message_id: first.id, event_time: '0001-01-01T00:00:00.000', produced_at: '0001-01-01T00:00:00.000' },
      { message_id: last.id, event_time: '9999-12-31T23:59:59.999', produced_at: '9999-12-31T23:59:59.999' },
    ]);
  });

  it('applies an event from before 1970 alone in its batch', async () => {
    const old = envelope({ timestamp: '1969-07-20T20:17:40Z', quantity: 7 });
    const result = await applyEnvelopes(db.url, [old]);
    expect(result).toMatchObject({ staged: 1, applied: 1 });
  });
});

async function outcomes(ids: string[]): Promise<string[]> {
  const { rows } = await db.pool.query<{ message_id: string; outcome: string; reject_reason: string | null }>(
    'SELECT message_id, outcome, reject_reason FROM events WHERE message_id = ANY($1::uuid[])',
    [ids],
  );
  const byId = new Map(rows.map((r) => [r.message_id, r.reject_reason ?? r.outcome]));
  return ids.map((id) => byId.get(id) ?? 'missing');
}

async function quantityOf(warehouseId: string, productId: string): Promise<number | undefined> {
  const { rows } = await db.pool.query<{ quantity: string }>('SELECT quantity FROM stock WHERE warehouse_id = $1 AND product_id = $2', [warehouseId, productId]);
  return rows[0] && Number(rows[0].quantity);
}

describe('a message id reused with different content', () => {
  it('keeps the first occurrence; a later copy in the batch changes nothing and does not take its movement side', async () => {
    const [w1, w2, p, m, n] = [randomUUID(), randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const supply = envelope({ warehouse_id: w1, product_id: p, quantity: 100 });
    const first = envelope({ movement_id: m, warehouse_id: w1, product_id: p, event: 'departure', quantity: 10 });
    // Same id, other content: an arrival of movement n.
    const reused = envelope({ movement_id: n, warehouse_id: w2, product_id: p, event: 'arrival', quantity: 5 }, { id: first.id });
    const arrival = envelope({ movement_id: n, warehouse_id: w2, product_id: p, event: 'arrival', quantity: 7 });
    const result = await applyEnvelopes(db.url, [supply, first, reused, arrival]);
    expect(await outcomes([first.id, arrival.id])).toEqual(['applied', 'applied']);
    expect(result).toMatchObject({ staged: 4, fresh: 3, applied: 3, duplicate_movement_event: 0, conflicting: 1 });
    expect(await quantityOf(w1, p)).toBe(90);
    expect(await quantityOf(w2, p)).toBe(7);
    const { rows } = await db.pool.query('SELECT arrival_message_id, quantity_received FROM movements WHERE movement_id = $1', [n]);
    expect(rows).toEqual([{ arrival_message_id: arrival.id, quantity_received: 7 }]);
    const stored = await db.pool.query('SELECT event, quantity FROM events WHERE message_id = $1', [first.id]);
    expect(stored.rows).toEqual([{ event: 'departure', quantity: 10 }]);
  });

  it('ignores a later batch\'s copy with other content, which does not take its movement side either', async () => {
    const [w, p, q] = [randomUUID(), randomUUID(), randomUUID()];
    const original = envelope({ warehouse_id: w, product_id: p, quantity: 4 });
    await applyEnvelopes(db.url, [original]);
    const copy = envelope({ movement_id: q, warehouse_id: w, product_id: p, event: 'arrival', quantity: 50 }, { id: original.id });
    const arrival = envelope({ movement_id: q, warehouse_id: w, product_id: p, event: 'arrival', quantity: 6 });
    const same = { ...original };
    const result = await applyEnvelopes(db.url, [copy, arrival, same]);
    expect(await outcomes([arrival.id])).toEqual(['applied']);
    expect(result).toMatchObject({ staged: 3, fresh: 1, applied: 1, duplicate_movement_event: 0, conflicting: 1 });
    expect(await quantityOf(w, p)).toBe(10);
  });
});

describe('the two sides of a movement naming different products', () => {
  it('moves each side\'s own stock and flags the movement, in either order', async () => {
    const [from, to, p1, p2] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const m = randomUUID();
    await applyEnvelopes(db.url, [envelope({ warehouse_id: from, product_id: p1, quantity: 30 })]);
    // The arrival first, in its own batch: the movement starts with the arrival's product.
    await applyEnvelopes(db.url, [envelope({ movement_id: m, warehouse_id: to, product_id: p2, event: 'arrival', quantity: 9 })]);
    let { rows } = await db.pool.query('SELECT product_id, departure_product_id, arrival_product_id, product_mismatch FROM movements WHERE movement_id = $1', [m]);
    expect(rows).toEqual([{ product_id: p2, departure_product_id: null, arrival_product_id: p2, product_mismatch: false }]);
    await applyEnvelopes(db.url, [envelope({ movement_id: m, warehouse_id: from, product_id: p1, event: 'departure', quantity: 10 })]);
    ({ rows } = await db.pool.query('SELECT product_id, departure_product_id, arrival_product_id, product_mismatch FROM movements WHERE movement_id = $1', [m]));
    expect(rows).toEqual([{ product_id: p1, departure_product_id: p1, arrival_product_id: p2, product_mismatch: true }]);
    expect(await quantityOf(from, p1)).toBe(20);
    expect(await quantityOf(to, p2)).toBe(9);
    expect(await quantityOf(to, p1)).toBeUndefined();
  });

  it('flags a movement whose two sides arrive in one batch', async () => {
    const [from, to, p1, p2, m] = [randomUUID(), randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    await applyEnvelopes(db.url, [
      envelope({ warehouse_id: from, product_id: p1, quantity: 30 }),
      envelope({ movement_id: m, warehouse_id: from, product_id: p1, event: 'departure', quantity: 10 }),
      envelope({ movement_id: m, warehouse_id: to, product_id: p2, event: 'arrival', quantity: 10 }),
    ]);
    const { rows } = await db.pool.query('SELECT product_id, departure_product_id, arrival_product_id, product_mismatch FROM movements WHERE movement_id = $1', [m]);
    expect(rows).toEqual([{ product_id: p1, departure_product_id: p1, arrival_product_id: p2, product_mismatch: true }]);
  });
});

describe('offsets the log jumped over', () => {
  async function writeAt(topic: string, offsets: number[]): Promise<ApplyResult> {
    const records = offsets.map((offset) => {
      const decoded = validateEnvelope(envelope());
      if (!decoded.ok) throw new Error('invalid');
      return { kind: 'event' as const, topic, partition: 2, offset, key: null, event: decoded.event };
    });
    const writer = new BatchWriter({ databaseUrl: db.url, groupId: 'test-group', collectNotifications: false });
    try {
      return (await writer.write(Batch.of(topic, records))).apply;
    } finally {
      await writer.close();
    }
  }

  it('are recorded, between the stored offset and a batch and inside a batch', async () => {
    const topic = `gap.${randomUUID()}`;
    expect((await writeAt(topic, [0, 1, 2])).skipped_offsets).toBe(0);
    expect((await writeAt(topic, [5, 6, 9])).skipped_offsets).toBe(4);
    const { rows } = await db.pool.query(
      'SELECT "partition", from_offset::int, to_offset::int FROM skipped_offsets WHERE topic = $1 ORDER BY from_offset',
      [topic],
    );
    expect(rows).toEqual([
      { partition: 2, from_offset: 3, to_offset: 5 },
      { partition: 2, from_offset: 7, to_offset: 9 },
    ]);
  });
});

describe('the low-stock threshold stored with the data', () => {
  it('re-evaluates every status once when it changes, logging, counting and announcing each change; merges use it', async () => {
    const [w, p1, p2, p3] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const fifteen = envelope({ warehouse_id: w, product_id: p1, quantity: 15 });
    await applyEnvelopes(db.url, [fifteen, envelope({ warehouse_id: w, product_id: p2, quantity: 5 })]);
    const counterBefore = Number((await db.pool.query<{ total: string }>('SELECT total FROM status_change_counter')).rows[0]!.total);
    const listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    const notified: string[] = [];
    listener.on('notification', (message) => notified.push(message.payload ?? ''));
    await listener.query('LISTEN stock_status_changes');
    try {
      const change = await setLowStockThreshold(db.pool, 20);
      expect(change).toMatchObject({ changed: true, previous: 10 });
      const logged = await db.pool.query(
        'SELECT warehouse_id, product_id, previous_status, status, quantity::int, message_id FROM status_changes WHERE id BETWEEN $1 AND $2',
        [change.first_status_change_id, change.last_status_change_id],
      );
      expect(logged.rows).toContainEqual({ warehouse_id: w, product_id: p1, previous_status: 'available', status: 'low', quantity: 15, message_id: fifteen.id });
      expect(logged.rows.some((row: { product_id: string }) => row.product_id === p2)).toBe(false);
      const statuses = await db.pool.query<{ count: string }>("SELECT count(*) FROM stock WHERE quantity BETWEEN 11 AND 20 AND status <> 'low'");
      expect(Number(statuses.rows[0]!.count)).toBe(0);
      const counterAfter = Number((await db.pool.query<{ total: string }>('SELECT total FROM status_change_counter')).rows[0]!.total);
      expect(counterAfter - counterBefore).toBe(change.status_changes);
      await waitUntil(() => notified.length > 0);
      expect(JSON.parse(notified[0]!)).toMatchObject({ first_id: change.first_status_change_id, count: change.status_changes });

      expect(await setLowStockThreshold(db.pool, 20)).toMatchObject({ changed: false, status_changes: 0 });
      const merged = await applyEnvelopes(db.url, [envelope({ warehouse_id: w, product_id: p3, quantity: 18 })]);
      expect(merged.low_stock_threshold).toBe(20);
      const { rows } = await db.pool.query('SELECT status FROM stock WHERE warehouse_id = $1 AND product_id = $2', [w, p3]);
      expect(rows).toEqual([{ status: 'low' }]);
    } finally {
      await setLowStockThreshold(db.pool, 10);
      await listener.end();
    }
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('dead-letter ids', () => {
  it('grow in commit order, so keyset paging never skips one committed later with a smaller id', async () => {
    // A trigger holds the insert of a dead letter whose detail is "hold" until the test lets it go.
    await db.pool.query(`
      CREATE FUNCTION hold_dead_letter() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.detail = 'hold' THEN PERFORM pg_advisory_xact_lock(4242); END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER hold_dead_letter BEFORE INSERT ON dead_letters FOR EACH ROW EXECUTE FUNCTION hold_dead_letter();`);
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    const writers = [1, 2].map(() => new BatchWriter({ databaseUrl: db.url, groupId: 'test-group', collectNotifications: false }));
    const deadLetter = (topic: string, detail: string) =>
      Batch.of(topic, [{ kind: 'dead_letter', topic, partition: 0, offset: 0, key: null, reason: 'malformed_json', detail, payload: Buffer.from('x'), payloadBytes: 1 }]);
    const lockWaiters = async (): Promise<number> =>
      Number((await db.pool.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'advisory'")).rows[0]!.n);
    try {
      await holder.query('SELECT pg_advisory_lock(4242)');
      const completed: string[] = [];
      const [topicA, topicB] = [`order.${randomUUID()}`, `order.${randomUUID()}`];
      const a = writers[0]!.write(deadLetter(topicA, 'hold')).then(() => completed.push(topicA));
      await waitUntilAsync(async () => (await lockWaiters()) >= 1);
      const b = writers[1]!.write(deadLetter(topicB, 'plain')).then(() => completed.push(topicB));
      // B either commits at once (its id allocated after A's) or waits for A's merge lock.
      await waitUntilAsync(async () => completed.length > 0 || (await lockWaiters()) >= 2);
      await holder.query('SELECT pg_advisory_unlock(4242)');
      await Promise.all([a, b]);
      const { rows } = await db.pool.query<{ topic: string }>('SELECT topic FROM dead_letters WHERE topic = ANY($1::text[]) ORDER BY id', [[topicA, topicB]]);
      expect(rows.map((row) => row.topic)).toEqual(completed);
    } finally {
      await holder.end();
      await Promise.all(writers.map((writer) => writer.close()));
      await db.pool.query('DROP TRIGGER hold_dead_letter ON dead_letters; DROP FUNCTION hold_dead_letter()');
    }
  }, 120_000); // its waits: 2 x 20 s
});

async function waitUntilAsync(condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
