/**
 * `make verify-dashboard`: proves every query of the Grafana dashboard returns data from the real
 * services. Runs the embedded stack (`make dev`'s entry, on free ports, in a temporary folder),
 * a real Prometheus scraping it, drives load (the generator, a burst of valid and invalid events,
 * API requests and a live-stream subscriber), then evaluates each panel query through
 * Prometheus's HTTP API. Fails when a query errors, returns no series (or only NaN), or names a
 * metric the services do not export. Prints one line per query.
 */
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DASHBOARD_PATH } from '../../../grafana/dashboard.js';
import { dashboardQueries, metricNames } from '../../../grafana/promql.js';
import { KafkaProducer } from '../../kafka/producer.js';
import { brokenMessages, encode, envelope } from '../../testing/envelopes.js';
import { REPO_ROOT } from '../config.js';
import { privateStackEnv, readStackEnv } from '../stack-env.js';
import { SCRAPE_INTERVAL_SECONDS, startPrometheus, type RunningPrometheus } from './prometheus.js';
import { waitFor } from '../wait-for.js';

/** Scrapes to wait for after both targets are up: enough for $__rate_interval and percentiles. */
const SCRAPES = 15;
/** What `$__rate_interval` becomes: Grafana's rule, at least four scrape intervals. */
const RATE_INTERVAL = `${SCRAPE_INTERVAL_SECONDS * 10}s`;
const PRODUCE_RATE = 300;

const say = (message: string): void => {
  process.stdout.write(`verify   | ${message}\n`);
};

/** Valid movements (both sides, some departures too large) and one of every invalid kind. */
async function produceBurst(brokers: string, topic: string): Promise<void> {
  const producer = new KafkaProducer(brokers, 'verify-dashboard');
  await producer.connect();
  try {
    for (let i = 0; i < 100; i++) {
      const warehouse = envelope().data.warehouse_id;
      const product = envelope().data.product_id;
      for (const data of [
        { event: 'arrival' as const, quantity: 20 },
        { event: 'departure' as const, quantity: 15 },
        { event: 'departure' as const, quantity: 50 },
      ]) {
        await producer.send(topic, encode(envelope({ ...data, warehouse_id: warehouse, product_id: product })), warehouse);
      }
    }
    for (const broken of brokenMessages()) await producer.send(topic, broken.payload, null);
    await producer.flush();
  } finally {
    await producer.close();
  }
}

/** API traffic over several routes (cached ones twice, so the caches hit) until `signal` aborts. */
async function driveApi(apiUrl: string, signal: AbortSignal): Promise<number> {
  let requests = 0;
  const get = async (route: string): Promise<string> => {
    requests++;
    const response = await fetch(`${apiUrl}${route}`, { signal });
    return response.text();
  };
  // One live subscriber for the whole run.
  fetch(`${apiUrl}/api/status-changes/stream`, { signal }).then((response) => response.body?.pipeTo(new WritableStream()), () => undefined).catch(() => undefined);
  while (!signal.aborted) {
    try {
      await get('/api/stats');
      await get('/api/stats');
      await get('/api/stock?limit=20');
      await get('/api/status-changes?limit=20');
      await get('/api/dead-letters?limit=20');
      const movements = await get('/api/movements?limit=5');
      const movementId = /"movement_?[iI]d"\s*:\s*"([0-9a-f-]{36})"/.exec(movements)?.[1];
      if (movementId) {
        await get(`/api/movements/${movementId}`);
        await get(`/api/movements/${movementId}`);
      }
      await get('/api/no-such-route');
    } catch {
      // Aborted at the end, or a request failed: the request counters show it either way.
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return requests;
}

interface Row {
  panel: string;
  refId: string;
  series: number;
  problem?: string;
}

async function evaluate(prometheus: RunningPrometheus): Promise<Row[]> {
  const dashboard = JSON.parse(await readFile(DASHBOARD_PATH, 'utf8')) as Parameters<typeof dashboardQueries>[0];
  const exported = await prometheus.metricNames();
  const rows: Row[] = [];
  for (const query of dashboardQueries(dashboard)) {
    const row: Row = { panel: `${query.row} / ${query.panel}`, refId: query.refId, series: 0 };
    const missing = metricNames(query.expr).filter((name) => !exported.has(name));
    if (missing.length > 0) row.problem = `names metrics the services do not export: ${missing.join(', ')}`;
    try {
      const result = await prometheus.query(query.expr.replaceAll('$__rate_interval', RATE_INTERVAL));
      row.series = result.length;
      if (result.length === 0) row.problem ??= 'no data';
      else if (result.every((sample) => sample.value[1] === 'NaN')) row.problem ??= 'only NaN (no observations in the window)';
    } catch (error) {
      row.problem = `query failed: ${(error as Error).message}`;
    }
    rows.push(row);
  }
  return rows;
}

function printTable(rows: Row[]): void {
  const width = Math.max(...rows.map((row) => row.panel.length));
  say(`${'panel'.padEnd(width)}  ref  series  result`);
  for (const row of rows) say(`${row.panel.padEnd(width)}  ${row.refId.padEnd(3)}  ${String(row.series).padStart(6)}  ${row.problem ? `FAIL: ${row.problem}` : 'ok'}`);
}

async function main(): Promise<number> {
  const work = await mkdtemp(path.join(tmpdir(), 'wsm-verify-'));
  // Run as root, PostgreSQL runs as the `postgres` user, which must reach its data directory inside.
  await chmod(work, 0o755);
  const { env, stackFile } = privateStackEnv(work, {
    DEV_PRODUCE_RATE: String(PRODUCE_RATE),
    // Info at least: the services bind port 0 and report the port they got in an info line.
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
  });
  say(`starting the embedded stack (API and processor on free ports, generator at ${PRODUCE_RATE} events/s)`);
  const dev = spawn(process.execPath, ['--import', 'tsx', 'lib/dev/main.ts'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'inherit', 'inherit'] });
  const devExited = new Promise<number | null>((resolve) => dev.once('exit', (code) => resolve(code)));
  let prometheus: RunningPrometheus | undefined;
  const traffic = new AbortController();
  try {
    const settings = await waitFor('the stack to start', 90_000, async () => {
      if (dev.exitCode !== null) throw Object.assign(new Error('make dev exited'), { name: 'Fatal' });
      const read = await readStackEnv(stackFile);
      return read.API_URL ? read : undefined;
    }).catch((error: Error) => {
      throw new Error(dev.exitCode !== null ? `the embedded stack failed to start (exit ${dev.exitCode}); see its output above` : error.message);
    });
    prometheus = await startPrometheus(work, { processor: `127.0.0.1:${settings.PROCESSOR_PORT}`, api: `127.0.0.1:${settings.API_PORT}` });
    say(`Prometheus at ${prometheus.url}, scraping every ${SCRAPE_INTERVAL_SECONDS} s`);

    await produceBurst(settings.KAFKA_BROKERS ?? '', settings.KAFKA_TOPIC ?? '');
    say(`produced 300 valid and ${brokenMessages().length} invalid events; driving API requests`);
    const requests = driveApi(settings.API_URL ?? '', traffic.signal);

    const running = prometheus;
    await waitFor('both targets up', 30_000, async () => {
      const up = await running.query('up');
      return up.length === 2 && up.every((sample) => sample.value[1] === '1') ? true : undefined;
    }).catch(async (error: Error) => {
      const targets = (await (await fetch(`${running.url}/api/v1/targets`)).json()) as { data: { activeTargets: { scrapeUrl: string; health: string; lastError: string }[] } };
      const states = targets.data.activeTargets.map((target) => `${target.scrapeUrl} ${target.health} ${target.lastError}`).join('; ');
      throw new Error(`${error.message}: ${states}`);
    });
    say(`both targets up; waiting ${SCRAPES} scrapes (${SCRAPES * SCRAPE_INTERVAL_SECONDS} s)`);
    await new Promise((resolve) => setTimeout(resolve, SCRAPES * SCRAPE_INTERVAL_SECONDS * 1000));

    const rows = await evaluate(prometheus);
    traffic.abort();
    say(`${await requests} API requests made`);
    printTable(rows);
    const failed = rows.filter((row) => row.problem);
    say(`${rows.length - failed.length} of ${rows.length} dashboard queries return data${failed.length > 0 ? `; ${failed.length} FAILED` : ''}`);
    return failed.length > 0 ? 1 : 0;
  } finally {
    traffic.abort();
    await prometheus?.stop();
    if (dev.exitCode === null) dev.kill('SIGTERM');
    const code = await devExited;
    if (code !== 0) say(`the embedded stack exited with ${String(code)} on stop`);
    await rm(work, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    say(`verification failed: ${(error as Error).message}`);
    process.exit(1);
  },
);
