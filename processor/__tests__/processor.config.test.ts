import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv, startNodeChild } from '../../lib/testing/child.js';
import { createTestDatabase, type TestDatabase } from '../../lib/testing/database.js';
import { createTopics, kafkaBrokers, uniqueTopic } from '../../lib/testing/kafka.js';
import { expectDatabaseMatchesOracle } from './assertions.js';
import { budget, committedCount, PROCESSOR_START_WAIT_MS, startProcessor, waitFor, type RunningProcessor } from './helpers.js';
import { generateStream, produceStream } from './stream.js';

// The configuration as the README states it, at process level: a bad value, a taken port or a
// missing topic stops the processor with exit code 1 naming the variable (never showing a
// secret), and LOW_STOCK_THRESHOLD decides statuses
// end to end.

const EXIT_WAIT_MS = 30_000;
const COMMIT_WAIT_MS = 40_000;

let db: TestDatabase;
const running: RunningProcessor[] = [];
beforeAll(async () => {
  db = await createTestDatabase('config');
});
afterAll(async () => {
  await Promise.all(running.map((p) => p.stop('SIGKILL')));
  await db?.drop();
});

/**
 * Runs the processor with `settings` (on top of a valid configuration) and resolves with its exit
 * code and output. Its three topics are created first, except those `omit` names.
 */
async function exitOf(settings: Record<string, string>, omit: (topic: string) => string[] = () => []): Promise<{ code: number | null; output: string }> {
  const topic = uniqueTopic('config');
  const omitted = omit(topic);
  await createTopics(...[topic, `${topic}.dlq`, `${topic}.notify`].filter((name) => !omitted.includes(name)));
  const child = startNodeChild(
    'processor/main.ts',
    childEnv({
      DATABASE_URL: db.url, KAFKA_BROKERS: kafkaBrokers(), KAFKA_TOPIC: topic, KAFKA_DLQ_TOPIC: `${topic}.dlq`, KAFKA_NOTIFY_TOPIC: `${topic}.notify`,
      PROCESSOR_PORT: '0', LOG_LEVEL: 'info', ...settings,
    }),
  );
  const timer = setTimeout(() => void child.stop('SIGKILL'), EXIT_WAIT_MS);
  const code = await child.exited;
  clearTimeout(timer);
  return { code, output: child.output() };
}

describe('processor configuration', () => {
  it('refuses to start on bad values, naming each variable and its value', async () => {
    const { code, output } = await exitOf({ BATCH_MAX_RECORDS: 'many', LOW_STOCK_THRESHOLD: '-1', KAFKA_BROKERS: 'localhost' });
    expect(code).toBe(1);
    expect(output).toContain('invalid configuration');
    expect(output).toContain('BATCH_MAX_RECORDS=\\"many\\"');
    expect(output).toContain('LOW_STOCK_THRESHOLD=\\"-1\\"');
    expect(output).toContain('KAFKA_BROKERS=\\"localhost\\": a comma-separated host:port list, or \\"mock\\"');
  }, budget([EXIT_WAIT_MS]));

  it('refuses a taken PROCESSOR_PORT, naming it', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const { code, output } = await exitOf({ PROCESSOR_PORT: String(port) });
      expect(code).toBe(1);
      expect(output).toContain(`PROCESSOR_PORT ${port} is already in use`);
    } finally {
      taken.close();
    }
  }, budget([EXIT_WAIT_MS]));

  it('refuses a LOG_LEVEL pino does not know, naming it like any other setting', async () => {
    const { code, output } = await exitOf({ LOG_LEVEL: 'loud' });
    expect(code).toBe(1);
    expect(output).toContain('LOG_LEVEL=\\"loud\\"');
  }, budget([EXIT_WAIT_MS]));

  it('names a bad DATABASE_URL without showing its password', async () => {
    const { code, output } = await exitOf({ DATABASE_URL: 'mysql://admin:hunter2-secret@db:3306/warehouse' });
    expect(code).toBe(1);
    expect(output).toContain('DATABASE_URL=\\"mysql://admin:***@db:3306/warehouse\\"');
    expect(output).not.toContain('hunter2');
  }, budget([EXIT_WAIT_MS]));

  it('refuses to start when the dead-letter topic does not exist, naming it', async () => {
    let topic = '';
    const { code, output } = await exitOf({}, (name) => {
      topic = name;
      return [`${name}.dlq`];
    });
    expect(code).toBe(1);
    expect(output).toContain(`topic ${topic}.dlq (KAFKA_DLQ_TOPIC) does not exist`);
    expect(output).not.toContain('KAFKA_NOTIFY_TOPIC');
  }, budget([EXIT_WAIT_MS]));

  it('decides statuses with a non-default LOW_STOCK_THRESHOLD, end to end', async () => {
    const threshold = 25;
    const topic = uniqueTopic('threshold');
    const groupId = 'threshold-group';
    const stream = generateStream({ movements: 400, seed: 23 });
    const produced = await produceStream(topic, stream);
    const processor = await startProcessor({ DATABASE_URL: db.url, KAFKA_TOPIC: topic, KAFKA_GROUP_ID: groupId, BATCH_MAX_RECORDS: '100', BATCH_MAX_WAIT_MS: '50', LOW_STOCK_THRESHOLD: String(threshold) });
    running.push(processor);
    await waitFor(async () => (await committedCount(db.pool, groupId, topic)) === stream.length, COMMIT_WAIT_MS, () => processor.output().slice(-2000));
    const check = await expectDatabaseMatchesOracle(db.pool, produced, { lowThreshold: threshold });
    // The stream has stock the default threshold would call available and this one calls low.
    const between = [...check.oracle.stock.values()].filter((s) => s.quantity > 10 && s.quantity <= threshold);
    expect(between.length).toBeGreaterThan(0);
    expect(between.every((s) => s.status === 'low')).toBe(true);
  }, budget([PROCESSOR_START_WAIT_MS, COMMIT_WAIT_MS]));
});
