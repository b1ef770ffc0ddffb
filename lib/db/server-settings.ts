import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** lib/db/postgresql.conf: the settings every server of the product runs with. */
export const SERVER_SETTINGS_FILE = fileURLToPath(new URL('./postgresql.conf', import.meta.url));

/**
 * The settings of a postgresql.conf as name → value, in file order: `name = value` lines, comments
 * and blank lines skipped, quotes around a value removed. Anything else is refused with its line
 * number, so a typo fails every server start instead of being ignored by one of them.
 */
export function parseServerSettings(text: string, file = SERVER_SETTINGS_FILE): Map<string, string> {
  const settings = new Map<string, string>();
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') return;
    const match = /^([a-z_][a-z0-9_.]*)\s*=\s*('([^']*)'|[^\s']+)$/i.exec(line);
    if (!match) throw new Error(`${file}:${index + 1}: not a "name = value" setting: ${raw.trim()}`);
    settings.set(match[1]!.toLowerCase(), match[3] ?? match[2]!);
  });
  return settings;
}

/** The shipped settings as `postgres` command-line flags (`-c name=value` each). */
export function serverSettingFlags(file = SERVER_SETTINGS_FILE): string[] {
  return [...parseServerSettings(readFileSync(file, 'utf8'), file)].flatMap(([name, value]) => ['-c', `${name}=${value}`]);
}
