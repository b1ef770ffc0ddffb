import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage, BuildError, type StandIn } from './build.js';
import { openContext, resolveSource } from './context.js';

// The builder on a small context of its own: COPY's rules (files, directories, wildcards,
// .dockerignore, --from), RUN on this machine, stand-ins, and failures that name their line.

let work: string;
let context: string;

async function files(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => path.relative(root, path.join(entry.parentPath, entry.name))).sort();
}

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'wsm-image-build-'));
  context = path.join(work, 'context');
  const write = async (file: string, text = file): Promise<void> => {
    await mkdir(path.dirname(path.join(context, file)), { recursive: true });
    await writeFile(path.join(context, file), text);
  };
  await write('.dockerignore', 'secret.txt\n**/generated\nsrc/*.log\n');
  await write('package.json', '{}');
  await write('secret.txt');
  await write('src/a.ts');
  await write('src/nested/b.ts');
  await write('src/generated/client.ts');
  await write('src/debug.log');
  await write('conf/x.yml');
  await write('conf/y.yml');
});
afterAll(() => rm(work, { recursive: true, force: true }));

const build = async (dockerfile: string, standIns: StandIn[] = []) => {
  const workDir = await mkdtemp(path.join(work, 'build-'));
  return buildImage({ contextDir: context, dockerfile: 'Dockerfile', dockerfileText: dockerfile, workDir, standIns });
};

describe('COPY from the context', () => {
  it('copies a directory’s contents, a file into a directory, and wildcard matches, leaving out what .dockerignore excludes', async () => {
    const image = await build(['FROM scratch', 'WORKDIR /app', 'COPY src src', 'COPY package.json ./', 'COPY conf/*.yml etc/', 'COPY package.json /renamed.json'].join('\n'));
    expect(await files(image.root)).toEqual(['app/etc/x.yml', 'app/etc/y.yml', 'app/package.json', 'app/src/a.ts', 'app/src/nested/b.ts', 'renamed.json']);
    expect(image.contextFiles.sort()).toEqual(['conf/x.yml', 'conf/y.yml', 'package.json', 'package.json', 'src/a.ts', 'src/nested/b.ts']);
  });

  it('fails on a source the context lacks, or one .dockerignore excludes, naming the line', async () => {
    await expect(build('FROM scratch\nCOPY missing.txt ./\n')).rejects.toThrow(/line 2: COPY missing\.txt \.\/: "missing\.txt" not found in the build context/);
    await expect(build('FROM scratch\n\nCOPY secret.txt ./\n')).rejects.toThrow(/line 3: .*\.dockerignore excludes it/);
    await expect(build('FROM scratch\nCOPY *.md ./\n')).rejects.toThrow(/matches no file/);
    await expect(build('FROM scratch\nCOPY ../outside ./\n')).rejects.toThrow(/outside the build context/);
  });

  it('resolves wildcards within one path segment only', async () => {
    const ctx = await openContext(context);
    expect(await resolveSource(ctx, 'src/*')).toEqual(['src/a.ts', 'src/nested']);
    expect(await resolveSource(ctx, './src/nested/?.ts')).toEqual(['src/nested/b.ts']);
  });
});

describe('RUN, ENV, WORKDIR and stages', () => {
  it('runs RUN in the stage’s working directory with its ENV, and copies between stages', async () => {
    const image = await build(
      ['FROM scratch AS build', 'WORKDIR /app', 'ENV GREETING=hello TARGET=out.txt', 'RUN echo "$GREETING" > "$TARGET"', 'FROM scratch', 'WORKDIR /srv', 'COPY --from=build /app/out.txt ./', 'ENV NODE_ENV=production', 'CMD ["node", "x.js"]'].join('\n'),
    );
    expect(await readFile(path.join(image.root, 'srv/out.txt'), 'utf8')).toBe('hello\n');
    expect(image).toMatchObject({ workdir: '/srv', env: { NODE_ENV: 'production' }, cmd: ['node', 'x.js'] });
    expect([...image.stages.keys()]).toEqual(['build', '1']);
  });

  it('fails a RUN that fails, with the line and the output', async () => {
    const error: unknown = await build('FROM scratch\nRUN echo before && false\n').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BuildError);
    expect((error as Error).message).toMatch(/line 2: RUN echo before && false\nfailed with exit 1:\nbefore/);
  });

  it('runs a stand-in instead of a RUN it matches, and refuses instructions it does not model', async () => {
    const seen: string[] = [];
    const standIn: StandIn = { name: 'test', matches: (command) => command.startsWith('fetch-something'), run: (step) => Promise.resolve(void seen.push(step.command)) };
    await build('FROM scratch\nRUN fetch-something --now\n', [standIn]);
    expect(seen).toEqual(['fetch-something --now']);
    await expect(build('FROM scratch\nONBUILD RUN true\n')).rejects.toThrow(/ONBUILD is not modelled/);
    await expect(build('FROM scratch\nCOPY --from=alpine:3 /etc/x ./\n')).rejects.toThrow(/names no earlier stage/);
  });

  it('runs npm offline: a RUN that would reach the registry fails instead', async () => {
    await expect(build('FROM scratch\nWORKDIR /app\nCOPY package.json ./\nRUN npm view left-pad version\n')).rejects.toThrow(/ENOTCACHED|offline/);
  });

  it('reuses a stage built with the same instructions and inputs (BuildKit’s cache)', async () => {
    const cache = new Map();
    const dockerfile = 'FROM scratch AS build\nRUN date +%s%N > stamp\nFROM scratch\nCOPY --from=build /stamp ./\n';
    const first = await buildImage({ contextDir: context, dockerfile: 'D', dockerfileText: dockerfile, workDir: await mkdtemp(path.join(work, 'c-')), standIns: [], cache });
    const second = await buildImage({ contextDir: context, dockerfile: 'D', dockerfileText: dockerfile, workDir: await mkdtemp(path.join(work, 'c-')), standIns: [], cache });
    expect(second.stages.get('build')?.root).toBe(first.stages.get('build')?.root);
    const changed = await buildImage({ contextDir: context, dockerfile: 'D', dockerfileText: dockerfile.replace('%N', '%N '), workDir: await mkdtemp(path.join(work, 'c-')), standIns: [], cache });
    expect(changed.stages.get('build')?.root).not.toBe(first.stages.get('build')?.root);
  });
});
