/**
 * `make migrate`: applies pending migrations to DATABASE_URL (or the running embedded stack's
 * database from .dev/stack.env) and prints what it did.
 */
import { loadConfig } from '../lib/config.js';
import { migrate } from '../lib/db/migrations.js';
import { redactUrl } from '../lib/db/url.js';
import { readStackEnv } from '../lib/dev/stack-env.js';

async function main(): Promise<void> {
  const config = loadConfig({ ...(await readStackEnv()), ...process.env });
  const result = await migrate(config.DATABASE_URL);
  const target = redactUrl(config.DATABASE_URL);
  console.log(`migrations at ${target}: ${result.applied.length} applied, ${result.alreadyApplied.length} already applied`);
  for (const name of result.applied) console.log(`  applied ${name}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
