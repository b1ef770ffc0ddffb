/**
 * `make load`: autocannon benchmarks of the API's main reads at several concurrency levels, with
 * the read cache on and off. Uses the running stack's database when it has data (.dev/stack.env
 * or DATABASE_URL), else starts its own embedded PostgreSQL and seeds it through the processor's
 * write path. Starts the API itself (once per cache mode), stops everything, writes the report.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { freePort } from '../lib/db/embedded-postgres.js';
import { redactUrl } from '../lib/db/url.js';
import { loadConfig } from '../lib/config.js';
import { buildApiReport, type ApiRun } from './api/report.js';
import { buildScenarios } from './api/scenarios.js';
import { countStockRows, sampleIds, seedThroughProcessor } from './api/seed.js';
import { REPO_ROOT, startService } from './lib/child.js';
import { startBenchPostgres, type BenchPostgres } from './lib/embedded.js';
import { createProgress } from './lib/progress.js';
import { findStack } from './lib/stack.js';
import { sourceVersion, writeReport } from './report/write.js';

const USAGE = `usage: make load ARGS="[--duration S] [--connections 20,50,100,200] [--seed-events N] [--unknown-share X] [--cache on,off]"`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      duration: { type: 'string', default: '5' },
      connections: { type: 'string', default: '20,50,100,200' },
      'seed-events': { type: 'string', default: '100000' },
      'unknown-share': { type: 'string', default: '0.1' },
      cache: { type: 'string', default: 'on,off' },
      out: { type: 'string', default: path.join(REPO_ROOT, 'load/results') },
    },
  });
  const durationSec = Number(values.duration);
  const connections = values.connections.split(',').map(Number);
  const seedEvents = Number(values['seed-events']);
  const unknownShare = Number(values['unknown-share']);
  const caches = values.cache.split(',') as ('on' | 'off')[];
  if (!(durationSec > 0) || connections.some((c) => !Number.isInteger(c) || c < 1) || !(seedEvents >= 1000) || !(unknownShare >= 0 && unknownShare <= 1) || caches.some((c) => c !== 'on' && c !== 'off')) {
    throw new Error(`bad options: ${JSON.stringify(values)}\n${USAGE}`);
  }

  // The running stack's database when it has data; otherwise a private one, seeded.
  const source = sourceVersion(REPO_ROOT);
  const target = await findStack();
  const config = loadConfig(target.env);
  let own: BenchPostgres | undefined;
  let databaseUrl = config.DATABASE_URL;
  let stockRows = (await countStockRows(databaseUrl)) ?? 0;
  let seeded = 0;
  let stack = `the running stack's database ${redactUrl(databaseUrl)} (from ${target.origin('DATABASE_URL')})`;
  const cleanup: (() => Promise<unknown>)[] = [];
  try {
    if (stockRows < 100) {
      console.error(`no running stack with data at ${redactUrl(databaseUrl)}: starting an embedded PostgreSQL and seeding ${seedEvents} events`);
      own = await startBenchPostgres('load');
      cleanup.push(() => own!.stop());
      databaseUrl = await own.freshDatabase('load');
      await seedThroughProcessor(databaseUrl, seedEvents, createProgress({ label: 'seed', total: seedEvents, unit: 'events' }));
      seeded = seedEvents;
      stockRows = (await countStockRows(databaseUrl)) ?? 0;
      stack = 'a private embedded PostgreSQL (durable settings)';
    }
    const ids = await sampleIds(databaseUrl);
    console.error(`sampled ${ids.stock.length} stock rows, ${ids.movements.length} movements, ${ids.warehouses.length} warehouses`);

    const runs: ApiRun[] = [];
    const cacheTtlMs = config.API_CACHE_TTL_MS > 0 ? config.API_CACHE_TTL_MS : 1000;
    const total = caches.length * connections.length * 4;
    for (const cache of caches) {
      const port = await freePort();
      const api = startService('api', 'api/server.ts', {
        DATABASE_URL: databaseUrl,
        API_PORT: String(port),
        API_CACHE_TTL_MS: cache === 'on' ? String(cacheTtlMs) : '0',
        API_WRITE_TOKEN: '',
        LOG_LEVEL: 'warn',
      }, path.join(REPO_ROOT, `.dev/load-api-cache-${cache}.log`));
      cleanup.push(() => api.stop());
      await api.waitReady(`http://127.0.0.1:${port}/ready`);
      for (const scenario of buildScenarios(ids, unknownShare)) {
        for (const c of connections) {
          console.error(`[${runs.length + 1}/${total}] cache ${cache}, ${scenario.route}, ${c} connections, ${durationSec} s`);
          const result = await autocannon({
            url: `http://127.0.0.1:${port}`,
            connections: c,
            duration: durationSec,
            timeout: 10,
            requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: scenario.nextPath() }) }],
          });
          const run: ApiRun = {
            cache, scenario: scenario.name, route: scenario.route, connections: c, durationSec,
            requestsPerSecond: result.requests.average,
            latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
            responses: { '2xx': result['2xx'], '4xx': result['4xx'], '5xx': result['5xx'] },
            errors: result.errors, timeouts: result.timeouts,
          };
          runs.push(run);
          console.error(`    ${Math.round(run.requestsPerSecond)} req/s, p50 ${run.latencyMs.p50} ms, p99 ${run.latencyMs.p99} ms, 2xx ${run.responses['2xx']}, 4xx ${run.responses['4xx']}, 5xx ${run.responses['5xx']}, errors ${run.errors + run.timeouts}`);
        }
      }
      await api.stop();
      cleanup.pop();
    }
    const command = `make load${process.argv.length > 2 ? ` ARGS="${process.argv.slice(2).join(' ')}"` : ''}`;
    const written = await writeReport(values.out, { ...buildApiReport(runs, { command, seedEvents: seeded, stockRows, unknownShare, cacheTtlMs, stack }), source });
    console.log(`results: ${written.markdown}\n         ${written.json}\n         ${written.charts.length} charts in ${path.dirname(written.markdown)}`);
  } finally {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
