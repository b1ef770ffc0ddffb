import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopOnSignal } from './cleanup.js';
import { sleep } from './send.js';

/**
 * A service (processor or API) run as a child process, `node --import tsx <entry>`, exactly as in
 * production but for tsx; its JSON logs go to a file so a failure can be read after the run.
 */

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface Service {
  name: string;
  child: ChildProcess;
  logFile: string;
  /** Waits until `url` answers 200, or throws with the log's tail when the child dies or time runs out. */
  waitReady(url: string, timeoutMs?: number): Promise<void>;
  /** The last lines of the service's log. */
  logTail(lines?: number): Promise<string>;
  /** Peak resident set size so far, bytes (Linux VmHWM), or undefined where /proc is absent. */
  peakRssBytes(): Promise<number | undefined>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

export function startService(name: string, entry: string, env: Record<string, string>, logFile: string): Service {
  mkdirSync(path.dirname(logFile), { recursive: true });
  const log = createWriteStream(logFile);
  // BENCH_CPU_PROFILE_DIR=<dir> writes a V8 CPU profile of each service there (Node refuses
  // --cpu-prof in NODE_OPTIONS); that is how the notifier's cost per message was found.
  const profileDir = process.env.BENCH_CPU_PROFILE_DIR;
  const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', entry], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve((exitCode = code))));
  const unregister = stopOnSignal(() => stop(5000));

  const tail = async (lines = 15): Promise<string> => {
    const text = await readFile(logFile, 'utf8').catch(() => '');
    return text.split('\n').slice(-lines).join('\n');
  };

  return {
    name,
    child,
    logFile,
    logTail: tail,
    async waitReady(url, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (exitCode !== undefined) throw new Error(`${name} exited with code ${exitCode} before it was ready; log ${logFile}:\n${await tail()}`);
        const ok = await fetch(url, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false);
        if (ok) return;
        if (Date.now() > deadline) throw new Error(`${name} not ready at ${url} after ${timeoutMs} ms; log ${logFile}:\n${await tail()}`);
        await sleep(200);
      }
    },
    async peakRssBytes() {
      if (!child.pid) return undefined;
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8').catch(() => '');
      const match = /VmHWM:\s+(\d+) kB/.exec(status);
      return match ? Number(match[1]) * 1024 : undefined;
    },
    stop: (graceMs = 30_000) => {
      unregister();
      return stop(graceMs);
    },
  };

  async function stop(graceMs: number): Promise<number | null> {
    if (exitCode !== undefined) return exitCode;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    const code = await exited;
    clearTimeout(timer);
    log.end();
    return code;
  }
}
