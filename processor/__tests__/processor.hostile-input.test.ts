import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../lib/testing/database.js';
import { encode, envelope } from '../../lib/testing/envelopes.js';
import { produce, uniqueTopic } from '../../lib/testing/kafka.js';
import { committedCount, getEndpoint, startProcessor, waitFor, type RunningProcessor } from './helpers.js';

// Hostile but legal input on every partition, the valid events behind it: binary keys with 0x00
// bytes, ~1 MB of non-JSON, instants PostgreSQL cannot store, events from before 1970, tombstones.
// Everything invalid is dead-lettered at decode; nothing costs the database a refused write or a
// retry, so the valid events go through in the batches that read them.

let db: TestDatabase;
let processor: RunningProcessor | undefined;
beforeAll(async () => {
  db = await createTestDatabase('hostile');
});
afterAll(async () => {
  await processor?.stop('SIGKILL');
  await db?.drop();
});

function metric(body: string, name: string): number {
  return [...body.matchAll(new RegExp(`^${name}(\\{[^}]*\\})? (\\d+)`, 'gm'))].reduce((sum, match) => sum + Number(match[2]), 0);
}

describe('hostile input on every partition', () => {
  it('is dead-lettered without a refused write or a retry, and the valid events behind it are applied', async () => {
    const topic = uniqueTopic('hostile');
    const groupId = 'hostile-group';
    const valid: ReturnType<typeof envelope>[] = [];
    const messages: Parameters<typeof produce>[1] = [];
    let hostile = 0;
    for (let partition = 0; partition < 4; partition++) {
      const bad = [
        { value: Buffer.from('{"not": "an event"'), key: Buffer.from([0x00, 0xff, partition, 0x00]) },
        { value: randomBytes(999_000), key: 'garbage' },
        { value: encode(envelope({ timestamp: '0000-01-01T00:00:00Z' })), key: 'year-0' },
        { value: encode(envelope({ timestamp: '9999-12-31T23:59:59-12:00' })), key: 'year-10000' },
        { value: encode(envelope({}, { time: Date.parse('9999-12-31T23:59:59.999Z') + 1 })), key: 'time-10000' },
        { value: null, key: 'tombstone' },
      ];
      hostile += bad.length;
      const old = envelope({ timestamp: '1969-07-20T20:17:40Z', quantity: 3 }, { time: -1 });
      const behind = [old, envelope({ quantity: 4 }), envelope({ quantity: 5 })];
      valid.push(...behind);
      messages.push(...bad.map((message) => ({ ...message, partition })), ...behind.map((event) => ({ value: encode(event), key: 'valid', partition })));
    }
    await produce(topic, messages);
    processor = await startProcessor({ DATABASE_URL: db.url, KAFKA_TOPIC: topic, KAFKA_GROUP_ID: groupId, BATCH_MAX_RECORDS: '500', BATCH_MAX_WAIT_MS: '100' });
    await waitFor(
      async () => (await committedCount(db.pool, groupId, topic)) === messages.length,
      60_000,
      async () => `committed ${await committedCount(db.pool, groupId, topic)} of ${messages.length}\n${processor?.output().slice(-3000)}`,
    );

    const applied = await db.pool.query<{ message_id: string }>('SELECT message_id FROM events');
    expect(applied.rows.map((row) => row.message_id).sort()).toEqual(valid.map((event) => event.id).sort());
    const dead = await db.pool.query<{ reason: string; count: string }>('SELECT reason, count(*) FROM dead_letters GROUP BY reason ORDER BY reason');
    expect(Object.fromEntries(dead.rows.map((row) => [row.reason, Number(row.count)]))).toEqual({
      malformed_json: 4 * 2, // the broken JSON and the tombstone
      oversized_message: 4, // the megabyte of garbage
      invalid_timestamp: 4 * 3,
    });
    expect(dead.rows.reduce((sum, row) => sum + Number(row.count), 0)).toBe(hostile);

    const metrics = (await getEndpoint(processor.port, '/metrics')).body;
    expect(metric(metrics, 'wsm_processor_db_errors_total')).toBe(0);
    expect(metric(metrics, 'wsm_processor_db_retries_total')).toBe(0);
    expect((await getEndpoint(processor.port, '/ready')).status).toBe(200);
  }, 150_000);
});
