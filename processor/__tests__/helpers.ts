import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { freePort } from '../../lib/db/embedded-postgres.js';
import { ensureMockTopics } from '../../lib/kafka/topics.js';
import { kafkaBrokers } from '../../lib/testing/kafka.js';
import { roleUrl } from '../../lib/testing/roles.js';

/** Helpers for processor tests that run the real processor as a child process. */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface RunningProcessor {
  child: ChildProcess;
  port: number;
  /** Everything the process printed, for diagnosing a failure. */
  output(): string;
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

export interface ProcessorEnv {
  DATABASE_URL: string;
  KAFKA_TOPIC: string;
  KAFKA_GROUP_ID: string;
  BATCH_MAX_RECORDS?: string;
  BATCH_MAX_WAIT_MS?: string;
  [name: string]: string | undefined;
}

/**
 * Starts `processor/main.ts` against the test's database and the run's mock cluster, creating its
 * three topics first (the processor refuses to start without them) unless `createTopics` is false.
 */
export async function startProcessor(env: ProcessorEnv, options: { createTopics?: boolean } = {}): Promise<RunningProcessor> {
  const port = await freePort();
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    KAFKA_BROKERS: kafkaBrokers(),
    KAFKA_DLQ_TOPIC: `${env.KAFKA_TOPIC}.dlq`,
    KAFKA_NOTIFY_TOPIC: `${env.KAFKA_TOPIC}.notify`,
    PROCESSOR_PORT: String(port),
    LOG_LEVEL: process.env.TEST_PROCESSOR_LOG_LEVEL ?? 'info',
    ...env,
    // As in production: the processor's own role, with only the privileges it needs.
    DATABASE_URL: /^postgres(ql)?:\/\//.test(env.DATABASE_URL) ? roleUrl(env.DATABASE_URL, 'processor') : env.DATABASE_URL,
  };
  if (options.createTopics ?? true) {
    await ensureMockTopics(kafkaBrokers(), [childEnv.KAFKA_TOPIC!, childEnv.KAFKA_DLQ_TOPIC!, childEnv.KAFKA_NOTIFY_TOPIC!]);
  }
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'processor/main.ts')], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    port,
    output: () => output,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
  };
}

/** Polls `check` every 100 ms until it returns true, or fails after `timeoutMs` with `describe()`. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, describe: () => string | Promise<string>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${await describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Sum of stored next offsets of a group's topic: equals the messages consumed from a fresh topic. */
export async function committedCount(pool: pg.Pool, groupId: string, topic: string): Promise<number> {
  const { rows } = await pool.query<{ total: string | null }>(
    'SELECT sum(next_offset) AS total FROM consumer_offsets WHERE group_id = $1 AND topic = $2',
    [groupId, topic],
  );
  return Number(rows[0]?.total ?? 0);
}

/** GET a processor endpoint; resolves with status and body text. */
export async function getEndpoint(port: number, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: await response.text() };
}
