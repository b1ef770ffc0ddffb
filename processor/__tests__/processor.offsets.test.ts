import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../lib/testing/database.js';
import { encode, envelope } from '../../lib/testing/envelopes.js';
import { kafkaBrokers, produce, uniqueTopic } from '../../lib/testing/kafka.js';
import { committedCount, getEndpoint, startProcessor, waitFor, type RunningProcessor } from './helpers.js';

// Offsets that skip or go backwards are never dropped silently: a partition whose unread messages
// the broker deleted (the mock cluster keeps ~5 MB per partition) continues from the log start and
// records the gap; a stored offset past the log end (topic recreated) stops that partition and
// fails readiness until `make reset-offsets` moves it, while the other partitions go on.

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const running: RunningProcessor[] = [];
const databases: TestDatabase[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
  await Promise.all(databases.splice(0).map((db) => db.drop()));
});

async function storeOffset(db: TestDatabase, groupId: string, topic: string, partition: number, offset: number): Promise<void> {
  await db.pool.query('INSERT INTO consumer_offsets (group_id, topic, "partition", next_offset) VALUES ($1, $2, $3, $4)', [groupId, topic, partition, offset]);
}

async function storedOffset(db: TestDatabase, groupId: string, topic: string, partition: number): Promise<number> {
  const { rows } = await db.pool.query<{ next_offset: string }>('SELECT next_offset FROM consumer_offsets WHERE group_id = $1 AND topic = $2 AND "partition" = $3', [groupId, topic, partition]);
  return Number(rows[0]?.next_offset ?? -1);
}

describe('offsets out of range', () => {
  it('records messages deleted before they were read, and continues from the log start', async () => {
    const db = await createTestDatabase('offsets');
    databases.push(db);
    const topic = uniqueTopic('retention');
    const groupId = 'retention-group';
    // About 6.5 MB into partition 2: more than the mock cluster keeps, so its first messages go.
    // Random padding, so the producer's lz4 compression cannot shrink it.
    const events = Array.from({ length: 700 }, () => ({ ...envelope({ quantity: 1 }), padding: randomBytes(4500).toString('hex') }));
    await produce(topic, events.map((event) => ({ value: encode(event), key: 'k', partition: 2 })));
    // A processor of this group had read the first 10 before.
    await storeOffset(db, groupId, topic, 2, 10);
    const processor = await startProcessor({ DATABASE_URL: db.url, KAFKA_TOPIC: topic, KAFKA_GROUP_ID: groupId, BATCH_MAX_RECORDS: '200', BATCH_MAX_WAIT_MS: '50' });
    running.push(processor);
    await waitFor(
      async () => (await storedOffset(db, groupId, topic, 2)) === events.length,
      60_000,
      async () => `stored offset ${await storedOffset(db, groupId, topic, 2)} of ${events.length}\n${processor.output().slice(-3000)}`,
    );
    const { rows } = await db.pool.query<{ from_offset: string; to_offset: string }>('SELECT from_offset, to_offset FROM skipped_offsets WHERE topic = $1', [topic]);
    expect(rows).toHaveLength(1);
    const [from, to] = [Number(rows[0]!.from_offset), Number(rows[0]!.to_offset)];
    expect(from).toBe(10);
    expect(to).toBeGreaterThan(10);
    const applied = await db.pool.query<{ count: string }>('SELECT count(*) FROM events');
    expect(Number(applied.rows[0]!.count)).toBe(events.length - to);
    const metrics = (await getEndpoint(processor.port, '/metrics')).body;
    expect(metrics).toMatch(new RegExp(`wsm_processor_skipped_offsets_total\\{service="processor"\\} ${to - from}\\b`));
  }, 150_000);

  it('stops a partition whose stored offset is past the log end, fails readiness, and resumes after make reset-offsets', async () => {
    const db = await createTestDatabase('offsets');
    databases.push(db);
    const topic = uniqueTopic('recreated');
    const groupId = 'recreated-group';
    const onZero = Array.from({ length: 5 }, () => envelope({ quantity: 1 }));
    const onOne = Array.from({ length: 5 }, () => envelope({ quantity: 2 }));
    await produce(topic, [
      ...onZero.map((event) => ({ value: encode(event), key: 'a', partition: 0 })),
      ...onOne.map((event) => ({ value: encode(event), key: 'b', partition: 1 })),
    ]);
    // Stored before the topic was recreated: far past the new log's end.
    await storeOffset(db, groupId, topic, 1, 1000);
    const processor = await startProcessor({ DATABASE_URL: db.url, KAFKA_TOPIC: topic, KAFKA_GROUP_ID: groupId, BATCH_MAX_RECORDS: '10', BATCH_MAX_WAIT_MS: '50' });
    running.push(processor);
    await waitFor(
      async () => (await storedOffset(db, groupId, topic, 0)) === onZero.length && (await getEndpoint(processor.port, '/ready')).status === 503,
      60_000,
      async () => `partition 0 at ${await storedOffset(db, groupId, topic, 0)}, /ready ${JSON.stringify(await getEndpoint(processor.port, '/ready'))}\n${processor.output().slice(-3000)}`,
    );
    const ready = JSON.parse((await getEndpoint(processor.port, '/ready')).body) as { checks: Record<string, string> };
    expect(ready.checks.partitions).toContain('partition 1 stopped: its stored offset 1000 is past the log end 5');
    // The gauge follows within its 1 s refresh.
    await waitFor(
      async () => /wsm_processor_stopped_partitions\{service="processor"\} 1\b/.test((await getEndpoint(processor.port, '/metrics')).body),
      10_000,
      () => 'the stopped-partitions gauge never showed 1',
    );
    expect(await storedOffset(db, groupId, topic, 1)).toBe(1000);

    const reset = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'processor/reset-offsets.ts', '--partition', '1', '--to', 'earliest'], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: db.url, KAFKA_BROKERS: kafkaBrokers(), KAFKA_TOPIC: topic, KAFKA_GROUP_ID: groupId },
    });
    expect(reset.stdout).toContain('stored offset 1000 -> 0');
    await waitFor(
      async () => (await committedCount(db.pool, groupId, topic)) === onZero.length + onOne.length && (await getEndpoint(processor.port, '/ready')).status === 200,
      60_000,
      async () => `committed ${await committedCount(db.pool, groupId, topic)}\n${processor.output().slice(-3000)}`,
    );
    const applied = await db.pool.query<{ count: string }>('SELECT count(*) FROM events');
    expect(Number(applied.rows[0]!.count)).toBe(onZero.length + onOne.length);
  }, 300_000); // its waits: 60 + 10 + 60 s
});
