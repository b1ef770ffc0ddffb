import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../lib/testing/database.js';
import { encode, envelope } from '../../lib/testing/envelopes.js';
import { produce, uniqueTopic } from '../../lib/testing/kafka.js';
import { committedCount, getEndpoint, startProcessor, waitFor, type RunningProcessor } from './helpers.js';

// Every record that fails on its own ends in the dead-letter table within a bounded number of
// attempts and never stops its partition, whatever the database answers: a record whose merge
// fails with an error that looks transient (here an internal error raised by a trigger for one
// product) is bisected once the database has answered other queries through several failures,
// and a dead letter the database refuses is stored bare. Triggers stand in for database rules
// the processor does not know about.

const running: RunningProcessor[] = [];
const databases: TestDatabase[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
  await Promise.all(databases.splice(0).map((db) => db.drop()));
});

async function runUntilCommitted(db: TestDatabase, messages: Parameters<typeof produce>[1], whileFailing?: (processor: RunningProcessor) => Promise<void>) {
  const topic = uniqueTopic('bounded');
  const groupId = `bounded-${randomUUID()}`;
  await produce(topic, messages);
  const processor = await startProcessor({ DATABASE_URL: db.url, KAFKA_TOPIC: topic, KAFKA_GROUP_ID: groupId, BATCH_MAX_RECORDS: '50', BATCH_MAX_WAIT_MS: '50' });
  running.push(processor);
  await whileFailing?.(processor);
  await waitFor(
    async () => (await committedCount(db.pool, groupId, topic)) === messages.length,
    90_000,
    async () => `committed ${await committedCount(db.pool, groupId, topic)} of ${messages.length}\n${processor.output().slice(-3000)}`,
  );
  return processor;
}

describe('bounded attempts', () => {
  it('dead-letters an event whose merge keeps failing with a transient-looking error while the database answers', async () => {
    const db = await createTestDatabase('bounded');
    databases.push(db);
    const poisoned = randomUUID();
    await db.pool.query(`
      CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.product_id = '${poisoned}' THEN RAISE EXCEPTION 'poisoned product' USING ERRCODE = 'internal_error'; END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER poison BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION poison();`);
    const before = Array.from({ length: 10 }, () => envelope({ quantity: 3 }));
    const pill = envelope({ product_id: poisoned });
    const after = Array.from({ length: 10 }, () => envelope({ quantity: 4 }));
    const stream = [...before, pill, ...after];
    // While the flush fails, /ready says so: a stalled partition never reads as ready.
    const notReady = async (processor: RunningProcessor): Promise<void> => {
      await waitFor(
        async () => {
          const ready = await getEndpoint(processor.port, '/ready').catch(() => ({ status: 0, body: '' }));
          return ready.status === 503 && ready.body.includes('poisoned product');
        },
        60_000,
        () => `/ready never reported the failing flush\n${processor.output().slice(-2000)}`,
      );
    };
    const processor = await runUntilCommitted(db, stream.map((event) => ({ value: encode(event), key: 'one-key', partition: 0 })), notReady);

    const dead = await db.pool.query<{ reason: string; detail: string; offset: string }>('SELECT reason, detail, "offset" FROM dead_letters');
    expect(dead.rows).toEqual([{ reason: 'rejected_by_database', detail: expect.stringContaining('poisoned product') as string, offset: String(before.length) }]);
    const applied = await db.pool.query<{ count: string }>('SELECT count(*) FROM events');
    expect(Number(applied.rows[0]!.count)).toBe(before.length + after.length);
    expect(processor.output()).toContain('treating it as refused');
    // /ready reported the failure while it lasted (notReady above) and is ready again.
    expect((await getEndpoint(processor.port, '/ready')).status).toBe(200);
  }, 180_000);

  it('stores a dead letter the database refuses without its key and payload', async () => {
    const db = await createTestDatabase('bounded');
    databases.push(db);
    await db.pool.query(`
      CREATE FUNCTION refuse_keyed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.message_key IS NOT NULL THEN RAISE EXCEPTION 'keyed dead letters refused' USING ERRCODE = 'check_violation'; END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER refuse_keyed BEFORE INSERT ON dead_letters FOR EACH ROW EXECUTE FUNCTION refuse_keyed();`);
    const valid = envelope({ quantity: 2 });
    const processor = await runUntilCommitted(db, [
      { value: Buffer.from('garbage'), key: 'k', partition: 0 },
      { value: encode(valid), key: 'k', partition: 0 },
    ]);

    const dead = await db.pool.query<{ reason: string; detail: string; message_key: Buffer | null; payload: Buffer; payload_bytes: number }>(
      'SELECT reason, detail, message_key, payload, payload_bytes FROM dead_letters',
    );
    expect(dead.rows).toHaveLength(1);
    expect(dead.rows[0]).toMatchObject({ reason: 'malformed_json', message_key: null, payload_bytes: 7 });
    expect(dead.rows[0]!.payload).toHaveLength(0);
    expect(dead.rows[0]!.detail).toContain('keyed dead letters refused');
    const applied = await db.pool.query<{ message_id: string }>('SELECT message_id FROM events');
    expect(applied.rows).toEqual([{ message_id: valid.id }]);
    expect((await getEndpoint(processor.port, '/ready')).status).toBe(200);
  }, 180_000);
});
