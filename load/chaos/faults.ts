import type { ChaosStack } from './stack.js';

/**
 * The faults a campaign injects, each a production event the processors must survive without
 * loss or double application:
 *
 * - `kill`: SIGKILL one processor at an arbitrary moment (uncommitted batches are redelivered to
 *   the partition's next owner, which starts from the stored offsets);
 * - `start`: a new processor joins the group (rebalance: revoke, flush, reassign);
 * - `postgres-restart`: PostgreSQL stops and starts again (every connection breaks);
 * - `cut`: the network between processors and PostgreSQL resets every connection for a while;
 * - `blackhole`: that network silently drops everything for a while (no RST: only the processors'
 *   own timeouts notice, lib/db/connection.ts).
 */
export const FAULT_KINDS = ['kill', 'start', 'postgres-restart', 'cut', 'blackhole'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export const FAULT_LABELS: Record<FaultKind, string> = {
  kill: 'processor SIGKILLed',
  start: 'processor started',
  'postgres-restart': 'PostgreSQL restarted',
  cut: 'connections cut',
  blackhole: 'network blackholed',
};

/** The campaign keeps 2 to 3 processors in the group. */
export const MIN_PROCESSORS = 2;
export const MAX_PROCESSORS = 3;

/** A seeded PRNG (mulberry32), so a campaign's faults can be replayed with its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The next fault to inject: any kind, except that a group at its size cap gets no new member and a
 * group at its floor loses none (a kill is then followed by a start, in the same step).
 */
export function pickFault(random: () => number, running: number): FaultKind {
  const allowed = FAULT_KINDS.filter((kind) => (kind === 'start' ? running < MAX_PROCESSORS : true));
  return allowed[Math.floor(random() * allowed.length)]!;
}

/**
 * Injects one fault and waits until it is over (the network restored, PostgreSQL back, a killed
 * processor replaced when the group fell below its floor). Returns the faults injected, in order.
 */
export async function injectFault(stack: ChaosStack, kind: FaultKind, random: () => number): Promise<FaultKind[]> {
  const between = (low: number, high: number) => low + Math.floor(random() * (high - low));
  switch (kind) {
    case 'kill': {
      const victim = stack.processors[Math.floor(random() * stack.processors.length)];
      if (!victim) return [];
      victim.child.kill('SIGKILL');
      await new Promise((resolve) => (victim.child.exitCode !== null || victim.child.signalCode !== null ? resolve(undefined) : victim.child.once('exit', resolve)));
      if (stack.processors.length >= MIN_PROCESSORS) return ['kill'];
      await sleep(between(500, 3000));
      await stack.startProcessor();
      return ['kill', 'start'];
    }
    case 'start':
      await stack.startProcessor();
      return ['start'];
    case 'postgres-restart':
      await stack.restartPostgres(between(500, 3000));
      return ['postgres-restart'];
    case 'cut':
      stack.proxy.cut();
      await sleep(between(2000, 6000));
      stack.proxy.restore();
      return ['cut'];
    case 'blackhole':
      stack.proxy.blackhole();
      await sleep(between(4000, 12_000));
      stack.proxy.restore();
      return ['blackhole'];
  }
}
