import net from 'node:net';
import { loadConfig } from '../../lib/config.js';
import { readStackEnv, STACK_ENV_PATH } from '../../lib/dev/stack-env.js';

/**
 * Finds the stack the load tools talk to: the variables in the environment, else the running
 * embedded stack's `.dev/stack.env` (written by `make dev`), else lib/config.ts's defaults (the
 * containers' ports). Returns where each setting came from, for clear errors.
 */
export interface StackTarget {
  env: Record<string, string>;
  /** `environment`, `.dev/stack.env` or `default`, per variable asked about. */
  origin(name: string): string;
}

export async function findStack(env: NodeJS.ProcessEnv = process.env): Promise<StackTarget> {
  const stack = await readStackEnv();
  const explicit = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''));
  return {
    env: { ...stack, ...explicit },
    origin: (name) => (name in explicit ? 'environment' : name in stack ? STACK_ENV_PATH : 'default'),
  };
}

/** True when a TCP connection to host:port opens within `timeoutMs`. */
export function isReachable(hostPort: string, timeoutMs = 2000): Promise<boolean> {
  const at = hostPort.lastIndexOf(':');
  const host = hostPort.slice(0, at);
  const port = Number(hostPort.slice(at + 1));
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * The reachable Kafka bootstrap list of the stack, or an Error saying what was tried and how to
 * start a stack.
 */
export async function reachableBrokers(target: StackTarget): Promise<string> {
  const { KAFKA_BROKERS: brokers } = loadConfig(target.env);
  const origin = target.origin('KAFKA_BROKERS');
  if (brokers === 'mock') {
    throw new Error('KAFKA_BROKERS=mock starts a private in-process cluster nobody else reads; point it at a running stack (make dev) or a broker');
  }
  for (const broker of brokers.split(',')) if (await isReachable(broker)) return brokers;
  throw new Error(
    `no Kafka broker reachable at KAFKA_BROKERS=${brokers} (from ${origin}). Start the stack with \`make dev\` (embedded) or \`make start\` (containers), or set KAFKA_BROKERS=host:port`,
  );
}
