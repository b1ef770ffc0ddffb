import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyEnvelopes } from '../../lib/testing/apply.js';
import { createTestDatabase, type TestDatabase } from '../../lib/testing/database.js';
import { envelope } from '../../lib/testing/envelopes.js';

// The merge's semantics (../shared/design.md section 3), one rule per test, through the real
// write path: COPY into staging and one apply_batch call.

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('merge');
});
afterAll(async () => db?.drop());

async function stockOf(warehouseId: string, productId: string): Promise<{ quantity: number; status: string } | undefined> {
  const { rows } = await db.pool.query<{ quantity: string; status: string }>(
    'SELECT quantity, status FROM stock WHERE warehouse_id = $1 AND product_id = $2',
    [warehouseId, productId],
  );
  return rows[0] && { quantity: Number(rows[0].quantity), status: rows[0].status };
}

async function outcomes(ids: string[]): Promise<string[]> {
  const { rows } = await db.pool.query<{ message_id: string; outcome: string; reject_reason: string | null }>(
    'SELECT message_id, outcome, reject_reason FROM events WHERE message_id = ANY($1::uuid[])',
    [ids],
  );
  const byId = new Map(rows.map((r) => [r.message_id, r.reject_reason ?? r.outcome]));
  return ids.map((id) => byId.get(id) ?? 'missing');
}

describe('apply_batch', () => {
  it('applies departures in order inside one batch, rejecting the one stock cannot cover', async () => {
    const w = randomUUID();
    const p = randomUUID();
    const batch = [
      envelope({ warehouse_id: w, product_id: p, event: 'arrival', quantity: 10 }),
      envelope({ warehouse_id: w, product_id: p, event: 'departure', quantity: 7 }),
      envelope({ warehouse_id: w, product_id: p, event: 'departure', quantity: 5 }),
      envelope({ warehouse_id: w, product_id: p, event: 'arrival', quantity: 4 }),
      envelope({ warehouse_id: w, product_id: p, event: 'departure', quantity: 5 }),
    ];
    const result = await applyEnvelopes(db.url, batch);
    expect(result).toMatchObject({ staged: 5, fresh: 5, applied: 4, insufficient_stock: 1 });
    expect(await outcomes(batch.map((e) => e.id))).toEqual(['applied', 'applied', 'insufficient_stock', 'applied', 'applied']);
    expect(await stockOf(w, p)).toEqual({ quantity: 2, status: 'low' });
  });

  it('rejects a departure from a never-seen pair and creates no stock row', async () => {
    const e = envelope({ event: 'departure', quantity: 1 });
    await applyEnvelopes(db.url, [e]);
    expect(await outcomes([e.id])).toEqual(['insufficient_stock']);
    expect(await stockOf(e.data.warehouse_id, e.data.product_id)).toBeUndefined();
  });

  it('ignores a redelivered message id, in the same batch and in a later one', async () => {
    const e = envelope({ quantity: 3 });
    const first = await applyEnvelopes(db.url, [e, e]);
    expect(first).toMatchObject({ staged: 2, fresh: 1, applied: 1 });
    const again = await applyEnvelopes(db.url, [e]);
    expect(again).toMatchObject({ staged: 1, fresh: 0, applied: 0 });
    expect(await stockOf(e.data.warehouse_id, e.data.product_id)).toMatchObject({ quantity: 3 });
  });

  it('rejects a second departure of one movement under another id, in one batch and across batches', async () => {
    const source = randomUUID();
    const product = randomUUID();
    const movement = randomUUID();
    const supply = envelope({ warehouse_id: source, product_id: product, quantity: 100 });
    const departure = envelope({ movement_id: movement, warehouse_id: source, product_id: product, event: 'departure', quantity: 10 });
    const twin = envelope({ movement_id: movement, warehouse_id: source, product_id: product, event: 'departure', quantity: 10 });
    await applyEnvelopes(db.url, [supply, departure, twin]);
    const late = envelope({ movement_id: movement, warehouse_id: source, product_id: product, event: 'departure', quantity: 10 });
    await applyEnvelopes(db.url, [late]);
    expect(await outcomes([departure.id, twin.id, late.id])).toEqual(['applied', 'duplicate_movement_event', 'duplicate_movement_event']);
    expect(await stockOf(source, product)).toMatchObject({ quantity: 90 });
  });

  it('joins a movement whose arrival comes before its departure, and keeps a rejected departure in it', async () => {
    const movement = randomUUID();
    const product = randomUUID();
    const from = randomUUID();
    const to = randomUUID();
    const arrival = envelope({ movement_id: movement, warehouse_id: to, product_id: product, event: 'arrival', quantity: 95, timestamp: '2025-02-18T16:00:00Z' });
    await applyEnvelopes(db.url, [arrival]);
    let { rows } = await db.pool.query('SELECT * FROM movements WHERE movement_id = $1', [movement]);
    expect(rows[0]).toMatchObject({ destination_warehouse_id: to, quantity_received: 95, departure_message_id: null });

    const departure = envelope({ movement_id: movement, warehouse_id: from, product_id: product, event: 'departure', quantity: 100, timestamp: '2025-02-18T14:34:56Z' });
    await applyEnvelopes(db.url, [departure]);
    expect(await outcomes([departure.id])).toEqual(['insufficient_stock']);
    ({ rows } = await db.pool.query(
      `SELECT source_warehouse_id, quantity_sent, quantity_received, extract(epoch FROM arrived_at - departed_at)::int AS transit
         FROM movements WHERE movement_id = $1`,
      [movement],
    ));
    expect(rows[0]).toEqual({ source_warehouse_id: from, quantity_sent: 100, quantity_received: 95, transit: 5104 });
  });

  it('logs and counts every status change, also several of one key inside a batch', async () => {
    const w = randomUUID();
    const p = randomUUID();
    const before = await db.pool.query<{ total: string }>('SELECT total FROM status_change_counter');
    const batch = [
      envelope({ warehouse_id: w, product_id: p, quantity: 5 }), // out_of_stock -> low
      envelope({ warehouse_id: w, product_id: p, quantity: 20 }), // low -> available
      envelope({ warehouse_id: w, product_id: p, event: 'departure', quantity: 25 }), // available -> out_of_stock
      envelope({ warehouse_id: w, product_id: p, event: 'departure', quantity: 1 }), // rejected: no change
    ];
    const result = await applyEnvelopes(db.url, batch);
    expect(result.status_changes).toBe(3);
    const { rows } = await db.pool.query<{ previous_status: string; status: string; quantity: string }>(
      'SELECT previous_status, status, quantity FROM status_changes WHERE warehouse_id = $1 AND product_id = $2 ORDER BY id',
      [w, p],
    );
    expect(rows.map((r) => `${r.previous_status}>${r.status}@${r.quantity}`)).toEqual([
      'out_of_stock>low@5',
      'low>available@25',
      'available>out_of_stock@0',
    ]);
    const after = await db.pool.query<{ total: string }>('SELECT total FROM status_change_counter');
    expect(Number(after.rows[0]!.total) - Number(before.rows[0]!.total)).toBe(3);
  });

  it('fences a batch whose first offset is behind the stored offset, changing nothing', async () => {
    const topic = `fence.${randomUUID()}`;
    await applyEnvelopes(db.url, [envelope(), envelope()], { topic });
    const { BatchWriter } = await import('../writer.js');
    const { Batch } = await import('../batch.js');
    const { validateEnvelope } = await import('../../lib/event.js');
    const stale = envelope();
    const decoded = validateEnvelope(stale);
    if (!decoded.ok) throw new Error('invalid');
    const batch = Batch.of(topic, [{ kind: 'event', topic, partition: 0, offset: 1, key: null, event: decoded.event }]);
    const writer = new BatchWriter({ databaseUrl: db.url, groupId: 'test-group', collectNotifications: false });
    await expect(writer.write(batch)).rejects.toMatchObject({ name: 'FencedError' });
    await writer.close();
    expect(await outcomes([stale.id])).toEqual(['missing']);
  });
});
