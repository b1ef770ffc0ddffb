import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { configSchema, loadConfig } from '../config.js';
import { STACK_ENV_PATH } from './stack-env.js';

/**
 * Settings of `make dev` on top of the services' own (lib/config.ts), which it passes on to the
 * processor and the API. Only the orchestrator reads the DEV_ variables.
 */

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const flag = z
  .enum(['0', '1', 'true', 'false', 'yes', 'no', ''])
  .transform((value) => value === '1' || value === 'true' || value === 'yes');

export const devConfigSchema = configSchema.extend({
  /** Events per second from the generator (load/produce.ts) while the stack runs; 0 starts none. */
  DEV_PRODUCE_RATE: z.coerce.number().min(0).max(1_000_000).default(0),
  /** Keep the PostgreSQL data of the last run instead of starting from an empty database. */
  DEV_KEEP_DATA: flag.default(false),
  /** Where the embedded PostgreSQL keeps its data (git-ignored). */
  DEV_DATA_DIR: z.string().min(1).default(path.join(REPO_ROOT, '.dev/postgres')),
  /** The stack file other tools read; tests and `make verify-dashboard` point it elsewhere. */
  DEV_STACK_ENV: z.string().min(1).default(STACK_ENV_PATH),
  /** How long each service may take to answer /ready. */
  DEV_READY_TIMEOUT_MS: z.coerce.number().int().min(1000).max(600_000).default(60_000),
  /** PostgreSQL port; 0 picks a free one, so a system PostgreSQL on 5432 is no conflict. */
  DEV_POSTGRES_PORT: z.coerce.number().int().min(0).max(65535).default(0),
});

export type DevConfig = z.infer<typeof devConfigSchema>;

/** Reads the dev settings from the environment; throws ConfigError naming each bad variable. */
export function loadDevConfig(env: NodeJS.ProcessEnv = process.env): DevConfig {
  return loadConfig(env, devConfigSchema);
}

export { REPO_ROOT };
