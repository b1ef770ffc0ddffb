import { tmpdir } from 'node:os';
import path from 'node:path';
import { migrate } from '../../lib/db/migrations.js';
import { startEmbeddedPostgres, type RunningPostgres } from '../../lib/db/embedded-postgres.js';

/**
 * A private PostgreSQL for `make load` and `make bench` when no stack runs: the embedded server
 * with its production settings (durable: fsync and synchronous commit on, so the figures hold for a
 * real deployment), in a temporary directory removed by `stop()`.
 */
export interface BenchPostgres {
  server: RunningPostgres;
  /** A fresh, migrated database `name` (dropped first if it exists). */
  freshDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startBenchPostgres(label: string): Promise<BenchPostgres> {
  const dataDir = path.join(tmpdir(), `wsm-${label}-pg-${process.pid}`);
  const server = await startEmbeddedPostgres({ dataDir });
  return {
    server,
    async freshDatabase(name) {
      const url = await server.createDatabase(name);
      await migrate(url);
      return url;
    },
    async stop() {
      await server.stop();
    },
  };
}
