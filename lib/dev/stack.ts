import { randomBytes } from 'node:crypto';
import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres, type RunningPostgres } from '../db/embedded-postgres.js';
import { migrate } from '../db/migrations.js';
import { setRolePasswords, urlForRole, type ServiceRole } from '../db/roles.js';
import { startMockCluster, type MockCluster } from '../kafka/mock-cluster.js';
import { REPO_ROOT, type DevConfig } from './config.js';
import { assertPortFree } from './ports.js';
import { servicePort, StartError, waitForReady } from './ready.js';
import { spawnService, type ServiceProcess } from './service-process.js';
import { formatStackEnv } from './stack-env.js';
import { ensureMockTopics } from '../kafka/topics.js';

/**
 * The embedded stack of `make dev`: PostgreSQL (embedded-postgres), the librdkafka mock cluster
 * (owned by this process, so it lives as long as the stack), migrations, then the processor and
 * the API as child processes started exactly as in production, and optionally the generator.
 * Stop order: generator, services (they drain and commit), mock cluster, PostgreSQL.
 */

const DATABASE = 'warehouse';
const PRODUCE_ENTRY = 'load/produce.ts';
// Longer than the processor's own last-flush timeout (30 s, processor/main.ts), so it can finish.
const SERVICE_STOP_GRACE_MS = 35_000;
const POSTGRES_STOP_TIMEOUT_MS = 15_000;

export interface RunningStack {
  /** Connection settings, as written to the stack file. */
  settings: Record<string, string>;
  services: ServiceProcess[];
  /** Resolves with a message when a service exits without being asked to. */
  failed: Promise<string>;
  stop(): Promise<void>;
}

export type Say = (message: string) => void;

async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

/** Values of the services' settings as environment strings (undefined ones left out). */
function serviceEnv(config: DevConfig, overrides: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [key, value] of Object.entries(config)) {
    if (value !== undefined && !key.startsWith('DEV_')) env[key] = String(value);
  }
  return { ...env, ...overrides };
}

/**
 * Starts every part and waits until the processor and the API answer /ready. On any failure it
 * stops what it started and throws (PortInUseError, StartError, or the part's own error). An abort
 * of `signal` (Ctrl-C while starting) fails the start the same way.
 */
export async function startStack(config: DevConfig, say: Say, signal?: AbortSignal): Promise<RunningStack> {
  // Port 0 binds any free port (the service reports it): nothing to check beforehand.
  if (config.API_PORT > 0) await assertPortFree(config.API_PORT, 'API_PORT, the API');
  if (config.PROCESSOR_PORT > 0) await assertPortFree(config.PROCESSOR_PORT, 'PROCESSOR_PORT, the processor');
  if (config.DEV_POSTGRES_PORT > 0) await assertPortFree(config.DEV_POSTGRES_PORT, 'DEV_POSTGRES_PORT, PostgreSQL');

  let postgres: RunningPostgres | undefined;
  let cluster: MockCluster | undefined;
  const services: ServiceProcess[] = [];
  let stopping = false;

  const stop = async (): Promise<void> => {
    stopping = true;
    const generator = services.find((service) => service.name === 'generator');
    await generator?.stop(5000);
    await Promise.all(services.map((service) => service.stop(SERVICE_STOP_GRACE_MS)));
    await cluster?.stop();
    cluster = undefined;
    if (postgres) {
      const running = postgres;
      postgres = undefined;
      // embedded-postgres waits for an 'exit' that never comes if the server is already gone.
      await Promise.race([running.stop(), new Promise((resolve) => setTimeout(resolve, POSTGRES_STOP_TIMEOUT_MS).unref())]);
    }
    await rm(config.DEV_STACK_ENV, { force: true });
  };

  try {
    say(`starting PostgreSQL (${config.DEV_KEEP_DATA ? 'keeping the data in' : 'fresh data in'} ${path.relative(REPO_ROOT, config.DEV_DATA_DIR) || config.DEV_DATA_DIR})`);
    postgres = await startEmbeddedPostgres({ dataDir: config.DEV_DATA_DIR, port: config.DEV_POSTGRES_PORT, keep: config.DEV_KEEP_DATA });
    await ensureDatabase(postgres.adminUrl, DATABASE);
    const databaseUrl = postgres.urlFor(DATABASE);

    say('starting the librdkafka mock cluster');
    cluster = await startMockCluster();
    const brokers = cluster.bootstrapServers;
    await ensureMockTopics(brokers, [config.KAFKA_TOPIC, config.KAFKA_DLQ_TOPIC, config.KAFKA_NOTIFY_TOPIC]);

    const migrated = await migrate(databaseUrl);
    say(`migrations: ${migrated.applied.length} applied, ${migrated.alreadyApplied.length} already applied`);
    // Each service connects as its own role (prisma/migrations/…_roles), with a password made for
    // this run; tools (make migrate, make load) keep the owner's URL from the stack file.
    const passwords = { processor: randomBytes(18).toString('base64url'), api: randomBytes(18).toString('base64url') };
    await setRolePasswords(databaseUrl, passwords);

    const roleFor: Record<string, ServiceRole> = { processor: 'processor', api: 'api' };
    const env = (name: string) => {
      const role = roleFor[name];
      const url = role ? urlForRole(databaseUrl, role, passwords[role]) : databaseUrl;
      return serviceEnv(config, { DATABASE_URL: url, KAFKA_BROKERS: brokers, SERVICE_NAME: name });
    };
    const start = (name: string, entry: string, args: string[] = []) => {
      const service = spawnService({ name, cwd: REPO_ROOT, env: env(name), args: ['--import', 'tsx', entry, ...args] });
      services.push(service);
      return service;
    };

    say('starting the processor and the API');
    const processor = start('processor', 'processor/main.ts');
    const api = start('api', 'api/server.ts');
    const [processorPort, apiPort] = await Promise.all([
      servicePort(processor, config.PROCESSOR_PORT, config.DEV_READY_TIMEOUT_MS),
      servicePort(api, config.API_PORT, config.DEV_READY_TIMEOUT_MS),
    ]);
    const settings: Record<string, string> = {
      KAFKA_BROKERS: brokers,
      DATABASE_URL: databaseUrl,
      API_URL: `http://127.0.0.1:${apiPort}`,
      PROCESSOR_URL: `http://127.0.0.1:${processorPort}`,
      KAFKA_TOPIC: config.KAFKA_TOPIC,
      KAFKA_DLQ_TOPIC: config.KAFKA_DLQ_TOPIC,
      KAFKA_NOTIFY_TOPIC: config.KAFKA_NOTIFY_TOPIC,
      KAFKA_GROUP_ID: config.KAFKA_GROUP_ID,
      API_PORT: String(apiPort),
      PROCESSOR_PORT: String(processorPort),
    };
    await Promise.all([
      waitForReady(processor, `${settings.PROCESSOR_URL}/ready`, config.DEV_READY_TIMEOUT_MS, signal),
      waitForReady(api, `${settings.API_URL}/ready`, config.DEV_READY_TIMEOUT_MS, signal),
    ]);

    if (signal?.aborted) throw new StartError('stopped while starting');
    await mkdir(path.dirname(config.DEV_STACK_ENV), { recursive: true });
    await writeFile(config.DEV_STACK_ENV, formatStackEnv(settings));

    if (config.DEV_PRODUCE_RATE > 0) {
      if (await exists(path.join(REPO_ROOT, PRODUCE_ENTRY))) {
        say(`starting the generator at ${config.DEV_PRODUCE_RATE} events/s`);
        // A day counts as forever for a development session.
        start('generator', PRODUCE_ENTRY, ['--brokers', brokers, '--topic', config.KAFKA_TOPIC, '--rate', String(config.DEV_PRODUCE_RATE), '--duration', '86400']);
      } else {
        say(`DEV_PRODUCE_RATE is set but ${PRODUCE_ENTRY} does not exist: no generator`);
      }
    }

    const failed = new Promise<string>((resolve) => {
      for (const service of services) {
        void service.exited.then((code) => {
          if (stopping) return;
          if (service.name === 'generator') say(`the generator ended (${String(code)}); the stack keeps running`);
          else resolve(`${service.name} exited unexpectedly with ${String(code)}`);
        });
      }
    });
    return { settings, services, failed, stop };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}
