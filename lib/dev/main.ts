/**
 * `make dev`: runs the product on this machine (embedded PostgreSQL, the librdkafka mock cluster,
 * the processor, the API, optionally the generator). This process only supervises: it starts
 * lib/dev/runner.ts in a process group of its own and, on Ctrl-C or SIGTERM, asks it to stop in
 * order, then makes sure nothing of that group is left. Exit code: the runner's (0 after a clean
 * stop, 1 when a part failed to start or died).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const RUNNER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'runner.ts');
// The runner's own budget: services 35 s, PostgreSQL 15 s; past that, SIGKILL the group.
const STOP_TIMEOUT_MS = 60_000;

const runner = spawn(process.execPath, ['--import', 'tsx', RUNNER], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], detached: true });
const group = runner.pid;

function killGroup(signal: NodeJS.Signals): void {
  if (group === undefined) return;
  try {
    process.kill(-group, signal);
  } catch {
    // ESRCH: the group is already empty.
  }
}

let stopping = false;
const stop = (signal: NodeJS.Signals) => () => {
  if (stopping) {
    process.stdout.write(`dev      | stopping already; ${signal} again forces it\n`);
    killGroup('SIGKILL');
    return;
  }
  stopping = true;
  runner.kill('SIGTERM');
  setTimeout(() => {
    process.stdout.write(`dev      | the stack did not stop within ${STOP_TIMEOUT_MS} ms: SIGKILL\n`);
    killGroup('SIGKILL');
  }, STOP_TIMEOUT_MS).unref();
};
process.on('SIGINT', stop('SIGINT'));
process.on('SIGTERM', stop('SIGTERM'));
process.on('SIGHUP', stop('SIGHUP'));

runner.on('exit', (code, signal) => {
  // Anything the runner left in its group (it should leave nothing) goes with it.
  killGroup('SIGKILL');
  process.exit(code ?? (signal ? 1 : 0));
});
runner.on('error', (error) => {
  process.stderr.write(`make dev: cannot start ${RUNNER}: ${error.message}\n`);
  process.exit(1);
});
