import type { AddressInfo } from 'node:net';
import { brokerList, ConfigError, loadConfig } from '../lib/config.js';
import type { RdKafka } from '../lib/kafka/client.js';
import { KafkaProducer } from '../lib/kafka/producer.js';
import { createLogger } from '../lib/log.js';
import { API_SHUTDOWN_BUDGET_MS } from '../lib/shutdown-budget.js';
import { createApp } from './app.js';
import { createDatabase } from './db.js';
import type { Publisher } from './deps.js';
import { createHttpServer } from './http-server.js';
import { createApiMetrics } from './metrics.js';
import { StatusChangeHub } from './status-hub.js';

/**
 * The API process: loads the configuration, connects, listens on API_PORT. Shutdown on SIGTERM or
 * SIGINT: stop accepting connections, end the SSE streams (clients reconnect elsewhere with
 * Last-Event-ID), let in-flight requests finish, then close Kafka and the database.
 */

const log = createLogger('api.server');

async function main(): Promise<void> {
  const config = loadConfig();
  const metrics = createApiMetrics();
  const db = createDatabase(config.DATABASE_URL, metrics, { statementTimeoutMs: config.API_STATEMENT_TIMEOUT_MS });
  const statusHub = new StatusChangeHub(config.DATABASE_URL, db, metrics, {
    statementTimeoutMs: config.API_STATEMENT_TIMEOUT_MS,
    maxSubscribers: config.API_SSE_MAX_SUBSCRIBERS,
  });
  await statusHub.start();

  let producer: KafkaProducer | undefined;
  let publisher: Publisher | undefined;
  if (config.API_WRITE_TOKEN) {
    if (config.KAFKA_BROKERS === 'mock') throw new ConfigError(['KAFKA_BROKERS="mock": the API publishes to a real cluster; give its host:port']);
    // Fail a publish after 10 s instead of librdkafka's default 300 s: the client is waiting on it.
    // A topic property, which librdkafka accepts in the global config as every topic's default
    // (CONFIGURATION.md); the typings list it under topic config only, hence the cast.
    const timeout = { 'message.timeout.ms': 10_000 } as RdKafka.ProducerGlobalConfig;
    producer = new KafkaProducer((brokerList(config.KAFKA_BROKERS) ?? []).join(','), 'wsm-api', timeout);
    await producer.connect();
    const connected = producer;
    publisher = { publish: async (topic, key, value) => (await (await connected.send(topic, value, key)).delivered) };
  }

  const { app } = createApp({ db, metrics, statusHub, cacheTtlMs: config.API_CACHE_TTL_MS, writeToken: config.API_WRITE_TOKEN, topic: config.KAFKA_TOPIC, publisher });
  const handle = app.callback();
  const server = createHttpServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.API_PORT, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // The bound port, also when API_PORT is 0 (any free port): tests and `make dev` read `httpPort`.
  log.info({ httpPort: (server.address() as AddressInfo).port, cacheTtlMs: config.API_CACHE_TTL_MS, writes: Boolean(publisher) }, 'API listening');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    await statusHub.close();
    server.closeIdleConnections();
    // In-flight requests get their share of the shutdown budget (lib/shutdown-budget.ts); then the
    // rest is cut so a stuck client cannot hold shutdown.
    const force = setTimeout(() => server.closeAllConnections(), API_SHUTDOWN_BUDGET_MS.inFlightRequests);
    await closed;
    clearTimeout(force);
    await producer?.close();
    await db.$disconnect();
    log.info('stopped');
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      stop(signal).then(
        () => process.exit(0),
        (error: unknown) => {
          log.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(`api: ${error.message}`);
  } else if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    console.error(`api: port ${(error as { port?: number }).port ?? '?'} is already in use (set API_PORT to a free port)`);
  } else {
    console.error(`api: failed to start: ${(error as Error).message}`);
    log.error({ err: error }, 'failed to start');
  }
  process.exit(1);
});
