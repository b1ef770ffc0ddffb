import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `.dev/stack.env`: the connection settings of the running embedded stack (`make dev`), so that
 * `make produce`, `make load`, `make migrate` and any Kafka client find it without set-up.
 */
export const STACK_ENV_PATH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../.dev/stack.env');

/** Reads KEY=VALUE lines from the stack file; an absent file reads as no settings. */
export async function readStackEnv(file = STACK_ENV_PATH): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return {};
  }
  const settings: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) settings[match[1]] = match[2].trim();
  }
  return settings;
}

/** Serialises settings as the stack file's KEY=VALUE lines. */
export function formatStackEnv(settings: Record<string, string>): string {
  return `${Object.entries(settings).map(([key, value]) => `${key}=${value}`).join('\n')}\n`;
}

/**
 * The environment for a private `make dev` stack (the dev-stack test, `make verify-dashboard`):
 * its own stack file and data directory under `work`, API and processor on port 0 (each binds a
 * free port and reports it; the stack file has them) unless `extra` says otherwise, and no
 * KAFKA_BROKERS or DATABASE_URL from `base` (the caller's environment by default), so the stack
 * starts its own mock cluster and PostgreSQL.
 */
export function privateStackEnv(work: string, extra: Record<string, string>, base: NodeJS.ProcessEnv = process.env): { env: NodeJS.ProcessEnv; stackFile: string } {
  const stackFile = path.join(work, 'stack.env');
  const env: NodeJS.ProcessEnv = {
    ...base,
    API_PORT: '0',
    PROCESSOR_PORT: '0',
    DEV_STACK_ENV: stackFile,
    DEV_DATA_DIR: path.join(work, 'postgres'),
    ...extra,
  };
  delete env.KAFKA_BROKERS;
  delete env.DATABASE_URL;
  return { env, stackFile };
}
