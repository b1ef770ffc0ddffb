import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../lib/testing/database.js';
import type { KafkaMessage } from '../../lib/kafka/client.js';
import { consumeFromStart, uniqueTopic } from '../../lib/testing/kafka.js';
import { NOTIFICATION_TYPES } from '../notifier.js';
import { expectDatabaseMatchesOracle } from './assertions.js';
import { committedCount, getEndpoint, startProcessor, waitFor, type RunningProcessor } from './helpers.js';
import { Oracle } from './oracle.js';
import { generateStream, produceKeyed } from './stream.js';

// A generated stream with known truth, through the mock cluster and the real processor, ends in
// exactly the oracle's state; small batches so the stream spans many of them.

let db: TestDatabase;
let processor: RunningProcessor | undefined;
beforeAll(async () => {
  db = await createTestDatabase('oracle');
});
afterAll(async () => {
  await processor?.stop('SIGKILL');
  await db?.drop();
});

describe('processor against the oracle', () => {
  it('ends in the oracle state for a stream of movements, losses, late arrivals and duplicates', async () => {
    const topic = uniqueTopic('oracle');
    const groupId = 'oracle-group';
    const stream = generateStream({ movements: 1500, seed: 7 });
    const oracle = Oracle.of(stream);
    expect([...oracle.outcomes.values()]).toEqual(expect.arrayContaining(['applied', 'insufficient_stock', 'duplicate_movement_event']));

    await produceKeyed(topic, stream);
    processor = await startProcessor({ DATABASE_URL: db.url, KAFKA_TOPIC: topic, KAFKA_GROUP_ID: groupId, BATCH_MAX_RECORDS: '200', BATCH_MAX_WAIT_MS: '50' });
    await waitFor(
      async () => (await committedCount(db.pool, groupId, topic)) === stream.length,
      45_000,
      async () => `committed ${await committedCount(db.pool, groupId, topic)} of ${stream.length}\n${processor?.output().slice(-3000)}`,
    );
    await expectDatabaseMatchesOracle(db.pool, oracle);

    // Notifications: one stock.changed per key per batch (the last one per key carries the final
    // stock, since the topic is keyed by warehouse) and one stock.status_changed per change.
    type Notification = { type: string; data: { warehouse_id: string; product_id: string; quantity: number } };
    const parse = (read: KafkaMessage[]): Notification[] => read.map((m) => JSON.parse(m.value!.toString()) as Notification);
    const statusCount = (read: KafkaMessage[]): number => parse(read).filter((n) => n.type === NOTIFICATION_TYPES.statusChanged).length;
    const notifications = parse(await consumeFromStart(`${topic}.notify`, (read) => statusCount(read) >= oracle.statusChanges, 30_000));
    expect(notifications.filter((n) => n.type === NOTIFICATION_TYPES.statusChanged)).toHaveLength(oracle.statusChanges);
    const lastStock = new Map<string, number>();
    for (const n of notifications) if (n.type === NOTIFICATION_TYPES.stockChanged) lastStock.set(`${n.data.warehouse_id}/${n.data.product_id}`, n.data.quantity);
    expect(Object.fromEntries(lastStock)).toEqual(Object.fromEntries(oracle.stock));

    const ready = await getEndpoint(processor.port, '/ready');
    expect(ready.status).toBe(200);
    const metrics = await getEndpoint(processor.port, '/metrics');
    expect(metrics.body).toMatch(new RegExp(`wsm_processor_events_consumed_total\\{service="processor"\\} ${stream.length}`));
    expect(await processor.stop('SIGTERM')).toBe(0);
  }, 180_000); // its waits: 45 + 30 s and the shutdown
});
