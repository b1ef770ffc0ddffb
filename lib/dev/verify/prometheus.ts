import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { freePort } from '../../db/embedded-postgres.js';

/**
 * A real Prometheus (Debian's `prometheus` binary) scraping the embedded stack, for
 * `make verify-dashboard`: its own port, its own temporary data directory, a fast scrape interval.
 */

/** 2 s: enough samples for rate() within the verification's short run. */
export const SCRAPE_INTERVAL_SECONDS = 2;

export interface RunningPrometheus {
  url: string;
  process: ChildProcess;
  /** Runs an instant query; returns the result vector (throws on a query error). */
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  /** Every metric name Prometheus has scraped. */
  metricNames(): Promise<Set<string>>;
  stop(): Promise<void>;
}

interface ApiAnswer<T> {
  status: 'success' | 'error';
  data: T;
  error?: string;
}

async function api<T>(url: string): Promise<T> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const body = (await response.json()) as ApiAnswer<T>;
  if (body.status !== 'success') throw new Error(body.error ?? `HTTP ${response.status}`);
  return body.data;
}

/** Writes a config for the two targets and starts Prometheus; resolves once it is ready. */
export async function startPrometheus(workDir: string, targets: { processor: string; api: string }): Promise<RunningPrometheus> {
  const port = await freePort();
  const config = path.join(workDir, 'prometheus.yml');
  await writeFile(
    config,
    [
      'global:',
      `  scrape_interval: ${SCRAPE_INTERVAL_SECONDS}s`,
      `  evaluation_interval: ${SCRAPE_INTERVAL_SECONDS}s`,
      'scrape_configs:',
      '  - job_name: processor',
      `    static_configs: [{ targets: ['${targets.processor}'] }]`,
      '  - job_name: api',
      `    static_configs: [{ targets: ['${targets.api}'] }]`,
      '',
    ].join('\n'),
  );
  const child = spawn(
    'prometheus',
    [`--config.file=${config}`, `--storage.tsdb.path=${path.join(workDir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawnFailed = new Promise<never>((_, reject) => child.once('error', (error) => reject(new Error(`cannot run prometheus: ${error.message} (apt-get install prometheus)`))));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ready = await Promise.race([
      fetch(`${url}/-/ready`).then(
        (response) => response.ok,
        () => false,
      ),
      spawnFailed,
    ]);
    if (ready) break;
    if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode} while starting`);
    if (Date.now() > deadline) throw new Error('prometheus was not ready within 30 s');
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return {
    url,
    process: child,
    query: async (expr) => (await api<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`)).result,
    metricNames: async () => new Set(await api<string[]>(`${url}/api/v1/label/__name__/values`)),
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}
