/**
 * `make load`: the API's hot reads against a bare `node:http` + `pg` server (load/api/bare-server.ts)
 * on the same data, keys and machine, alternating in one run, plus a warehouse's products and the
 * stats; uniform and hot-key (Zipf) workloads; the read cache off and on. Uses the running stack's
 * database when it has data (.dev/stack.env or DATABASE_URL), else starts its own embedded
 * PostgreSQL and seeds it through the processor's write path. Starts the three servers itself,
 * stops everything, prints and writes the API ÷ bare ratio per endpoint (load/results/api.md).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { loadConfig } from '../lib/config.js';
import { freePort } from '../lib/db/embedded-postgres.js';
import { redactUrl } from '../lib/db/url.js';
import { buildApiReport, summarise, targetLines, type ApiRun, type Server } from './api/report.js';
import { buildScenarios, type Scenario } from './api/scenarios.js';
import { countStockRows, sampleIds, seedThroughProcessor } from './api/seed.js';
import { REPO_ROOT, startService, type Service } from './lib/child.js';
import { startBenchPostgres, type BenchPostgres } from './lib/embedded.js';
import { createProgress } from './lib/progress.js';
import { findStack } from './lib/stack.js';
import { sourceVersion, writeReport } from './report/write.js';

const USAGE =
  'usage: make load ARGS="[--duration S] [--rounds N] [--connections C] [--seed-events N] [--unknown-share X] [--hot-keys N] [--zipf S] [--cache on,off] [--only stock,movement,...]"';

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      duration: { type: 'string', default: '5' },
      rounds: { type: 'string', default: '3' },
      connections: { type: 'string', default: '50' },
      'seed-events': { type: 'string', default: '100000' },
      'unknown-share': { type: 'string', default: '0.1' },
      'hot-keys': { type: 'string', default: '2000' },
      zipf: { type: 'string', default: '1' },
      cache: { type: 'string', default: 'off,on' },
      only: { type: 'string', default: '' },
      out: { type: 'string', default: path.join(REPO_ROOT, 'load/results') },
    },
  });
  const durationSec = Number(values.duration);
  const rounds = Number(values.rounds);
  const connections = Number(values.connections);
  const seedEvents = Number(values['seed-events']);
  const unknownShare = Number(values['unknown-share']);
  const hotKeys = Number(values['hot-keys']);
  const zipfS = Number(values.zipf);
  const caches = values.cache.split(',');
  const only = values.only ? values.only.split(',') : [];
  if (
    !(durationSec > 0) || !Number.isInteger(rounds) || rounds < 1 || !Number.isInteger(connections) || connections < 1 || !(seedEvents >= 1000) ||
    !(unknownShare >= 0 && unknownShare <= 1) || !Number.isInteger(hotKeys) || hotKeys < 1 || !(zipfS >= 0) || caches.some((c) => c !== 'on' && c !== 'off')
  ) {
    throw new Error(`bad options: ${JSON.stringify(values)}\n${USAGE}`);
  }

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

    // All servers run for the whole benchmark (an idle one costs nothing), so rounds can alternate.
    const cacheTtlMs = config.API_CACHE_TTL_MS > 0 ? config.API_CACHE_TTL_MS : 1000;
    const servers = new Map<Server, { url: string; service: Service }>();
    const launch = async (server: Server, entry: string, env: (port: number) => Record<string, string>, readyPath: string) => {
      const port = await freePort();
      const service = startService(server, entry, { DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn', ...env(port) }, path.join(REPO_ROOT, `.dev/load-${server}.log`));
      cleanup.push(() => service.stop());
      await service.waitReady(`http://127.0.0.1:${port}${readyPath}`);
      servers.set(server, { url: `http://127.0.0.1:${port}`, service });
    };
    const api = (ttl: number) => (port: number) => ({ API_PORT: String(port), API_CACHE_TTL_MS: String(ttl), API_WRITE_TOKEN: '' });
    if (caches.includes('off')) await launch('api-cache-off', 'api/server.ts', api(0), '/ready');
    if (caches.includes('on')) await launch('api-cache-on', 'api/server.ts', api(cacheTtlMs), '/ready');
    await launch('bare', 'load/api/bare-server.ts', (port) => ({ BARE_PORT: String(port) }), '/health');

    const scenarios = buildScenarios(ids, { unknownShare, hotKeys, zipfS }).filter((s) => only.length === 0 || only.some((o) => s.name.startsWith(o)));
    const plan = scenarios.flatMap((scenario) => Array.from({ length: rounds }, (_, round) => ({ scenario, round, order: serverOrder(scenario, round, [...servers.keys()]) })));
    const total = plan.reduce((sum, step) => sum + step.order.length, 0);
    console.error(`${total} runs of ${durationSec} s at ${connections} connections (about ${Math.ceil((total * (durationSec + 1)) / 60)} min)`);
    // A second of every scenario on every server first: JIT, pools, prepared statements and
    // PostgreSQL's buffer cache warm, so the first measured run is not the cold one.
    console.error('warming up: 1 s of each scenario on each server');
    for (const scenario of scenarios) {
      for (const server of serverOrder(scenario, 0, [...servers.keys()])) {
        await drive(servers.get(server)!.url, scenario, { server, round: 0, connections, durationSec: 1, seed: 1 });
      }
    }
    const runs: ApiRun[] = [];
    for (const step of plan) {
      for (const server of step.order) {
        const run = await drive(servers.get(server)!.url, step.scenario, { server, round: step.round + 1, connections, durationSec, seed: 1000 + step.round });
        runs.push(run);
        console.error(
          `[${runs.length}/${total}] ${step.scenario.name}, ${server}, round ${step.round + 1}: ${Math.round(run.requestsPerSecond)} req/s, ` +
            `p50 ${run.latencyMs.p50} ms, p99 ${run.latencyMs.p99} ms, 2xx ${run.responses['2xx']}, 4xx ${run.responses['4xx']}, 5xx ${run.responses['5xx']}, errors ${run.errors + run.timeouts}`,
        );
      }
    }
    for (const { service } of servers.values()) await service.stop();
    cleanup.length = own ? 1 : 0;

    const summaries = summarise(runs);
    console.log('\nendpoint                 workload  cache off      cache on       bare           off÷bare  on÷bare');
    for (const s of summaries) {
      const cell = (server: Server) => (s.requestsPerSecond[server] === undefined ? ''.padEnd(14) : `${Math.round(s.requestsPerSecond[server])} (${s.p99Ms[server]} ms)`.padEnd(14));
      const r = (n: number | undefined) => (n === undefined ? '' : `${n.toFixed(2)}×`).padEnd(9);
      console.log(`${s.scenario.padEnd(24)} ${s.workload.padEnd(9)} ${cell('api-cache-off')} ${cell('api-cache-on')} ${cell('bare')} ${r(s.ratioToBare['api-cache-off'])} ${r(s.ratioToBare['api-cache-on'])}`);
    }
    console.log('');
    for (const line of targetLines(summaries)) console.log(line);
    const command = `make load${process.argv.length > 2 ? ` ARGS="${process.argv.slice(2).join(' ')}"` : ''}`;
    const context = { command, seedEvents: seeded, stockRows, unknownShare, hotKeys, zipfS, cacheTtlMs, connections, durationSec, rounds, stack };
    const written = await writeReport(values.out, { ...buildApiReport(runs, context), source });
    console.log(`\nresults: ${written.markdown}\n         ${written.json}\n         ${written.charts.length} charts in ${path.dirname(written.markdown)}`);
  } finally {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  }
}

/**
 * The servers of one round in a rotating order (round 0: a, b, c; round 1: b, c, a; ...), so that
 * no server always runs first (colder) or last (after the others warmed the database's cache).
 * Scenarios the bare server does not serve run on the API only.
 */
function serverOrder(scenario: Scenario, round: number, servers: Server[]): Server[] {
  const mine = servers.filter((server) => scenario.baseline || server !== 'bare');
  return mine.map((_, i) => mine[(i + round) % mine.length]!);
}

async function drive(url: string, scenario: Scenario, run: { server: Server; round: number; connections: number; durationSec: number; seed: number }): Promise<ApiRun> {
  const next = scenario.paths(run.seed);
  const result = await autocannon({
    url,
    connections: run.connections,
    duration: run.durationSec,
    timeout: 10,
    requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: next() }) }],
  });
  return {
    server: run.server,
    scenario: scenario.name,
    route: scenario.route,
    workload: scenario.workload,
    round: run.round,
    connections: run.connections,
    durationSec: run.durationSec,
    requestsPerSecond: result.requests.average,
    latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
    responses: { '2xx': result['2xx'], '4xx': result['4xx'], '5xx': result['5xx'] },
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
