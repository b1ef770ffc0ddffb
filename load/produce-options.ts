import { parseArgs } from 'node:util';
import { z } from 'zod';
import { configSchema, loadConfig } from '../lib/config.js';
import { PLAN_DEFAULTS, type PlanOptions } from './generator/plan.js';

/**
 * Options of `make produce`, from flags (`--count 1000`) or environment (`PRODUCE_COUNT=1000`),
 * flags winning; validated like every other setting of the project (lib/config.ts).
 */

const share = z.coerce.number().min(0).max(1);
const FLAGS = {
  count: 'PRODUCE_COUNT',
  duration: 'PRODUCE_DURATION_SEC',
  rate: 'PRODUCE_RATE',
  seed: 'PRODUCE_SEED',
  warehouses: 'PRODUCE_WAREHOUSES',
  products: 'PRODUCE_PRODUCTS',
  'initial-supplies': 'PRODUCE_INITIAL_SUPPLIES',
  'supply-share': 'PRODUCE_SUPPLY_SHARE',
  'loss-share': 'PRODUCE_LOSS_SHARE',
  'late-share': 'PRODUCE_LATE_ARRIVAL_SHARE',
  'duplicate-share': 'PRODUCE_DUPLICATE_SHARE',
  'invalid-share': 'PRODUCE_INVALID_SHARE',
  'overdraft-share': 'PRODUCE_OVERDRAFT_SHARE',
  'transit-min': 'PRODUCE_TRANSIT_MIN',
  'transit-max': 'PRODUCE_TRANSIT_MAX',
  topic: 'KAFKA_TOPIC',
  brokers: 'KAFKA_BROKERS',
} as const;

export const produceSchema = configSchema.extend({
  PRODUCE_COUNT: z.coerce.number().int().positive().optional(),
  PRODUCE_DURATION_SEC: z.coerce.number().positive().optional(),
  /** Messages per second; 0 means as fast as possible. */
  PRODUCE_RATE: z.coerce.number().min(0).default(0),
  PRODUCE_SEED: z.string().default('1'),
  PRODUCE_WAREHOUSES: z.coerce.number().int().min(2).default(50),
  PRODUCE_PRODUCTS: z.coerce.number().int().min(1).default(500),
  PRODUCE_INITIAL_SUPPLIES: z.coerce.number().int().min(0).optional(),
  PRODUCE_SUPPLY_SHARE: share.default(PLAN_DEFAULTS.supplyShare),
  PRODUCE_LOSS_SHARE: share.default(PLAN_DEFAULTS.lossShare),
  PRODUCE_LATE_ARRIVAL_SHARE: share.default(PLAN_DEFAULTS.lateArrivalShare),
  PRODUCE_DUPLICATE_SHARE: share.default(PLAN_DEFAULTS.duplicateShare),
  PRODUCE_INVALID_SHARE: share.default(PLAN_DEFAULTS.invalidShare),
  PRODUCE_OVERDRAFT_SHARE: share.default(PLAN_DEFAULTS.overdraftShare),
  PRODUCE_TRANSIT_MIN: z.coerce.number().int().min(1).default(PLAN_DEFAULTS.transitDelay[0]),
  PRODUCE_TRANSIT_MAX: z.coerce.number().int().min(1).default(PLAN_DEFAULTS.transitDelay[1]),
});
export type ProduceConfig = z.infer<typeof produceSchema>;

export const USAGE = `usage: make produce ARGS="[options]"   (or: npx tsx load/produce.ts [options])
  --count N            messages to send (default 10000 unless --duration is given)   PRODUCE_COUNT
  --duration S         send for S seconds instead                                    PRODUCE_DURATION_SEC
  --rate R             messages per second (default 0: as fast as possible)          PRODUCE_RATE
  --seed S             PRNG seed: the same seed sends the same stream (default 1)    PRODUCE_SEED
  --warehouses N       warehouses (default 50)                                       PRODUCE_WAREHOUSES
  --products N         products (default 500)                                        PRODUCE_PRODUCTS
  --initial-supplies N supply arrivals first (default min(warehouses×products, 1000))
  --supply-share X     share of later messages that are supplies (default ${PLAN_DEFAULTS.supplyShare})
  --loss-share X       share of movements received short (default ${PLAN_DEFAULTS.lossShare})
  --late-share X       share of movements whose arrival is reported first (default ${PLAN_DEFAULTS.lateArrivalShare})
  --duplicate-share X  share of messages re-sent unchanged (default ${PLAN_DEFAULTS.duplicateShare})
  --invalid-share X    share of invalid messages (default ${PLAN_DEFAULTS.invalidShare})
  --overdraft-share X  share of departures exceeding the stock (default ${PLAN_DEFAULTS.overdraftShare})
  --transit-min N, --transit-max N   messages between a movement's two sides (default ${PLAN_DEFAULTS.transitDelay.join('..')})
  --topic T            topic (default KAFKA_TOPIC)
  --brokers H:P        Kafka bootstrap list (default: KAFKA_BROKERS, else the running make dev stack)`;

/** Parses argv and the environment; throws ConfigError or a TypeError naming the bad flag. */
export function parseProduceOptions(argv: string[], env: Record<string, string>): { config: ProduceConfig; plan: PlanOptions; help: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: { ...Object.fromEntries(Object.keys(FLAGS).map((flag) => [flag, { type: 'string' as const }])), help: { type: 'boolean', short: 'h' } },
    strict: true,
    allowPositionals: false,
  });
  const fromFlags: Record<string, string> = {};
  for (const [flag, variable] of Object.entries(FLAGS)) {
    const value = (values as Record<string, unknown>)[flag];
    if (typeof value === 'string') fromFlags[variable] = value;
  }
  const config = loadConfig({ ...env, ...fromFlags }, produceSchema);
  if (config.PRODUCE_COUNT === undefined && config.PRODUCE_DURATION_SEC === undefined) config.PRODUCE_COUNT = 10_000;
  const plan: PlanOptions = {
    seed: /^\d+$/.test(config.PRODUCE_SEED) ? Number(config.PRODUCE_SEED) : config.PRODUCE_SEED,
    warehouses: config.PRODUCE_WAREHOUSES,
    products: config.PRODUCE_PRODUCTS,
    supplyShare: config.PRODUCE_SUPPLY_SHARE,
    lossShare: config.PRODUCE_LOSS_SHARE,
    lateArrivalShare: config.PRODUCE_LATE_ARRIVAL_SHARE,
    duplicateShare: config.PRODUCE_DUPLICATE_SHARE,
    invalidShare: config.PRODUCE_INVALID_SHARE,
    overdraftShare: config.PRODUCE_OVERDRAFT_SHARE,
    transitDelay: [config.PRODUCE_TRANSIT_MIN, config.PRODUCE_TRANSIT_MAX],
    ...(config.PRODUCE_INITIAL_SUPPLIES !== undefined ? { initialSupplies: config.PRODUCE_INITIAL_SUPPLIES } : {}),
  };
  return { config, plan, help: values.help === true };
}
