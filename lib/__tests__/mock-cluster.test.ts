import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { childEnv } from '../testing/child.js';
import { consumeFromStart, kafkaBrokers, produce, uniqueTopic } from '../testing/kafka.js';

const run = promisify(execFile);
const here = path.dirname(new URL(import.meta.url).pathname);

describe('librdkafka mock cluster', () => {
  it('is reachable from a second process: produce in a child, consume here', async () => {
    const topic = uniqueTopic('mock');
    const script = path.join(here, 'fixtures', 'produce-three.ts');
    await run(process.execPath, ['--import', 'tsx', script, kafkaBrokers(), topic], { timeout: 30_000, env: childEnv({ LOG_LEVEL: 'warn' }) });
    const messages = await consumeFromStart(topic, 3);
    expect(messages.map((m) => m.value?.toString()).sort()).toEqual(['one', 'three', 'two']);
  });

  it('keeps per-key order within a partition', async () => {
    const topic = uniqueTopic('order');
    await produce(topic, Array.from({ length: 50 }, (_, i) => ({ value: Buffer.from(String(i)), key: 'same-key' })));
    const messages = await consumeFromStart(topic, 50);
    expect(new Set(messages.map((m) => m.partition)).size).toBe(1);
    expect(messages.map((m) => Number(m.value?.toString()))).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});
