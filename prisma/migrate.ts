/**
 * `make migrate` (and the container stack's migration job): applies pending migrations to
 * DATABASE_URL (or the running embedded stack's database from .dev/stack.env), then gives the
 * services' roles LOGIN and their passwords when PROCESSOR_DATABASE_PASSWORD /
 * API_DATABASE_PASSWORD are set (prisma/migrations/…_roles), and prints what it did. The job may
 * start before the database accepts sessions: it waits up to a minute.
 */
import { loadConfig } from '../lib/config.js';
import { migrate } from '../lib/db/migrations.js';
import { setRolePasswords } from '../lib/db/roles.js';
import { redactUrl } from '../lib/db/url.js';
import { readStackEnv } from '../lib/dev/stack-env.js';
import { waitForDatabase } from './wait-for-database.js';

async function main(): Promise<void> {
  const config = loadConfig({ ...(await readStackEnv()), ...process.env });
  const target = redactUrl(config.DATABASE_URL);
  await waitForDatabase(config.DATABASE_URL, { onRetry: (error) => console.log(`waiting for the database at ${target}: ${error.message}`) });
  const result = await migrate(config.DATABASE_URL);
  console.log(`migrations at ${target}: ${result.applied.length} applied, ${result.alreadyApplied.length} already applied`);
  for (const name of result.applied) console.log(`  applied ${name}`);
  const roles = await setRolePasswords(config.DATABASE_URL, { processor: config.PROCESSOR_DATABASE_PASSWORD, api: config.API_DATABASE_PASSWORD });
  if (roles.length > 0) console.log(`  LOGIN with the given password: ${roles.join(', ')}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
