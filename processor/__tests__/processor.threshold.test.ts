import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyEnvelopes } from '../../lib/testing/apply.js';
import { createTestDatabase, type TestDatabase } from '../../lib/testing/database.js';
import { envelope } from '../../lib/testing/envelopes.js';
import { consumeFromStart, uniqueTopic } from '../../lib/testing/kafka.js';
import { NOTIFICATION_TYPES } from '../notifier.js';
import { startProcessor, waitFor, type RunningProcessor } from './helpers.js';

// A processor starting with another LOW_STOCK_THRESHOLD re-evaluates the status of rows no event
// touches (they went stale before the threshold was stored with the data), and announces each
// change on the notification topic like a batch's.

let db: TestDatabase;
let processor: RunningProcessor | undefined;
beforeAll(async () => {
  db = await createTestDatabase('threshold');
});
afterAll(async () => {
  await processor?.stop('SIGKILL');
  await db?.drop();
});

describe('a changed LOW_STOCK_THRESHOLD', () => {
  it('re-evaluates every status at start-up and announces the changes', async () => {
    const [warehouse, product] = [randomUUID(), randomUUID()];
    await applyEnvelopes(db.url, [envelope({ warehouse_id: warehouse, product_id: product, quantity: 15 })]);
    const status = async (): Promise<string | undefined> =>
      (await db.pool.query<{ status: string }>('SELECT status FROM stock WHERE warehouse_id = $1 AND product_id = $2', [warehouse, product])).rows[0]?.status;
    expect(await status()).toBe('available');

    const topic = uniqueTopic('threshold');
    processor = await startProcessor({ DATABASE_URL: db.url, KAFKA_TOPIC: topic, KAFKA_GROUP_ID: 'threshold-group', LOW_STOCK_THRESHOLD: '20' });
    await waitFor(async () => (await status()) === 'low', 30_000, () => `still not low\n${processor?.output().slice(-2000)}`);

    type Notification = { type: string; data: { product_id: string; previous_status?: string; status: string } };
    const announced = (await consumeFromStart(`${topic}.notify`, 2)).map((message) => JSON.parse(message.value!.toString()) as Notification);
    expect(announced).toContainEqual(expect.objectContaining({ type: NOTIFICATION_TYPES.statusChanged, data: expect.objectContaining({ product_id: product, previous_status: 'available', status: 'low' }) as unknown }));
    expect(announced).toContainEqual(expect.objectContaining({ type: NOTIFICATION_TYPES.stockChanged, data: expect.objectContaining({ product_id: product, status: 'low' }) as unknown }));
    const stored = await db.pool.query<{ low_stock_threshold: number }>('SELECT low_stock_threshold FROM stock_settings');
    expect(stored.rows).toEqual([{ low_stock_threshold: 20 }]);
  }, 120_000); // its waits: 30 + 20 s
});
