/**
 * `make produce`: sends a realistic, reproducible stream of movement events (load/generator) to
 * the running stack's topic, with a progress line and a summary. See `--help`.
 */
import { ConfigError } from '../lib/config.js';
import { resolvePlanOptions, planMessages } from './generator/plan.js';
import { createProgress, formatCount } from './lib/progress.js';
import { sendPlanned } from './lib/send.js';
import { findStack, reachableBrokers } from './lib/stack.js';
import { parseProduceOptions, USAGE } from './produce-options.js';

async function main(): Promise<number> {
  const target = await findStack();
  let parsed;
  try {
    parsed = parseProduceOptions(process.argv.slice(2), target.env);
    resolvePlanOptions(parsed.plan);
  } catch (error) {
    console.error(`${error instanceof ConfigError || error instanceof TypeError || error instanceof RangeError ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.help) {
    console.log(USAGE);
    return 0;
  }
  const { config, plan } = parsed;
  const brokers = await reachableBrokers({ ...target, env: { ...target.env, KAFKA_BROKERS: config.KAFKA_BROKERS } });
  const what = config.PRODUCE_COUNT !== undefined ? `${formatCount(config.PRODUCE_COUNT)} messages` : `${config.PRODUCE_DURATION_SEC} s`;
  const pace = config.PRODUCE_RATE > 0 ? `at ${formatCount(config.PRODUCE_RATE)} msg/s` : 'as fast as possible';
  console.error(`producing ${what} ${pace} to ${config.KAFKA_TOPIC} at ${brokers} (seed ${String(plan.seed)}, ${plan.warehouses} warehouses, ${plan.products} products)`);

  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  const progress = createProgress({ label: 'produce', ...(config.PRODUCE_COUNT !== undefined ? { total: config.PRODUCE_COUNT } : {}) });
  const stats = await sendPlanned({
    brokers,
    topic: config.KAFKA_TOPIC,
    // Real production time in the envelope, so the processor's end-to-end latency is meaningful.
    messages: planMessages({ ...plan, clock: () => Date.now() }),
    ...(config.PRODUCE_COUNT !== undefined ? { count: config.PRODUCE_COUNT } : {}),
    ...(config.PRODUCE_DURATION_SEC !== undefined ? { durationSec: config.PRODUCE_DURATION_SEC } : {}),
    rate: config.PRODUCE_RATE,
    signal: controller.signal,
    onProgress: (s) => progress.update(s.sent, s.failed > 0 ? `${s.failed} failed` : undefined),
  });
  progress.finish(stats.sent);
  const seconds = stats.elapsedMs / 1000;
  console.log(
    `sent ${stats.sent}, delivered ${stats.delivered}, failed ${stats.failed} in ${seconds.toFixed(2)} s: ${formatCount(stats.delivered / seconds)} msg/s` +
      (stats.firstError ? ` (first error: ${stats.firstError})` : ''),
  );
  return stats.failed > 0 || stats.delivered < stats.sent ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
