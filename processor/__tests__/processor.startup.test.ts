import { afterEach, describe, expect, it } from 'vitest';
import { uniqueTopic } from '../../lib/testing/kafka.js';
import { ensureMockTopics } from '../../lib/kafka/topics.js';
import { kafkaBrokers } from '../../lib/testing/kafka.js';
import { startProcessor, type RunningProcessor } from './helpers.js';

// Start-up refuses what would otherwise stall later, naming the setting.

const running: RunningProcessor[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
});

/** Starts a processor that is expected to exit; resolves with its exit code and output. */
async function exitOf(env: Record<string, string>, options: { createTopics?: boolean } = {}): Promise<{ code: number | null; output: string }> {
  const topic = env.KAFKA_TOPIC ?? uniqueTopic('startup');
  const processor = await startProcessor({ DATABASE_URL: 'postgresql://nobody:secret@127.0.0.1:1/none', KAFKA_TOPIC: topic, KAFKA_GROUP_ID: 'startup', ...env }, options);
  running.push(processor);
  const timeout = new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), 45_000).unref());
  const code = await Promise.race([processor.exited, timeout]);
  if (code === 'running') throw new Error(`the processor kept running:\n${processor.output().slice(-2000)}`);
  return { code, output: processor.output() };
}

describe('processor start-up', () => {
  it('refuses a LOG_LEVEL pino does not know, naming it like any other setting', async () => {
    const { code, output } = await exitOf({ LOG_LEVEL: 'loud' });
    expect(code).toBe(1);
    expect(output).toContain('LOG_LEVEL=\\"loud\\"');
  }, 90_000); // its wait: 45 s

  it('names a bad DATABASE_URL without showing its password', async () => {
    const { code, output } = await exitOf({ DATABASE_URL: 'mysql://admin:hunter2-secret@db:3306/warehouse' });
    expect(code).toBe(1);
    expect(output).toContain('DATABASE_URL=\\"mysql://admin:***@db:3306/warehouse\\"');
    expect(output).not.toContain('hunter2');
  }, 90_000); // its wait: 45 s

  it('refuses to start when the dead-letter topic does not exist, naming it', async () => {
    const topic = uniqueTopic('startup');
    await ensureMockTopics(kafkaBrokers(), [topic, `${topic}.notify`]);
    const { code, output } = await exitOf({ KAFKA_TOPIC: topic }, { createTopics: false });
    expect(code).toBe(1);
    expect(output).toContain(`topic ${topic}.dlq (KAFKA_DLQ_TOPIC) does not exist`);
    expect(output).not.toContain('KAFKA_NOTIFY_TOPIC');
  }, 90_000); // its wait: 45 s
});
