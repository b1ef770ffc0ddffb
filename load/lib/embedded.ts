import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { migrate } from '../../lib/db/migrations.js';
import { startEmbeddedPostgres, type RunningPostgres } from '../../lib/db/embedded-postgres.js';
import { stopOnSignal } from './cleanup.js';

/**
 * A private PostgreSQL for `make load` and `make bench` when no stack runs: the embedded server
 * with its production settings (durable: fsync and synchronous commit on, so the figures hold for a
 * real deployment), in a temporary directory removed by `stop()`.
 */
export interface BenchPostgres {
  server: RunningPostgres;
  /** A fresh, migrated database `name` (dropped first if it exists). */
  freshDatabase(name: string): Promise<string>;
  dropDatabase(name: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startBenchPostgres(label: string): Promise<BenchPostgres> {
  const dataDir = path.join(tmpdir(), `wsm-${label}-pg-${process.pid}`);
  const server = await startEmbeddedPostgres({ dataDir });
  const stop = async (): Promise<void> => {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
  const unregister = stopOnSignal(stop);
  return {
    server,
    async freshDatabase(name) {
      const url = await server.createDatabase(name);
      await migrate(url);
      return url;
    },
    async dropDatabase(name) {
      const client = new pg.Client({ connectionString: server.adminUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
    async stop() {
      unregister();
      await stop();
    },
  };
}
