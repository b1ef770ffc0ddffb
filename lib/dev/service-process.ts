import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * One service of the embedded stack run as a child process exactly as in production
 * (`node --import tsx <entry>`), its output lines prefixed with its name.
 */

const COLOURS = [36, 35, 33, 32, 34];
let nextColour = 0;

export interface ServiceProcess {
  name: string;
  child: ChildProcess;
  /** Resolves with the exit code (or the signal's name) when the process ends, for whatever reason. */
  exited: Promise<number | string>;
  /** True once `exited` has resolved. */
  readonly hasExited: boolean;
  /** The port it reports in the `httpPort` field of its log (what it bound for port 0). */
  httpPort: Promise<number>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  name: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Where prefixed lines go (default: this process's stdout). */
  write?: (line: string) => void;
}

/** Starts `node <args>` with the given env, prefixing each line of its stdout and stderr. */
export function spawnService(options: SpawnOptions): ServiceProcess {
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const colour = COLOURS[nextColour++ % COLOURS.length] ?? 36;
  const tag = process.stdout.isTTY ? `\u001b[${colour}m${options.name.padEnd(9)}|\u001b[0m ` : `${options.name.padEnd(9)}| `;
  const child = spawn(process.execPath, options.args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let reportPort: (port: number) => void = () => undefined;
  const httpPort = new Promise<number>((resolve) => (reportPort = resolve));
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => {
      write(`${tag}${line}`);
      if (line.includes('"httpPort"')) {
        try {
          const port = (JSON.parse(line) as { httpPort?: unknown }).httpPort;
          if (typeof port === 'number') reportPort(port);
        } catch {
          // Not a JSON log line.
        }
      }
    });
  }
  let hasExited = false;
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      hasExited = true;
      resolve(code ?? signal ?? 'unknown');
    });
    child.once('error', (error) => {
      write(`${tag}failed to start: ${error.message}`);
      hasExited = true;
      resolve(`spawn error: ${error.message}`);
    });
  });
  return {
    name: options.name,
    child,
    exited,
    get hasExited() {
      return hasExited;
    },
    httpPort,
    async stop(graceMs = 35_000) {
      if (hasExited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        write(`${tag}did not stop within ${graceMs} ms: SIGKILL`);
        child.kill('SIGKILL');
      }, graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
