import { z } from 'zod';

/**
 * Configuration from environment variables, validated once at start-up. A bad value stops the
 * service with a message that names the variable, what it holds and what it should hold.
 */

/** A TCP port to listen on; 0 binds any free port, which the service logs in its `httpPort` field. */
const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const secret = z.string().min(8, 'at least 8 characters').max(1024);
/** pino's levels, and `silent` (lib/log.ts falls back to info on anything else, so this names the variable). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const topicName = z.string().regex(/^[a-zA-Z0-9._-]{1,249}$/, 'a Kafka topic name ([a-zA-Z0-9._-], at most 249 characters)');

export const configSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'a postgres:// or postgresql:// connection URL')
    .default('postgresql://postgres:postgres@127.0.0.1:5432/warehouse'),
  /** Comma-separated host:port list, or `mock` for the in-process librdkafka mock cluster. */
  KAFKA_BROKERS: z
    .string()
    .regex(/^(mock|[^,\s]+:\d+(,[^,\s]+:\d+)*)$/, 'a comma-separated host:port list, or "mock"')
    .default('127.0.0.1:9092'),
  KAFKA_TOPIC: topicName.default('warehouse.movements'),
  KAFKA_DLQ_TOPIC: topicName.default('warehouse.movements.dlq'),
  KAFKA_NOTIFY_TOPIC: topicName.default('warehouse.stock.events'),
  KAFKA_GROUP_ID: z.string().min(1).default('warehouse-processor'),
  /**
   * How long the group waits for a silent member before giving its partitions to others
   * (librdkafka session.timeout.ms). A broker refuses values below its
   * group.min.session.timeout.ms (6 s by default); the tests lower it on the mock cluster, where a
   * SIGKILLed instance otherwise holds its partitions for the full 10 s.
   */
  KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(1000).max(3_600_000).default(10_000),
  /**
   * Flush a batch at this many records. 10k: in the `make bench` sweep (load/results/bench.md)
   * 10k and 50k sustained the same rate, 2k about 20% less; 10k keeps flushes near 1 s (p50) and
   * the processor's memory lower.
   */
  BATCH_MAX_RECORDS: positiveInt.max(1_000_000).default(10_000),
  /** Flush a batch this long after its first record, in milliseconds. */
  BATCH_MAX_WAIT_MS: positiveInt.max(600_000).default(200),
  LOW_STOCK_THRESHOLD: z.coerce.number().int().min(0).max(2_147_483_647).default(10),
  API_PORT: port.default(8000),
  /** Bearer token that enables POST /api/events; unset keeps the API read-only. */
  API_WRITE_TOKEN: z.string().min(16, 'at least 16 characters').max(512).optional(),
  /** Read-cache staleness bound in milliseconds (0 disables the cache): see README "Read API". */
  API_CACHE_TTL_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
  /**
   * statement_timeout of the API's database sessions, in milliseconds: a query running longer is
   * cancelled by the server and the request answers 503. Every API query is an index read of at
   * most one page (milliseconds); 5 s only ever cuts a query that would otherwise hold a backend.
   */
  API_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(5000),
  /**
   * Open live streams (SSE) at most; one more answers 503. A subscriber may queue up to 4 MiB
   * before it is dropped (api/status-hub.ts), so 500 bounds that memory at 2 GiB.
   */
  API_SSE_MAX_SUBSCRIBERS: positiveInt.max(100_000).default(500),
  PROCESSOR_PORT: port.default(9101),
  /** The processor's limit on one write statement (COPY, merge), in ms: processor/writer.ts. */
  PROCESSOR_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(1000).max(3_600_000).default(60_000),
  /** Testing only: SIGKILL the processor at this point of its PROCESSOR_CRASH_ON_BATCH-th batch write. */
  PROCESSOR_CRASH_AT: z.enum(['after-copy', 'after-merge', 'after-commit']).optional(),
  PROCESSOR_CRASH_ON_BATCH: positiveInt.default(1),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  /**
   * Read by the migration job only (prisma/migrate.ts): set, the role wsm_processor / wsm_api gets
   * LOGIN with this password; unset, the role stays NOLOGIN. Never shown in messages.
   */
  PROCESSOR_DATABASE_PASSWORD: secret.optional(),
  API_DATABASE_PASSWORD: secret.optional(),
});

export type Config = z.infer<typeof configSchema>;

/** Thrown when one or more variables are invalid; the message lists every one of them. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Reads the configuration from `env` (an empty string counts as unset).
 *
 * @throws ConfigError naming each bad variable
 */
export function loadConfig<S extends z.ZodObject = typeof configSchema>(
  env: NodeJS.ProcessEnv = process.env,
  schema: S = configSchema as unknown as S,
): z.infer<S> {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = schema.safeParse(present);
  if (parsed.success) return parsed.data;
  throw new ConfigError(
    parsed.error.issues.map((issue) => {
      const name = issue.path.join('.');
      return `${name}=${shownValue(name, present[name])}: ${issue.message}`;
    }),
  );
}

/** Variables whose value is a secret whole: never shown. */
const SECRET_NAME = /PASSWORD|TOKEN|SECRET/;

/**
 * A bad value as an error message may show it: secrets masked whole, the password of a URL
 * (a DATABASE_URL that fails validation may still carry one) masked.
 */
function shownValue(name: string, value: string | undefined): string {
  if (value === undefined) return 'undefined';
  if (SECRET_NAME.test(name)) return '"***"';
  return JSON.stringify(value.replace(/(\/\/[^/@:]*:)[^@/]*@/, '$1***@'));
}

/** Splits KAFKA_BROKERS into its list, or undefined for `mock`. */
export function brokerList(brokers: string): string[] | undefined {
  return brokers === 'mock' ? undefined : brokers.split(',');
}
