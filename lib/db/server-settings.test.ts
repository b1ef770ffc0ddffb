import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { readCompose } from '../dev/compose-file.js';
import { createTestDatabase, type TestDatabase } from '../testing/database.js';
import { parseServerSettings, SERVER_SETTINGS_FILE, serverSettingFlags } from './server-settings.js';

/** The one configuration every server of the product runs with (lib/db/postgresql.conf). */

const shipped = parseServerSettings(await readFile(SERVER_SETTINGS_FILE, 'utf8'));
/** Settings compose may give on top of the file: where to find it, and memory for its container. */
const COMPOSE_OVERRIDES = new Set(['config_file', 'listen_addresses', 'shared_buffers', 'work_mem', 'max_connections']);

let database: TestDatabase | undefined;
afterAll(() => database?.drop());

describe('lib/db/postgresql.conf', () => {
  it('keeps every durability setting on', () => {
    for (const name of ['fsync', 'synchronous_commit', 'full_page_writes']) expect(shipped.get(name), name).toBe('on');
  });

  it('spaces checkpoints out (full-page writes after each one are most of the WAL of a random-UUID index)', () => {
    expect(shipped.get('checkpoint_timeout')).toBe('15min');
    expect(shipped.get('max_wal_size')).toBe('4GB');
  });

  it('refuses a line that is not a setting, naming the line', () => {
    expect(() => parseServerSettings("fsync = on\nshared_buffers 1GB\n", 'x.conf')).toThrow('x.conf:2: not a "name = value" setting: shared_buffers 1GB');
    expect([...parseServerSettings("# comment\nwork_mem = '64MB'  # why\n\n")]).toEqual([['work_mem', '64MB']]);
  });

  it('is what the embedded servers run with (make dev, make test, the benchmarks)', async () => {
    expect(serverSettingFlags()).toEqual([...shipped].flatMap(([name, value]) => ['-c', `${name}=${value}`]));
    database = await createTestDatabase('settings');
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      // The test server is ephemeral (durability off for speed); everything else is the file's.
      const { rows } = await client.query<{ name: string; setting: string; unit: string | null }>(
        "SELECT name, setting, unit FROM pg_settings WHERE name IN ('checkpoint_timeout', 'max_wal_size', 'shared_buffers', 'work_mem')",
      );
      expect(Object.fromEntries(rows.map((r) => [r.name, `${r.setting} ${r.unit ?? ''}`.trim()]))).toEqual({
        checkpoint_timeout: '900 s', max_wal_size: '4096 MB', shared_buffers: '131072 8kB', work_mem: '65536 kB',
      });
    } finally {
      await client.end();
    }
  });

  it('is the config_file of the compose stack, which overrides only where to find it and memory', async () => {
    const postgres = (await readCompose()).services.postgres!;
    expect(postgres.volumes).toContain('./lib/db/postgresql.conf:/etc/postgresql/warehouse.conf:ro');
    const command = postgres.command as string[];
    const overrides = command.flatMap((arg, i) => (command[i - 1] === '-c' ? [arg.split('=')[0]!] : []));
    expect(command).toContain('config_file=/etc/postgresql/warehouse.conf');
    expect(overrides.filter((name) => !COMPOSE_OVERRIDES.has(name))).toEqual([]);
  });
});
