import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configSchema } from '../../config.js';
import { API_SHUTDOWN_BUDGET_MS, PROCESSOR_SHUTDOWN_BUDGET_MS, totalBudgetMs } from '../../shutdown-budget.js';
import { bytes, durationMs, interpolate, interpolateAll, InterpolationError, readCompose, type ComposeService } from '../compose-file.js';
import { parseDockerfile, parseEnv, type Dockerfile } from '../image/dockerfile.js';

/**
 * What can be checked of the container stack without a container engine (`make check-compose`
 * adds Debian's `docker-compose config`; image-build.test.ts builds the images and runs their
 * services): the services get only settings they read, every image is pinned, ports are published
 * on the loopback interface, passwords are required, memory fits a laptop, shutdowns fit their
 * grace periods, and the pieces name each other consistently.
 */

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const run = promisify(execFile);

async function loadYaml<T>(file: string): Promise<T> {
  return parse(await readFile(path.join(root, file), 'utf8'), { merge: true }) as T;
}

const compose = await readCompose();
const services = compose.services;
const service = (name: string): ComposeService => {
  const found = services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
};
const ours = Object.entries(services).filter(([, entry]) => entry.image?.startsWith('warehouse-stock-monitor/'));
/** Required by docker-compose.yml and written by `make start` (Makefile, COMPOSE_SECRETS). */
const secrets = /^COMPOSE_SECRETS := (.+)$/m.exec(await readFile(path.join(root, 'Makefile'), 'utf8'))?.[1]?.split(/\s+/) ?? [];
const given = Object.fromEntries(secrets.map((name) => [name, `value-of-${name}`]));
/** The file as Compose sees it with the required variables given and nothing else set. */
const interpolated = interpolateAll(compose, given);

describe('docker-compose.yml', () => {
  it('runs the processor, the migration job and the API from our images', () => {
    expect(ours.map(([name]) => name).sort()).toEqual(['api', 'migrate', 'processor']);
  });

  it('sets only environment variables the services read', () => {
    const known = new Set([
      ...Object.keys(configSchema.shape),
      // node-postgres reads libpq's PGPASSWORD when the URL has no password (see the next test).
      'PGPASSWORD',
    ]);
    // prisma/migrate.ts gives the services' roles these passwords (contract 2 of the brief).
    const migrateOnly = new Set(['PROCESSOR_DATABASE_PASSWORD', 'API_DATABASE_PASSWORD']);
    for (const [name, entry] of ours) {
      const unknown = Object.keys(entry.environment ?? {}).filter((key) => !known.has(key) && !(name === 'migrate' && migrateOnly.has(key)));
      expect(unknown, name).toEqual([]);
    }
  });

  it('connects each service as its own role, with the password outside the URL', () => {
    const roles = { migrate: 'postgres', processor: 'wsm_processor', api: 'wsm_api' };
    const passwordOf = { migrate: 'POSTGRES_PASSWORD', processor: 'PROCESSOR_DATABASE_PASSWORD', api: 'API_DATABASE_PASSWORD' };
    for (const [name, role] of Object.entries(roles)) {
      const env = interpolated.services[name]?.environment ?? {};
      const url = new URL(String(env.DATABASE_URL));
      expect(url.username, name).toBe(role);
      // In a URL a password must be percent-encoded, which Compose cannot do: node-postgres takes
      // PGPASSWORD instead, any character allowed.
      expect(url.password, name).toBe('');
      expect(env.PGPASSWORD, name).toBe(given[passwordOf[name as keyof typeof passwordOf]]);
    }
    expect(service('postgres').environment?.POSTGRES_USER).toBe(roles.migrate);
    const migrate = interpolated.services.migrate?.environment ?? {};
    expect([migrate.PROCESSOR_DATABASE_PASSWORD, migrate.API_DATABASE_PASSWORD]).toEqual([given.PROCESSOR_DATABASE_PASSWORD, given.API_DATABASE_PASSWORD]);
  });

  it('requires every password, refusing to start with a message that names it, and has no default for any', async () => {
    const text = await readFile(path.join(root, 'docker-compose.yml'), 'utf8');
    const required = [...new Set([...text.matchAll(/\$\{([A-Z_]+):\?/g)].map((match) => match[1]))].sort();
    expect(required).toEqual([...secrets].sort());
    expect(text).not.toMatch(/PASSWORD:?-/);
    for (const missing of secrets) {
      const env = { ...given, [missing]: '' };
      let error: unknown;
      try {
        interpolateAll(compose, env);
      } catch (caught) {
        error = caught;
      }
      expect(error, missing).toBeInstanceOf(InterpolationError);
      expect((error as InterpolationError).message).toMatch(new RegExp(`^required variable ${missing} is missing a value: set ${missing}, `));
    }
  });

  it('publishes ports on 127.0.0.1 by default, each host port from a variable of its own', () => {
    const variables: string[] = [];
    for (const [name, entry] of Object.entries(services)) {
      for (const port of entry.ports ?? []) {
        const match = /^\$\{PUBLISH_ADDRESS:-127\.0\.0\.1\}:\$\{([A-Z]+_HOST_PORT):-(\d+)\}:(\d+)$/.exec(port);
        expect(match, `${name}: ${port}`).not.toBeNull();
        expect(match?.[2], name).toBe(match?.[3]);
        variables.push(match?.[1] ?? '');
      }
      for (const port of interpolated.services[name]?.ports ?? []) expect(port).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
    }
    expect(new Set(variables).size).toBe(variables.length);
    expect(variables.sort()).toEqual(['ALERTMANAGER_HOST_PORT', 'API_HOST_PORT', 'GRAFANA_HOST_PORT', 'KAFKA_HOST_PORT', 'POSTGRES_HOST_PORT', 'PROMETHEUS_HOST_PORT']);
  });

  it('advertises Kafka to the host on the port it is published on', () => {
    const moved = interpolateAll(compose, { ...given, KAFKA_HOST_PORT: '19092' }).services.kafka;
    expect(moved?.ports).toEqual(['127.0.0.1:19092:9092']);
    expect(String(moved?.environment?.KAFKA_ADVERTISED_LISTENERS)).toContain('EXTERNAL://127.0.0.1:19092');
  });

  it('pins every image to a version (no :latest, no bare name), and builds each of ours once', () => {
    for (const [name, entry] of Object.entries(services)) {
      if (entry.image?.startsWith('warehouse-stock-monitor/')) continue;
      expect(entry.image, name).toMatch(/^[a-z0-9./-]+:v?\d+\.\d+(\.\d+)?(-[a-z0-9.]+)?$/);
    }
    // Two services building one tag race under Compose's parallel (Bake) builder on a cold cache.
    const built = ours.filter(([, entry]) => entry.build).map(([, entry]) => entry.image);
    expect(new Set(built).size).toBe(built.length);
    for (const [name, entry] of ours.filter(([, candidate]) => !candidate.build)) {
      expect(built, name).toContain(entry.image);
      expect(entry.pull_policy, name).toBe('never');
    }
  });

  it('gives every long-running service a health check over TCP and a restart policy, one-shot jobs none', () => {
    for (const [name, entry] of Object.entries(services)) {
      if (entry.restart === 'no') {
        expect(entry.healthcheck, name).toBeUndefined();
        continue;
      }
      const test = entry.healthcheck?.test.join(' ') ?? '';
      expect(test, name).toMatch(/http:\/\/127\.0\.0\.1:\d+\/|--bootstrap-server kafka:\d+|--host=127\.0\.0\.1 /);
      expect(entry.restart, name).toBe('unless-stopped');
    }
  });

  it('limits every service’s memory, the long-running ones to 4 GiB in all, the JVM and PostgreSQL within theirs', () => {
    let total = 0;
    for (const [name, entry] of Object.entries(interpolated.services)) {
      expect(entry.mem_limit, name).toBeDefined();
      if (entry.restart === 'no') continue;
      total += bytes(String(entry.mem_limit)) * Number(entry.deploy?.replicas ?? 1);
    }
    expect(total).toBeLessThanOrEqual(4 * 1024 ** 3);
    // The heap at most half of Kafka's limit: the JVM's own memory and the page cache need the rest.
    const heap = /-Xmx(\d+[kmg])/.exec(String(service('kafka').environment?.KAFKA_HEAP_OPTS))?.[1];
    expect(bytes(heap ?? '0')).toBeLessThanOrEqual(bytes(String(service('kafka').mem_limit)) / 2);
    // Shared buffers at most a quarter of the limit, as PostgreSQL's documentation suggests of RAM.
    const command = (service('postgres').command as string[]).join(' ');
    const sharedBuffers = /shared_buffers=(\d+[kmg])b/i.exec(command)?.[1];
    expect(bytes(sharedBuffers ?? '0')).toBeLessThanOrEqual(bytes(String(service('postgres').mem_limit)) / 4);
  });

  it('rotates every service’s logs', () => {
    for (const [name, entry] of Object.entries(services)) {
      expect(entry.logging?.driver, name).toBe('json-file');
      expect(entry.logging?.options?.['max-size'], name).toMatch(/^\d+m$/);
      expect(entry.logging?.options?.['max-file'], name).toMatch(/^\d+$/);
    }
  });

  it('runs our containers read-only, without capabilities or privilege gain, with an init process', () => {
    for (const [name, entry] of ours) {
      expect(entry.read_only, name).toBe(true);
      expect(entry.cap_drop, name).toEqual(['ALL']);
      expect(entry.security_opt, name).toContain('no-new-privileges:true');
      expect(entry.init, name).toBe(true);
    }
  });

  it('gives each service more time to stop than its shutdown takes', () => {
    // A margin over the budget for the signal's delivery, the event loop and the exit itself.
    const margin = 5_000;
    expect(durationMs(String(service('processor').stop_grace_period))).toBeGreaterThanOrEqual(totalBudgetMs(PROCESSOR_SHUTDOWN_BUDGET_MS) + margin);
    expect(durationMs(String(service('api').stop_grace_period))).toBeGreaterThanOrEqual(totalBudgetMs(API_SHUTDOWN_BUDGET_MS) + margin);
    // Docker's default of 10 s would cut PostgreSQL's shutdown checkpoint and Kafka's controlled shutdown.
    for (const name of ['postgres', 'kafka']) expect(durationMs(String(service(name).stop_grace_period)), name).toBeGreaterThanOrEqual(30_000);
  });

  it('starts the services after the migration and the topics, by health or completion', () => {
    for (const name of ['processor', 'api']) {
      expect(services[name]?.depends_on).toEqual({
        migrate: { condition: 'service_completed_successfully' },
        'kafka-topics': { condition: 'service_completed_successfully' },
      });
    }
    expect(services.migrate?.depends_on?.postgres?.condition).toBe('service_healthy');
    expect(services['kafka-topics']?.depends_on?.kafka?.condition).toBe('service_healthy');
    // `${PROCESSOR_REPLICAS:-2}`: the default, before interpolation.
    expect(Number(interpolated.services.processor?.deploy?.replicas)).toBeGreaterThanOrEqual(2);
  });

  it('creates the topics the services use', () => {
    const script = String(services['kafka-topics']?.command);
    const env = services.processor?.environment ?? {};
    for (const key of ['KAFKA_TOPIC', 'KAFKA_DLQ_TOPIC', 'KAFKA_NOTIFY_TOPIC']) expect(script).toContain(String(env[key]));
  });

  it('gives Kafka a cluster id of its own, not the image’s well-known default', () => {
    const id = String(interpolated.services.kafka?.environment?.CLUSTER_ID);
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(id).not.toBe('5L6g3nShT-eMCtK--X86sw');
    expect(interpolate(String(service('kafka').environment?.CLUSTER_ID), { KAFKA_CLUSTER_ID: 'x' })).toBe('x');
  });

  it('keeps data in named volumes', () => {
    for (const volume of ['kafka-data', 'postgres-data', 'prometheus-data', 'alertmanager-data', 'grafana-data']) expect(compose.volumes).toHaveProperty(volume);
  });

  it('gives Grafana its required admin password and anonymous read-only access', () => {
    const env = service('grafana').environment ?? {};
    expect(env.GF_SECURITY_ADMIN_PASSWORD).toMatch(/^\$\{GRAFANA_ADMIN_PASSWORD:\?/);
    expect(env.GF_AUTH_ANONYMOUS_ENABLED).toBe('true');
    expect(env.GF_AUTH_ANONYMOUS_ORG_ROLE).toBe('Viewer');
  });
});

describe('interpolate', () => {
  it('follows the Compose specification’s forms', () => {
    const env = { SET: 'v', EMPTY: '' };
    expect(interpolate('$SET ${SET} ${UNSET:-d} ${EMPTY:-d} ${EMPTY-d} ${SET:+r} ${EMPTY+r} ${UNSET+r} $$SET ${UNSET:-${SET}x}', env)).toBe('v v d d  r r  $SET vx');
    expect(() => interpolate('${EMPTY:?needed}', env)).toThrow('required variable EMPTY is missing a value: needed');
    expect(interpolate('${EMPTY?needed}', env)).toBe('');
  });
});

describe('Dockerfiles', () => {
  const read = async (file: string): Promise<{ text: string; dockerfile: Dockerfile }> => {
    const text = await readFile(path.join(root, file), 'utf8');
    return { text, dockerfile: parseDockerfile(text) };
  };
  const buildStageText = (text: string): string => {
    const lines = text.split('\n').filter((line) => !line.startsWith('#'));
    return lines.slice(0, lines.findIndex((line) => / AS runtime$/.test(line))).join('\n');
  };

  it('share one build stage, so the TypeScript and the Kafka client are built once for both images', async () => {
    const processor = await read('processor/Dockerfile');
    const api = await read('api/Dockerfile');
    expect(buildStageText(processor.text)).toContain('npx tsc -p tsconfig.build.json');
    expect(buildStageText(api.text)).toBe(buildStageText(processor.text));
  });

  it('pin a supported Node.js LTS on Debian 12, build the Kafka client from source against Debian’s libraries, keep production dependencies only and run as a non-root user', async () => {
    for (const file of ['processor/Dockerfile', 'api/Dockerfile']) {
      const { text, dockerfile } = await read(file);
      // Node 24 (LTS to April 2028), bookworm: the runtime stage installs bookworm's library packages.
      expect(dockerfile.globalArgs.NODE_IMAGE, file).toMatch(/^node:24\.\d+\.\d+-bookworm-slim$/);
      const [build, runtime] = dockerfile.stages;
      const env = Object.assign({}, ...(build?.instructions.filter((i) => i.keyword === 'ENV').map((i) => parseEnv(i, {})) ?? [])) as Record<string, string>;
      expect(env, file).toMatchObject({ CKJS_LINKING: 'dynamic', npm_config_build_from_source: '@confluentinc/kafka-javascript', npm_config_nodedir: '/usr/local' });
      expect(buildStageText(text), file).toContain('npm prune --omit=dev --omit=optional');
      expect(runtime?.instructions.find((i) => i.keyword === 'USER')?.text, file).toBe('node');
      expect(runtime?.instructions.find((i) => i.keyword === 'CMD')?.exec, file).toEqual(['node', `dist/${file.startsWith('api') ? 'api/server' : 'processor/main'}.js`]);
    }
  });
});

describe('Prometheus, Alertmanager and Grafana wiring', () => {
  interface PrometheusConfig {
    scrape_configs: { job_name: string; dns_sd_configs?: { port: number }[]; static_configs?: { targets: string[] }[] }[];
    alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
  }

  it('scrapes the ports the services listen on', async () => {
    const prometheus = await loadYaml<PrometheusConfig>('prometheus/prometheus.yml');
    const job = (name: string) => prometheus.scrape_configs.find((config) => config.job_name === name);
    expect(job('processor')?.dns_sd_configs?.[0]?.port).toBe(Number(services.processor?.environment?.PROCESSOR_PORT));
    expect(job('api')?.static_configs?.[0]?.targets).toEqual([`api:${services.api?.environment?.API_PORT}`]);
  });

  it('sends alerts to the Alertmanager service', async () => {
    const prometheus = await loadYaml<PrometheusConfig>('prometheus/prometheus.yml');
    expect(prometheus.alerting.alertmanagers[0]?.static_configs[0]?.targets).toEqual(['alertmanager:9093']);
    expect(interpolated.services.alertmanager?.ports).toEqual(['127.0.0.1:9093:9093']);
    expect(service('alertmanager').volumes).toContain('./alertmanager:/etc/alertmanager:ro');
  });

  it('routes every alert to the webhook receiver, whose URL ALERT_WEBHOOK_URL sets exactly, quotes and all', async () => {
    interface AlertmanagerConfig {
      route: { receiver: string };
      receivers: { name: string; webhook_configs: { url: string; send_resolved: boolean }[] }[];
    }
    const render = async (url?: string): Promise<AlertmanagerConfig> => {
      const env: NodeJS.ProcessEnv = { PATH: process.env.PATH };
      if (url !== undefined) env.ALERT_WEBHOOK_URL = url;
      const { stdout } = await run('sh', [path.join(root, 'alertmanager/entrypoint.sh'), 'render'], { env });
      return parse(stdout) as AlertmanagerConfig;
    };
    const unset = await render();
    expect(unset.route.receiver).toBe('webhook');
    expect(unset.receivers).toEqual([{ name: 'webhook', webhook_configs: [] }]);
    const url = `https://hooks.example.com/services/T0/B1?team=o'neil&q="x"#frag\\n%41`;
    const set = await render(url);
    expect(set.receivers).toEqual([{ name: 'webhook', webhook_configs: [{ url, send_resolved: true }] }]);
    expect(service('alertmanager').environment?.ALERT_WEBHOOK_URL).toBe('${ALERT_WEBHOOK_URL:-}');
  });

  it('provisions the datasource uid the dashboard uses, pointing at the prometheus service', async () => {
    const { DATASOURCE } = await import('../../../grafana/dashboard.js');
    const provisioning = await loadYaml<{ datasources: { uid: string; url: string }[] }>('grafana/provisioning/datasources/prometheus.yml');
    expect(provisioning.datasources[0]?.uid).toBe(DATASOURCE.uid);
    expect(provisioning.datasources[0]?.url).toBe('http://prometheus:9090');
    expect(service('prometheus').ports?.[0]).toMatch(/:9090$/);
  });
});
