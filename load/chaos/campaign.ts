import { KafkaProducer } from '../../lib/kafka/producer.js';
import { compareWithTruth, type Comparison } from './compare.js';
import { FAULT_KINDS, injectFault, MIN_PROCESSORS, pickFault, seededRandom, type FaultKind } from './faults.js';
import { startChaosStack, withOwner, type ChaosStack } from './stack.js';
import { chaosStream } from './truth.js';

/**
 * A fault campaign: a seeded stream produced into the embedded stack at a steady rate, paced so
 * the consumers' lag stays well inside the mock cluster's retention (~5 MB per partition), while
 * faults hit it (load/chaos/faults.ts); then every fault is over, the processors catch up, and
 * the database is compared with the oracle's truth for what was produced.
 */

export interface CampaignOptions {
  seed: number;
  /** How long to produce (and inject faults); the stream is sized for it at `rate`. */
  durationMs: number;
  /** Events per second. */
  rate: number;
  /**
   * Faults: `random` (seeded kinds, one after another with a random gap in `faultGapMs`), or a
   * fixed list injected at evenly spread moments.
   */
  faults: 'random' | readonly FaultKind[];
  faultGapMs: readonly [number, number];
  /**
   * Most messages produced ahead of the stored offsets. 20k across 4 partitions is ~5k per
   * partition, a fifth of what the mock cluster keeps (about 30k generated messages).
   */
  maxLag: number;
  /** How long the processors may take to catch up after the last fault. */
  drainTimeoutMs: number;
  logDir: string;
  say(line: string): void;
}

export interface CampaignReport {
  options: Pick<CampaignOptions, 'seed' | 'durationMs' | 'rate'>;
  faults: Record<FaultKind, number>;
  produced: { messages: number; valid: number; invalid: number };
  /** Largest lag seen (messages produced ahead of the stored offsets). */
  maxLagSeen: number;
  /** Time from the end of producing and faults to everything committed. */
  catchUpMs: number;
  elapsedMs: number;
  comparison: Comparison;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runCampaign(options: CampaignOptions): Promise<CampaignReport> {
  const started = Date.now();
  const random = seededRandom(options.seed);
  // About 2.15 messages per movement; one invalid message per 200 valid ones.
  const stream = chaosStream({ seed: options.seed, movements: Math.ceil((options.rate * options.durationMs) / 1000 / 2.15) + 10, invalidEvery: 200 });
  const stack = await startChaosStack({ logDir: options.logDir, batchMaxRecords: 2000, statementTimeoutMs: 10_000 });
  const faults = Object.fromEntries(FAULT_KINDS.map((kind) => [kind, 0])) as Record<FaultKind, number>;
  try {
    for (let i = 0; i < MIN_PROCESSORS; i++) await stack.startProcessor();
    options.say(`stack up: ${stack.processors.length} processors, mock cluster ${stack.brokers}, ${stream.messages.length} messages planned at ${options.rate}/s`);

    const committed = new CommittedOffsets(stack);
    const producing = produce(stack, stream.messages, options, committed);
    const injecting = injectFaults(stack, options, random, faults, producing.done);
    const reporter = setInterval(() => {
      options.say(
        `t=${Math.round((Date.now() - started) / 1000)}s produced ${producing.sent()} committed ${committed.value} ` +
          `processors ${stack.processors.length} faults ${FAULT_KINDS.map((kind) => `${kind}:${faults[kind]}`).join(' ')}`,
      );
    }, 5000);
    try {
      const sent = await producing.finished;
      await injecting;
      const lastFault = Date.now();
      while (stack.processors.length < 1) await stack.startProcessor();
      options.say(`faults over; waiting for the processors to commit all ${sent} messages`);
      const deadline = Date.now() + options.drainTimeoutMs;
      for (;;) {
        await committed.refresh();
        if (committed.value >= sent) break;
        if (Date.now() > deadline) throw new Error(`the processors committed ${committed.value} of ${sent} messages within ${options.drainTimeoutMs} ms of the last fault; logs in ${options.logDir}`);
        if (stack.processors.length === 0) await stack.startProcessor();
        await sleep(500);
      }
      const catchUpMs = Date.now() - lastFault;
      const truth = stream.truthAfter(sent);
      const invalid = stream.messages.slice(0, sent).filter((message) => !message.envelope).length;
      const comparison = await withOwner(stack.ownerUrl, (client) => compareWithTruth(client, truth, invalid));
      if (!comparison) throw new Error('cannot read the database to compare');
      return {
        options: { seed: options.seed, durationMs: options.durationMs, rate: options.rate },
        faults,
        produced: { messages: sent, valid: sent - invalid, invalid },
        maxLagSeen: producing.maxLag(),
        catchUpMs,
        elapsedMs: Date.now() - started,
        comparison,
      };
    } finally {
      clearInterval(reporter);
    }
  } finally {
    await stack.stop();
  }
}

/** The sum of the group's stored offsets: on a fresh topic, the messages committed. */
class CommittedOffsets {
  value = 0;
  constructor(private readonly stack: ChaosStack) {}
  async refresh(): Promise<void> {
    const read = await withOwner(this.stack.ownerUrl, async (client) => {
      const { rows } = await client.query<{ n: string | null }>('SELECT sum(next_offset) AS n FROM consumer_offsets WHERE group_id = $1 AND topic = $2', [
        this.stack.groupId,
        this.stack.topic,
      ]);
      return Number(rows[0]?.n ?? 0);
    });
    // Unknown while PostgreSQL restarts: keep the last value, which only holds the producer back.
    if (read !== undefined) this.value = read;
  }
}

/** Produces the stream at `rate`, for `durationMs` at most, holding back while the lag is at `maxLag`. */
function produce(stack: ChaosStack, messages: readonly { value: Buffer | null; key: string; partition: number }[], options: CampaignOptions, committed: CommittedOffsets) {
  let sent = 0;
  let maxLag = 0;
  let done = false;
  const finished = (async () => {
    const producer = new KafkaProducer(stack.brokers, 'chaos-producer');
    await producer.connect();
    const deliveries: Promise<void>[] = [];
    const started = Date.now();
    let lastRefresh = 0;
    try {
      while (sent < messages.length && Date.now() - started < options.durationMs) {
        if (Date.now() - lastRefresh > 250) {
          await committed.refresh();
          lastRefresh = Date.now();
        }
        maxLag = Math.max(maxLag, sent - committed.value);
        if (sent - committed.value >= options.maxLag) {
          await sleep(100);
          continue;
        }
        // Paced: never ahead of rate x elapsed time.
        const due = Math.floor(((Date.now() - started) / 1000) * options.rate);
        if (sent >= due) {
          await sleep(Math.max(1, ((sent + 1) / options.rate) * 1000 - (Date.now() - started)));
          continue;
        }
        const message = messages[sent]!;
        deliveries.push((await producer.send(stack.topic, message.value, message.key, undefined, message.partition)).delivered);
        sent++;
      }
      await producer.flush();
      const failed = (await Promise.allSettled(deliveries)).filter((result) => result.status === 'rejected').length;
      if (failed > 0) throw new Error(`${failed} messages were not delivered to the mock cluster: the truth would not match what was produced`);
      return sent;
    } finally {
      done = true;
      await producer.close();
    }
  })();
  return { finished, sent: () => sent, maxLag: () => maxLag, done: () => done };
}

/** Injects faults while the producer runs, each one over before the next starts. */
async function injectFaults(stack: ChaosStack, options: CampaignOptions, random: () => number, faults: Record<FaultKind, number>, producerDone: () => boolean): Promise<void> {
  const [low, high] = options.faultGapMs;
  const plan = options.faults === 'random' ? undefined : [...options.faults];
  // A fixed plan is spread over the producing time; a random one waits a random gap each time.
  const gap = plan ? options.durationMs / (plan.length + 1) : undefined;
  // A fixed plan is injected whole, even after the producer ended; random faults stop with it.
  while (plan ? plan.length > 0 : !producerDone()) {
    const wait = gap ?? low + random() * (high - low);
    const until = Date.now() + wait;
    while (Date.now() < until && (plan || !producerDone())) await sleep(100);
    if (!plan && producerDone()) return;
    const kind = plan ? plan.shift() : pickFault(random, stack.processors.length);
    if (!kind) return;
    options.say(`fault: ${kind}`);
    for (const injected of await injectFault(stack, kind, random)) faults[injected]++;
  }
}
