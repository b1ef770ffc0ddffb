import type pg from 'pg';
import { childEnv, startNodeChild, type LogLine, type TestChild } from '../../lib/testing/child.js';
import { createTopics, kafkaBrokers } from '../../lib/testing/kafka.js';
import { roleUrl } from '../../lib/testing/roles.js';

/** Helpers for processor tests that run the real processor as a child process. */

/**
 * The group's session timeout in tests (KAFKA_SESSION_TIMEOUT_MS). A SIGKILLed instance keeps
 * its partitions in the group until its session expires, and the mock cluster also waits up to
 * the session timeout for members to rejoin a rebalance: the default 10 s made every restart in
 * the crash tests cost 15-20 s. Heartbeats come from librdkafka's own thread, so a busy test
 * machine does not make a live member miss 4 s of them.
 */
export const TEST_SESSION_TIMEOUT_MS = 4000;

/** How long a started processor may take to report its port (tsx compiles on a cold cache): a wait of every startProcessor call. */
export const PROCESSOR_START_WAIT_MS = 30_000;

export interface RunningProcessor extends TestChild {
  /** The bound PROCESSOR_PORT (the child binds port 0 and logs it). */
  port: number;
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
 * Starts `processor/main.ts` against the test's database and the run's mock cluster, with an
 * environment of exactly these settings (lib/testing/child.ts), and waits until it reports its
 * port. The DLQ and notification topics are `<topic>.dlq` and `<topic>.notify`; the three topics
 * are created first unless `createTopics` is false.
 */
export async function startProcessor(env: ProcessorEnv, options: { createTopics?: boolean } = {}): Promise<RunningProcessor> {
  const settings = {
    KAFKA_BROKERS: kafkaBrokers(),
    KAFKA_DLQ_TOPIC: `${env.KAFKA_TOPIC}.dlq`,
    KAFKA_NOTIFY_TOPIC: `${env.KAFKA_TOPIC}.notify`,
    KAFKA_SESSION_TIMEOUT_MS: String(TEST_SESSION_TIMEOUT_MS),
    PROCESSOR_PORT: '0',
    LOG_LEVEL: 'info',
    ...env,
    // As in production: the processor's own role, with only the privileges it needs.
    DATABASE_URL: /^postgres(ql)?:\/\//.test(env.DATABASE_URL) ? roleUrl(env.DATABASE_URL, 'processor') : env.DATABASE_URL,
  };
  if (options.createTopics ?? true) await createTopics(settings.KAFKA_TOPIC, settings.KAFKA_DLQ_TOPIC, settings.KAFKA_NOTIFY_TOPIC);
  const child = startNodeChild('processor/main.ts', childEnv(settings));
  try {
    return Object.assign(child, { port: await child.httpPort(PROCESSOR_START_WAIT_MS) });
  } catch (error) {
    await child.stop('SIGKILL');
    throw error;
  }
}

/** Polls `check` every 100 ms until it returns true, or fails after `timeoutMs` with `describe()`. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, describe: () => string | Promise<string>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${await describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * A test's timeout from the waits it makes: their sum plus `marginMs` for the steps that do not
 * wait on a condition (producing, starting children, queries). A test whose timeout is below the
 * sum of its own waits fails as a timeout of the whole test, with no word on which wait was slow.
 */
export function budget(waitsMs: readonly number[], marginMs = 30_000): number {
  return waitsMs.reduce((sum, wait) => sum + wait, marginMs);
}

/** Sum of stored next offsets of a group's topic: equals the messages consumed from a fresh topic. */
export async function committedCount(pool: pg.Pool, groupId: string, topic: string): Promise<number> {
  const { rows } = await pool.query<{ total: string | null }>(
    'SELECT sum(next_offset) AS total FROM consumer_offsets WHERE group_id = $1 AND topic = $2',
    [groupId, topic],
  );
  return Number(rows[0]?.total ?? 0);
}

/** Stored next offset per partition of a group's topic. */
export async function storedOffsets(pool: pg.Pool, groupId: string, topic: string): Promise<Map<number, number>> {
  const { rows } = await pool.query<{ partition: number; next_offset: string }>(
    'SELECT "partition", next_offset FROM consumer_offsets WHERE group_id = $1 AND topic = $2',
    [groupId, topic],
  );
  return new Map(rows.map((row) => [row.partition, Number(row.next_offset)]));
}

/** GET a processor endpoint; resolves with status and body text. */
export async function getEndpoint(port: number, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: await response.text() };
}

/**
 * The value of one series in a Prometheus text exposition (`labels` in the order the registry
 * prints them, `service` last), or undefined when the series is absent.
 */
export function metricValue(exposition: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = `${name}{${Object.entries({ ...labels, service: 'processor' }).map(([k, v]) => `${k}="${v}"`).join(',')}}`;
  for (const line of exposition.split('\n')) {
    if (line.startsWith(`${wanted} `)) return Number(line.slice(wanted.length + 1));
  }
  return undefined;
}

/** A processor's metrics right now. */
export async function scrape(processor: RunningProcessor): Promise<string> {
  return (await getEndpoint(processor.port, '/metrics')).body;
}

/** Log line predicates of the processor's structured log (processor/consumer.ts, flusher.ts, runner.ts). */
export const LOG = {
  assigned: (line: LogLine): boolean => line.msg === 'partitions assigned',
  revoked: (line: LogLine): boolean => line.msg === 'partitions revoked; flushing before release',
  fenced: (line: LogLine): boolean => line.msg === 'batch fenced: a newer owner already applied these offsets; dropped',
  restarted: (line: LogLine): boolean => line.msg === 'restarted partitions from stored offsets after a fence',
  flushed: (line: LogLine): boolean => line.msg === 'batch flushed',
} as const;

/** The partitions of an instance's latest assignment (empty before its first, and after a revoke). */
export function currentAssignment(processor: TestChild): number[] {
  let partitions: number[] = [];
  for (const line of processor.logs()) {
    if (LOG.assigned(line)) partitions = line.partitions as number[];
    else if (LOG.revoked(line)) partitions = [];
  }
  return partitions;
}

/** The batches an instance committed from its log line `from` on, from its `batch flushed` debug lines (LOG_LEVEL=debug). */
export function flushedBatches(processor: TestChild, from = 0): { reason: string; records: number }[] {
  return processor.logs().slice(from).filter(LOG.flushed).map((line) => ({ reason: line.reason as string, records: line.records as number }));
}

/** Sends `signal` and resolves with the exit code; fails, quoting the output, if it has not exited within `timeoutMs`. */
export async function stopWithin(processor: TestChild, signal: NodeJS.Signals, timeoutMs: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not exit within ${timeoutMs} ms of ${signal}\n${processor.output().slice(-3000)}`)), timeoutMs);
  });
  try {
    return await Promise.race([processor.stop(signal), late]);
  } finally {
    clearTimeout(timer);
  }
}
