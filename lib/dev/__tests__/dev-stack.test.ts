import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { access, chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { childEnv } from '../../testing/child.js';
import { KafkaProducer } from '../../kafka/producer.js';
import { encode, envelope } from '../../testing/envelopes.js';
import { privateStackEnv, readStackEnv } from '../stack-env.js';
import { waitFor } from '../wait-for.js';

/**
 * `make dev`'s entry as a user runs it: a child process that brings up the whole embedded stack.
 * Events produced into its mock cluster must show up through its API, and SIGTERM must leave no
 * process of the stack behind; a part that dies stops the stack with exit 1 and the reason; a
 * taken port is refused by name before anything starts.
 */

const START_WAIT_MS = 45_000;
const STOCK_WAIT_MS = 20_000;
const EXIT_WAIT_MS = 60_000;

interface DevRun {
  dev: ReturnType<typeof spawn>;
  output(): string;
  exited: Promise<number | null>;
  stackFile: string;
}

/** Starts lib/dev/main.ts with an allow-listed environment (nothing of the runner's settings leaks in). */
function startDev(extra: Record<string, string>): DevRun {
  const { env, stackFile } = privateStackEnv(work, { BATCH_MAX_WAIT_MS: '50', LOG_LEVEL: 'info', ...extra }, childEnv({}));
  const dev = spawn(process.execPath, ['--import', 'tsx', 'lib/dev/main.ts'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  dev.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  dev.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => dev.once('exit', (code) => resolve(code)));
  return { dev, output: () => output, exited, stackFile };
}

async function stackSettings(run: DevRun): Promise<Record<string, string>> {
  return waitFor('the stack file', START_WAIT_MS, async () => {
    if (run.dev.exitCode !== null) throw Object.assign(new Error(`make dev exited early with ${run.dev.exitCode}`), { name: 'Fatal' });
    const read = await readStackEnv(run.stackFile);
    return read.API_URL ? read : undefined;
  }).catch((error: Error) => {
    throw new Error(`${error.message}\n--- make dev output ---\n${run.output()}`);
  });
}

async function exitCode(run: DevRun): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      run.exited,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`make dev did not exit within ${EXIT_WAIT_MS} ms\n${run.output()}`)), EXIT_WAIT_MS))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const work = await mkdtemp(path.join(tmpdir(), 'wsm-dev-test-'));
// Run as root, PostgreSQL runs as the `postgres` user, which must reach its data directory inside.
await chmod(work, 0o755);
afterAll(() => rm(work, { recursive: true, force: true }));

/** Every process below `pid`, from ps. */
function descendants(pid: number): number[] {
  const rows = execFileSync('ps', ['-eo', 'pid=,ppid='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number) as [number, number]);
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift();
    for (const [child, ppid] of rows) {
      if (ppid === parent) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}

/** `pid` with its state and command line while it runs (zombies, already ended, count as gone). */
function running(pid: number): string | undefined {
  try {
    const line = execFileSync('ps', ['-o', 'stat=,args=', '-p', String(pid)], { encoding: 'utf8' }).trim();
    return line === '' || line.startsWith('Z') ? undefined : `${pid} ${line}`;
  } catch {
    return undefined; // ps exits 1 when the pid is gone
  }
}

describe('make dev', () => {
  it('runs the stack: events produced into its mock cluster come back through its API; SIGTERM stops every process', async () => {
    const run = startDev({});
    try {
      const settings = await stackSettings(run);
      // Both services bound port 0 and reported the ports they got.
      expect(settings.API_URL).toBe(`http://127.0.0.1:${settings.API_PORT}`);
      expect(settings.PROCESSOR_URL).toBe(`http://127.0.0.1:${settings.PROCESSOR_PORT}`);
      expect(Number(settings.API_PORT)).toBeGreaterThan(0);
      expect(Number(settings.PROCESSOR_PORT)).toBeGreaterThan(0);
      expect(settings.DATABASE_URL).toMatch(/^postgresql:\/\//);

      const warehouse = randomUUID();
      const product = randomUUID();
      const producer = new KafkaProducer(settings.KAFKA_BROKERS ?? '', 'dev-test');
      await producer.connect();
      for (const data of [
        { event: 'arrival' as const, quantity: 100 },
        { event: 'departure' as const, quantity: 30 },
      ]) {
        await producer.send(settings.KAFKA_TOPIC ?? '', encode(envelope({ ...data, warehouse_id: warehouse, product_id: product })), warehouse);
      }
      await producer.close();

      const stock = await waitFor('the stock row through the API', STOCK_WAIT_MS, async () => {
        const response = await fetch(`${settings.API_URL}/api/warehouses/${warehouse}/products/${product}`);
        const body = (await response.json()) as { quantity?: number | string };
        return Number(body.quantity) === 70 ? body : undefined;
      });
      expect(stock).toMatchObject({ status: 'available' });

      // Each service runs as its own role (prisma/migrations/…_roles), not as the owner.
      const owner = new pg.Client({ connectionString: settings.DATABASE_URL });
      await owner.connect();
      const sessions = await owner
        .query<{ application_name: string; usename: string }>("SELECT DISTINCT application_name, usename FROM pg_stat_activity WHERE application_name IN ('processor-writer', 'processor')")
        .finally(() => owner.end());
      expect(sessions.rows.map((row) => row.usename)).toEqual(sessions.rows.map(() => 'wsm_processor'));
      expect(sessions.rows.length).toBeGreaterThan(0);

      const processes = descendants(run.dev.pid ?? 0);
      expect(processes.length).toBeGreaterThanOrEqual(4); // runner, PostgreSQL, processor, API (and PostgreSQL's workers)
      run.dev.kill('SIGTERM');
      expect(await exitCode(run), run.output()).toBe(0);
      // SIGKILL of a leftover (lib/dev/main.ts's last resort) takes a moment to land.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(processes.map(running).filter(Boolean)).toEqual([]);
      await expect(access(run.stackFile)).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      if (run.dev.exitCode === null) run.dev.kill('SIGKILL');
    }
  }, START_WAIT_MS + STOCK_WAIT_MS + EXIT_WAIT_MS + 30_000);

  it('exits 1 with the reason when a part dies, and stops the rest', async () => {
    const run = startDev({});
    try {
      await stackSettings(run);
      const processes = descendants(run.dev.pid ?? 0);
      const processor = processes.find((pid) => running(pid)?.includes('processor/main.ts'));
      expect(processor).toBeDefined();
      process.kill(processor!, 'SIGKILL');
      expect(await exitCode(run), run.output()).toBe(1);
      expect(run.output()).toMatch(/processor exited unexpectedly with SIGKILL/);
      expect(run.output()).toContain('stopped after a failure');
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(processes.map(running).filter(Boolean)).toEqual([]);
    } finally {
      if (run.dev.exitCode === null) run.dev.kill('SIGKILL');
    }
  }, START_WAIT_MS + EXIT_WAIT_MS + 30_000);

  it('refuses a taken API_PORT by name before starting anything', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen({ port: 0, host: '::' }, resolve));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const run = startDev({ API_PORT: String(port) });
      expect(await exitCode(run)).toBe(1);
      expect(run.output()).toContain(`port ${port} (API_PORT, the API) is already in use`);
      expect(run.output()).not.toContain('starting PostgreSQL');
    } finally {
      taken.close();
    }
  }, EXIT_WAIT_MS + 10_000);
});
