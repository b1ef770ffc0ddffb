import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configSchema } from '../../config.js';

/**
 * What can be checked of the container stack without a container engine (`make check-compose`
 * adds Debian's `docker-compose config`): the services get only settings they read, every image is
 * pinned, the two Dockerfiles share their build stage, and the pieces name each other consistently.
 */

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  environment?: Record<string, string | number>;
  command?: string[] | string;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  restart?: string;
  ports?: string[];
  volumes?: string[];
  deploy?: { replicas: number | string };
}

async function loadYaml<T>(file: string): Promise<T> {
  return parse(await readFile(path.join(root, file), 'utf8'), { merge: true }) as T;
}

const compose = await loadYaml<{ services: Record<string, Service>; volumes: Record<string, unknown> }>('docker-compose.yml');
const services = compose.services;
const ours = Object.entries(services).filter(([, service]) => service.image?.startsWith('warehouse-stock-monitor/'));

describe('docker-compose.yml', () => {
  it('runs the processor, the migration job and the API from our images', () => {
    expect(ours.map(([name]) => name).sort()).toEqual(['api', 'migrate', 'processor']);
  });

  it('sets only environment variables lib/config.ts reads', () => {
    const known = new Set(Object.keys(configSchema.shape));
    for (const [name, service] of ours) {
      const unknown = Object.keys(service.environment ?? {}).filter((key) => !known.has(key));
      expect(unknown, name).toEqual([]);
    }
  });

  it('pins every image to a version (no :latest, no bare name)', () => {
    for (const [name, service] of Object.entries(services)) {
      if (service.build) continue;
      expect(service.image, name).toMatch(/^[a-z0-9./-]+:v?\d+\.\d+(\.\d+)?(-[a-z0-9.]+)?$/);
    }
  });

  it('gives every long-running service a health check and a restart policy, one-shot jobs none', () => {
    for (const [name, service] of Object.entries(services)) {
      if (service.restart === 'no') {
        expect(service.healthcheck, name).toBeUndefined();
        continue;
      }
      expect(service.healthcheck?.test.length, name).toBeGreaterThan(0);
      expect(service.restart, name).toBe('unless-stopped');
    }
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
    const replicas = String(services.processor?.deploy?.replicas ?? '');
    expect(Number(/^\$\{PROCESSOR_REPLICAS:-(\d+)\}$/.exec(replicas)?.[1] ?? replicas)).toBeGreaterThanOrEqual(2);
  });

  it('creates the topics the services use', () => {
    const script = String(services['kafka-topics']?.command);
    const env = services.processor?.environment ?? {};
    for (const key of ['KAFKA_TOPIC', 'KAFKA_DLQ_TOPIC', 'KAFKA_NOTIFY_TOPIC']) expect(script).toContain(String(env[key]));
  });

  it('keeps data in named volumes', () => {
    for (const volume of ['kafka-data', 'postgres-data', 'prometheus-data', 'grafana-data']) expect(compose.volumes).toHaveProperty(volume);
  });

  it('gives Grafana its admin password from the environment and anonymous read-only access', () => {
    const env = services.grafana?.environment ?? {};
    expect(env.GF_SECURITY_ADMIN_PASSWORD).toMatch(/^\$\{GRAFANA_ADMIN_PASSWORD[:?-]/);
    expect(env.GF_AUTH_ANONYMOUS_ENABLED).toBe('true');
    expect(env.GF_AUTH_ANONYMOUS_ORG_ROLE).toBe('Viewer');
  });
});

describe('Dockerfiles', () => {
  const stages = async (file: string) => {
    const text = await readFile(path.join(root, file), 'utf8');
    const lines = text.split('\n').filter((line) => !line.startsWith('#'));
    const runtimeAt = lines.findIndex((line) => line.startsWith('FROM ') && line.includes(' AS runtime'));
    return { text, build: lines.slice(0, runtimeAt).join('\n'), runtime: lines.slice(runtimeAt).join('\n') };
  };

  it('share one build stage, so the TypeScript is built once for both images', async () => {
    const processor = await stages('processor/Dockerfile');
    const api = await stages('api/Dockerfile');
    expect(processor.build).toContain('npx tsc -p tsconfig.build.json');
    expect(api.build).toBe(processor.build);
  });

  it('pin the base image, keep only production dependencies and run as a non-root user', async () => {
    for (const file of ['processor/Dockerfile', 'api/Dockerfile']) {
      const { text, build, runtime } = await stages(file);
      expect(text, file).toMatch(/^ARG NODE_IMAGE=node:\d+\.\d+\.\d+-[a-z]+-slim$/m);
      expect(build, file).toContain('npm prune --omit=dev');
      expect(build, file).toContain('CKJS_LINKING=dynamic');
      expect(runtime, file).toMatch(/^USER node$/m);
      expect(runtime, file).toMatch(/^CMD \["node", "dist\/(processor\/main|api\/server)\.js"\]$/m);
    }
  });
});

describe('Prometheus and Grafana wiring', () => {
  it('scrapes the ports the services listen on', async () => {
    const prometheus = await loadYaml<{ scrape_configs: { job_name: string; dns_sd_configs?: { port: number }[]; static_configs?: { targets: string[] }[] }[] }>(
      'prometheus/prometheus.yml',
    );
    const job = (name: string) => prometheus.scrape_configs.find((config) => config.job_name === name);
    expect(job('processor')?.dns_sd_configs?.[0]?.port).toBe(Number(services.processor?.environment?.PROCESSOR_PORT));
    expect(job('api')?.static_configs?.[0]?.targets).toEqual([`api:${services.api?.environment?.API_PORT}`]);
  });

  it('provisions the datasource uid the dashboard uses, pointing at the prometheus service', async () => {
    const { DATASOURCE } = await import('../../../grafana/dashboard.js');
    const provisioning = await loadYaml<{ datasources: { uid: string; url: string }[] }>('grafana/provisioning/datasources/prometheus.yml');
    expect(provisioning.datasources[0]?.uid).toBe(DATASOURCE.uid);
    expect(provisioning.datasources[0]?.url).toBe('http://prometheus:9090');
    expect(services.prometheus?.ports).toContain('9090:9090');
  });
});
