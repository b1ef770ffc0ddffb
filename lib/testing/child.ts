import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Services as child processes for tests, started exactly as in production
 * (`node --import tsx <entry>`), with an environment built from an allow-list, and their JSON log
 * lines readable as they come, so a test waits on what a child says (its bound port, an
 * assignment, a fence) instead of on time.
 */

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The only variables a child inherits from the test runner: what a Node.js process needs to run
 * at all. Everything the services read (DATABASE_URL, KAFKA_*, BATCH_*, LOW_STOCK_THRESHOLD, ...)
 * is set by the test, so an exported setting in the runner's shell cannot change what a test's
 * oracle expects.
 */
export const INHERITED_ENV = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ'] as const;

/** The allow-listed part of this process's environment plus `settings` (undefined ones left out). */
export function childEnv(settings: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of INHERITED_ENV) if (process.env[name] !== undefined) env[name] = process.env[name];
  for (const [name, value] of Object.entries(settings)) if (value !== undefined) env[name] = value;
  return env;
}

/** One JSON log line of a service (pino: `level` as its label, `msg`, `module`, and the fields). */
export type LogLine = Record<string, unknown> & { level?: string; msg?: string; module?: string };

/** Parses the JSON lines of `text`, skipping anything that is not a JSON object. */
export function parseLogLines(text: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(line) as LogLine);
    } catch {
      // A line cut by a SIGKILL, or not JSON at all.
    }
  }
  return lines;
}

export interface TestChild {
  child: ChildProcess;
  /** Everything the process printed on stdout and stderr, for assertions and failure messages. */
  output(): string;
  /** Its JSON log lines so far. */
  logs(): LogLine[];
  /** Resolves with the exit code (null when a signal ended it). */
  exited: Promise<number | null>;
  /**
   * Resolves with the first log line at index `from` or later (0: from the start; take
   * `logs().length` before an action to wait for what it causes) that `matches`; fails when the
   * process exits first or after `timeoutMs`, quoting the end of its output.
   */
  waitForLog(matches: (line: LogLine) => boolean, what: string, timeoutMs: number, from?: number): Promise<LogLine>;
  /** The port the service bound (its `httpPort` log field: API_PORT or PROCESSOR_PORT 0). */
  httpPort(timeoutMs?: number): Promise<number>;
  /** Sends `signal` (unless it already ended) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `node --import tsx <entry>` in the repository root with exactly `env`. */
export function startNodeChild(entry: string, env: NodeJS.ProcessEnv, args: string[] = []): TestChild {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, entry), ...args], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let parsedUpTo = 0;
  const parsed: LogLine[] = [];
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    output += chunk.toString();
    for (const wake of [...listeners]) wake();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
    for (const wake of [...listeners]) wake();
  });

  const logs = (): LogLine[] => {
    // Only whole lines: the last one may still be arriving.
    const end = output.lastIndexOf('\n') + 1;
    if (end > parsedUpTo) {
      parsed.push(...parseLogLines(output.slice(parsedUpTo, end)));
      parsedUpTo = end;
    }
    return parsed;
  };

  const waitForLog: TestChild['waitForLog'] = (matches, what, timeoutMs, from = 0) =>
    new Promise((resolve, reject) => {
      const finish = (outcome: () => void): void => {
        clearTimeout(timer);
        listeners.delete(check);
        outcome();
      };
      const check = (): void => {
        const found = logs().slice(from).find(matches);
        if (found) return finish(() => resolve(found));
        if (hasExited) finish(() => reject(new Error(`${entry} exited (${String(child.exitCode ?? child.signalCode)}) before ${what}\n${output.slice(-3000)}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`${entry}: no ${what} within ${timeoutMs} ms\n${output.slice(-3000)}`))), timeoutMs);
      listeners.add(check);
      check();
    });

  return {
    child,
    output: () => output,
    logs,
    exited,
    waitForLog,
    async httpPort(timeoutMs = 30_000) {
      const line = await waitForLog((l) => typeof l.httpPort === 'number', 'its httpPort log line (LOG_LEVEL must be info or lower)', timeoutMs);
      return line.httpPort as number;
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
  };
}
