import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../lib/db/embedded-postgres.js';
import { createEmptyDatabase, type TestDatabase } from '../../lib/testing/database.js';
import { waitForDatabase } from '../wait-for-database.js';

// The migration job (`prisma/migrate.ts`, docker-compose.yml's migrate service) started before its
// database listens, as on a first `make start`: it waits, then migrates. Without the wait it
// exits 1 on ECONNREFUSED (checked by removing the waitForDatabase call).

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function database(): Promise<TestDatabase> {
  const db = await createEmptyDatabase('job');
  cleanups.push(() => db.drop());
  return db;
}

/** `url` with its port replaced. */
function onPort(url: string, port: number): string {
  const parsed = new URL(url);
  parsed.port = String(port);
  return parsed.toString();
}

/** Listens on `port` from now on, passing connections through to the database server. */
async function openLater(port: number, serverPort: number): Promise<void> {
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(serverPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.on('error', () => socket.destroy()).on('close', () => open.delete(socket));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(resolve);
      }),
  );
}

describe('the migration job', () => {
  it('waits for a database that is not listening yet, then migrates it', async () => {
    const db = await database();
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'prisma/migrate.ts'], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: onPort(db.url, port), LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    cleanups.push(async () => {
      child.kill('SIGKILL');
      await exited;
    });

    // The server "comes up" once the job has been refused at least once.
    for (let waited = 0; !output.includes('waiting for the database') && child.exitCode === null; waited += 50) {
      if (waited > 30_000) throw new Error(`the job never reported waiting:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await openLater(port, Number(new URL(db.url).port));

    expect(await exited, output).toBe(0);
    expect(output).toMatch(/ECONNREFUSED/);
    expect(output).toMatch(/migrations at .*: \d+ applied/);
    const { rows } = await db.pool.query<{ count: string }>('SELECT count(*) FROM _prisma_migrations');
    expect(Number(rows[0]?.count)).toBeGreaterThan(0);
  });

  it('fails at once on what waiting cannot fix: a refused login', async () => {
    const db = await database();
    const wrong = new URL(db.url);
    wrong.password = 'not-the-password';
    const retries: Error[] = [];
    await expect(waitForDatabase(wrong.toString(), { onRetry: (error) => retries.push(error) })).rejects.toMatchObject({ code: '28P01' });
    expect(retries).toEqual([]);
  });

  it('gives up after its timeout, with the last error', async () => {
    const db = await database();
    const retries: Error[] = [];
    const error: unknown = await waitForDatabase(onPort(db.url, await freePort()), { timeoutMs: 1_000, onRetry: (failure) => retries.push(failure) }).catch(
      (caught: unknown) => caught,
    );
    expect((error as Error).message).toMatch(/did not accept a session within 1000 ms: .*ECONNREFUSED/);
    expect(retries.length).toBeGreaterThan(0);
  });
});
