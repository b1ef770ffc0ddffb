import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres, type RunningPostgres } from '../../lib/db/embedded-postgres.js';
import { migrate } from '../../lib/db/migrations.js';
import { setRolePasswords, urlForRole } from '../../lib/db/roles.js';
import { startMockCluster, type MockCluster } from '../../lib/kafka/mock-cluster.js';
import { ensureMockTopics } from '../../lib/kafka/topics.js';
import { startTcpProxy, type TcpProxy } from '../../lib/testing/tcp-proxy.js';
import { freePort } from '../../lib/db/embedded-postgres.js';
import { REPO_ROOT, startService, type Service } from '../lib/child.js';
import { stopOnSignal } from '../lib/cleanup.js';

/**
 * The embedded stack a fault campaign runs on, with handles for every fault: PostgreSQL that can
 * be restarted on its port and data, a TCP proxy between it and the processors (cut, blackhole),
 * the librdkafka mock cluster with the three topics, and processors as child processes in one
 * consumer group, each as the wsm_processor role.
 */

const DATABASE = 'chaos';
const PROCESSOR_PASSWORD = 'chaos-processor-password';

export interface ChaosStackOptions {
  /** Where processor logs go. */
  logDir: string;
  batchMaxRecords: number;
  /** Short, so a blackholed connection is given up on within seconds (lib/db/connection.ts). */
  statementTimeoutMs: number;
}

export interface ChaosStack {
  brokers: string;
  topic: string;
  groupId: string;
  /** The owner's connection URL, straight to PostgreSQL (the campaign's own reads). */
  ownerUrl: string;
  proxy: TcpProxy;
  processors: Service[];
  startProcessor(): Promise<Service>;
  restartPostgres(downMs: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startChaosStack(options: ChaosStackOptions): Promise<ChaosStack> {
  const work = await mkdtemp(path.join(tmpdir(), 'wsm-chaos-'));
  // Run as root, PostgreSQL runs as the `postgres` user, which must reach its data directory inside.
  await chmod(work, 0o755);
  const dataDir = path.join(work, 'postgres');
  let postgres: RunningPostgres = await startEmbeddedPostgres({ dataDir, ephemeral: true });
  const port = postgres.port;
  const ownerUrl = await postgres.createDatabase(DATABASE);
  await migrate(ownerUrl);
  await setRolePasswords(ownerUrl, { processor: PROCESSOR_PASSWORD });
  const proxy = await startTcpProxy(port);
  const proxied = new URL(ownerUrl);
  proxied.port = String(proxy.port);
  const processorUrl = urlForRole(proxied.toString(), 'processor', PROCESSOR_PASSWORD);

  const cluster: MockCluster = await startMockCluster();
  const topic = 'chaos.movements';
  await ensureMockTopics(cluster.bootstrapServers, [topic, `${topic}.dlq`, `${topic}.notify`]);
  const groupId = 'chaos-processors';
  const processors: Service[] = [];
  let started = 0;

  const stop = async (): Promise<void> => {
    await Promise.all(processors.splice(0).map((service) => service.stop(5000)));
    await proxy.close();
    await cluster.stop();
    await postgres.stop().catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  };
  const unregister = stopOnSignal(stop);

  return {
    brokers: cluster.bootstrapServers,
    topic,
    groupId,
    ownerUrl,
    proxy,
    processors,
    async startProcessor() {
      const processorPort = await freePort();
      const service = startService(
        `processor-${++started}`,
        'processor/main.ts',
        {
          DATABASE_URL: processorUrl,
          KAFKA_BROKERS: cluster.bootstrapServers,
          KAFKA_TOPIC: topic,
          KAFKA_DLQ_TOPIC: `${topic}.dlq`,
          KAFKA_NOTIFY_TOPIC: `${topic}.notify`,
          KAFKA_GROUP_ID: groupId,
          BATCH_MAX_RECORDS: String(options.batchMaxRecords),
          BATCH_MAX_WAIT_MS: '100',
          PROCESSOR_PORT: String(processorPort),
          PROCESSOR_STATEMENT_TIMEOUT_MS: String(options.statementTimeoutMs),
          LOG_LEVEL: 'warn',
        },
        path.join(options.logDir, `processor-${started}.log`),
      );
      processors.push(service);
      void service.child.once('exit', () => {
        const index = processors.indexOf(service);
        if (index >= 0) processors.splice(index, 1);
      });
      return service;
    },
    async restartPostgres(downMs: number) {
      await postgres.stop();
      await new Promise((resolve) => setTimeout(resolve, downMs));
      postgres = await startEmbeddedPostgres({ dataDir, port, keep: true, ephemeral: true });
    },
    async stop() {
      unregister();
      await stop();
    },
  };
}

/** Runs `fn` on a fresh owner connection; undefined while PostgreSQL is down or restarting. */
export async function withOwner<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await fn(client);
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export { REPO_ROOT };
