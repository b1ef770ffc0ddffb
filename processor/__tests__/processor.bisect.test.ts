import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../lib/testing/database.js';
import { envelope } from '../../lib/testing/envelopes.js';
import { uniqueTopic } from '../../lib/testing/kafka.js';
import { expectDatabaseMatchesOracle } from './assertions.js';
import { committedCount, startProcessor, waitFor, type RunningProcessor } from './helpers.js';
import { Oracle } from './oracle.js';
import { generateStream, produceKeyed } from './stream.js';

// A batch the database refuses for a reason retrying cannot fix is bisected until the one record
// behind it is dead-lettered; everything around it is applied. The refusal comes from a trigger
// standing in for a database rule the message validation does not know about.

let db: TestDatabase;
let processor: RunningProcessor | undefined;
beforeAll(async () => {
  db = await createTestDatabase('bisect');
});
afterAll(async () => {
  await processor?.stop('SIGKILL');
  await db?.drop();
});

describe('a record the database refuses', () => {
  it('is dead-lettered alone by bisection, and the rest of its batch is applied', async () => {
    const refusedProduct = randomUUID();
    await db.pool.query(`
      CREATE FUNCTION refuse_product() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.product_id = '${refusedProduct}' THEN
          RAISE EXCEPTION 'product % is blocked', NEW.product_id USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER refuse_product BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION refuse_product();`);

    const topic = uniqueTopic('bisect');
    const groupId = 'bisect-group';
    const stream = generateStream({ movements: 300, seed: 5 });
    const refused = envelope({ product_id: refusedProduct, warehouse_id: stream[0]!.data.warehouse_id, quantity: 1 });
    const withRefused = [...stream.slice(0, 200), refused, ...stream.slice(200)];
    const oracle = Oracle.of(stream);

    await produceKeyed(topic, withRefused);
    processor = await startProcessor({ DATABASE_URL: db.url, KAFKA_TOPIC: topic, KAFKA_GROUP_ID: groupId, BATCH_MAX_RECORDS: '256', BATCH_MAX_WAIT_MS: '200' });
    await waitFor(
      async () => (await committedCount(db.pool, groupId, topic)) === withRefused.length,
      40_000,
      async () => `committed ${await committedCount(db.pool, groupId, topic)} of ${withRefused.length}\n${processor?.output().slice(-2000)}`,
    );

    const dead = await db.pool.query<{ reason: string; detail: string; payload: Buffer }>('SELECT reason, detail, payload FROM dead_letters');
    expect(dead.rows).toHaveLength(1);
    expect(dead.rows[0]).toMatchObject({ reason: 'rejected_by_database' });
    expect(dead.rows[0]!.detail).toContain('is blocked');
    expect(JSON.parse(dead.rows[0]!.payload.toString())).toEqual(refused);
    await expectDatabaseMatchesOracle(db.pool, oracle);
    expect(processor.output()).toContain('bisecting');
  }, 120_000); // its wait: 40 s
});
