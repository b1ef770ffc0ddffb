import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { tmpdir } from 'node:os';
import type { TestProject } from 'vitest/node';
import pg from 'pg';
import { migrate } from '../db/migrations.js';
import { setRolePasswords } from '../db/roles.js';
import { TEST_ROLE_PASSWORDS } from './roles.js';
import { withDatabase } from '../db/url.js';
import { createDatabase, startEmbeddedPostgres, type RunningPostgres } from '../db/embedded-postgres.js';
import { startMockCluster, type MockCluster } from '../kafka/mock-cluster.js';

/**
 * Starts the real parts every integration test uses, once per run: PostgreSQL (embedded, or the
 * server behind DATABASE_URL when set) with a migrated template database, and the librdkafka mock
 * cluster. Tests read them with `inject(...)`; child processes get KAFKA_BROKERS in their env.
 */

declare module 'vitest' {
  export interface ProvidedContext {
    /** Maintenance-database URL of the test server; tests clone databases from the template. */
    postgresAdminUrl: string;
    /** Name of the migrated template database. */
    templateDatabase: string;
    /** host:port of the mock Kafka cluster. */
    kafkaBrokers: string;
  }
}

/**
 * The migrated template every test database is cloned from, named per run: two runs against one
 * server (DATABASE_URL) must not drop or migrate each other's template.
 */
const TEMPLATE_DATABASE = `wsm_template_${process.pid}_${randomBytes(4).toString('hex')}`;

let postgres: RunningPostgres | undefined;
const dataDir = path.join(tmpdir(), `wsm-test-pg-${process.pid}`);
let cluster: MockCluster | undefined;
let adminUrl: string | undefined;

export async function setup(project: TestProject): Promise<void> {
  adminUrl = process.env.DATABASE_URL;
  if (adminUrl) {
    adminUrl = withDatabase(adminUrl, 'postgres');
  } else {
    postgres = await startEmbeddedPostgres({ dataDir, ephemeral: true });
    adminUrl = postgres.adminUrl;
  }
  await createDatabase(adminUrl, TEMPLATE_DATABASE);
  await migrate(withDatabase(adminUrl, TEMPLATE_DATABASE));
  // The services' roles log in with the tests' passwords (roleUrl in lib/testing/database.ts).
  await setRolePasswords(adminUrl, TEST_ROLE_PASSWORDS);

  cluster = await startMockCluster();
  process.env.KAFKA_BROKERS = cluster.bootstrapServers;

  project.provide('postgresAdminUrl', adminUrl);
  project.provide('templateDatabase', TEMPLATE_DATABASE);
  project.provide('kafkaBrokers', cluster.bootstrapServers);
}

export async function teardown(): Promise<void> {
  await cluster?.stop();
  if (adminUrl && !postgres) {
    // A server this run did not start outlives it: leave no template behind.
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DATABASE} WITH (FORCE)`).finally(() => client.end());
  }
  if (postgres) {
    await postgres.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}
