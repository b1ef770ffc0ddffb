import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstat, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { contextFiles, copyFromContext, hashFiles, linkTree, openContext, resolveSource, type BuildContext } from './context.js';
import { copyArguments, expandVariables, findStage, parseArg, parseDockerfile, parseEnv, type Dockerfile, type Instruction, type Stage } from './dockerfile.js';

/**
 * Builds an image's stages without a container engine, to catch what would fail `docker build`
 * here: each stage's file system is a directory under `workDir`, COPY takes files from the build
 * context exactly as BuildKit does (lib/dev/image/context.ts), and RUN steps run on this machine
 * with the stage's ENV, in its WORKDIR. Steps that need a registry (Debian's packages, `npm ci`)
 * are replaced by stand-ins that do the equivalent from what this machine already has, and every
 * other step runs as written, with npm set offline so none reaches a registry unseen. The base
 * image's own files are not reproduced: RUN steps use this machine's Node.js and tools.
 */

/** A build step failed; the message names the Dockerfile line and ends with the step's output. */
export class BuildError extends Error {
  override name = 'BuildError';
}

/** A RUN step as the stand-ins see it. */
export interface RunStep {
  /** The shell command (exec-form arguments joined by spaces). */
  command: string;
  /** The stage's working directory on this machine. */
  cwd: string;
  line: number;
}

/** Does on this machine what a RUN step would fetch from a registry. */
export interface StandIn {
  /** What it stands in for, for the build log. */
  name: string;
  matches(command: string): boolean;
  run(step: RunStep, stage: StageState): Promise<void>;
}

/** A stage being built, or built. */
export interface StageState {
  /** `AS` name, else its index. */
  label: string;
  /** The stage's file system on this machine: container path `/x` is `root/x`. */
  root: string;
  /** Container path of the working directory. */
  workdir: string;
  env: Record<string, string>;
  args: Record<string, string | undefined>;
  user?: string;
  cmd?: string[];
  entrypoint?: string[];
  /** Debian packages its RUN steps install (recorded by the apt-get stand-in). */
  systemPackages: string[];
  /** Context paths of the files its COPY and ADD instructions took. */
  contextFiles: string[];
}

export interface ImageBuildOptions {
  /** The build context: the directory `docker build` is given. */
  contextDir: string;
  /** The Dockerfile's path relative to the context (`docker build -f`). */
  dockerfile: string;
  /** Dockerfile text to build instead of the file's (a test removes lines from it). */
  dockerfileText?: string;
  /** An empty directory for the stages' file systems. */
  workDir: string;
  standIns: readonly StandIn[];
  /** Built stages keyed by their instructions and inputs, shared between builds as BuildKit's cache. */
  cache?: Map<string, StageState>;
  log?: (line: string) => void;
}

/** The target (last) stage of a build, plus every stage it needed. */
export interface BuiltImage extends StageState {
  stages: Map<string, StageState>;
}

/** Builds the last stage of the Dockerfile and the stages it depends on. */
export async function buildImage(options: ImageBuildOptions): Promise<BuiltImage> {
  const text = options.dockerfileText ?? (await readFile(path.join(options.contextDir, options.dockerfile), 'utf8'));
  const dockerfile = parseDockerfile(text);
  const context = await openContext(options.contextDir);
  const built = new Map<number, StageState>();
  const log = options.log ?? (() => undefined);

  const build = async (stage: Stage): Promise<StageState> => {
    const done = built.get(stage.index);
    if (done) return done;
    for (const dependency of dependencies(dockerfile, stage)) await build(dependency);
    const key = await stageKey(dockerfile, stage, context, built);
    const cached = options.cache?.get(key);
    if (cached) {
      log(`[${stage.name ?? stage.index}] cached`);
      built.set(stage.index, cached);
      return cached;
    }
    const state = await runStage(dockerfile, stage, context, built, options, log);
    options.cache?.set(key, state);
    built.set(stage.index, state);
    return state;
  };

  const target = dockerfile.stages.at(-1) as Stage;
  const image = await build(target);
  return { ...image, stages: new Map([...built.values()].map((state) => [state.label, state])) };
}

/** The stages `stage` starts from or copies from. */
function dependencies(dockerfile: Dockerfile, stage: Stage): Stage[] {
  const found: Stage[] = [];
  const base = findStage(dockerfile, stage.base);
  if (base && base.index < stage.index) found.push(base);
  for (const instruction of stage.instructions) {
    const from = instruction.flags.from;
    const source = from === undefined ? undefined : findStage(dockerfile, from);
    if (source && source.index < stage.index) found.push(source);
  }
  return found;
}

/** What BuildKit's cache keys on: the instructions, the context files they take, the stages they use. */
async function stageKey(dockerfile: Dockerfile, stage: Stage, context: BuildContext, built: Map<number, StageState>): Promise<string> {
  const hash = createHash('sha256').update(stage.base);
  for (const instruction of stage.instructions) {
    hash.update(`\n${instruction.keyword} ${JSON.stringify(instruction.flags)} ${instruction.text}`);
    if ((instruction.keyword === 'COPY' || instruction.keyword === 'ADD') && instruction.flags.from === undefined) {
      try {
        const { sources } = copyArguments(instruction, {});
        const files = (await Promise.all(sources.map(async (source) => Promise.all((await resolveSource(context, source)).map((found) => contextFiles(context, found)))))).flat(2);
        hash.update(await hashFiles(context, files));
      } catch {
        hash.update('missing'); // the build itself reports it, at its line
      }
    }
  }
  for (const dependency of dependencies(dockerfile, stage)) hash.update(built.get(dependency.index)?.root ?? '');
  return hash.digest('hex');
}

async function runStage(
  dockerfile: Dockerfile,
  stage: Stage,
  context: BuildContext,
  built: Map<number, StageState>,
  options: ImageBuildOptions,
  log: (line: string) => void,
): Promise<StageState> {
  const label = stage.name ?? String(stage.index);
  const root = path.join(options.workDir, `stage-${stage.index}-${label}`);
  const base = findStage(dockerfile, stage.base);
  const parent = base && base.index < stage.index ? built.get(base.index) : undefined;
  const state: StageState = {
    label,
    root,
    workdir: parent?.workdir ?? '/',
    env: { ...parent?.env },
    args: {},
    systemPackages: [...(parent?.systemPackages ?? [])],
    contextFiles: [],
  };
  if (parent) await linkTree(parent.root, root);
  await mkdir(root, { recursive: true });
  const host = (containerPath: string): string => path.join(root, containerPath);
  const vars = (): Record<string, string | undefined> => ({ ...state.args, ...state.env });
  log(`[${label}] FROM ${stage.base}`);

  for (const instruction of stage.instructions) {
    log(`[${label}] ${instruction.keyword} ${Object.entries(instruction.flags).map(([name, value]) => `--${name}=${value} `).join('')}${instruction.text}`);
    switch (instruction.keyword) {
      case 'ARG':
        for (const [name, value] of Object.entries(parseArg(instruction))) state.args[name] = value ?? dockerfile.globalArgs[name];
        break;
      case 'ENV':
        Object.assign(state.env, parseEnv(instruction, vars()));
        break;
      case 'WORKDIR':
        state.workdir = path.posix.resolve(state.workdir, expandVariables(instruction.text, vars(), instruction.line));
        await mkdir(host(state.workdir), { recursive: true });
        break;
      case 'COPY':
      case 'ADD':
        await copy(instruction, dockerfile, context, built, state, host, vars());
        break;
      case 'RUN':
        await runStep(instruction, state, host(state.workdir), options.standIns);
        break;
      case 'USER':
        state.user = expandVariables(instruction.text, vars(), instruction.line);
        break;
      case 'CMD':
        state.cmd = instruction.exec ?? ['/bin/sh', '-c', instruction.text];
        break;
      case 'ENTRYPOINT':
        state.entrypoint = instruction.exec ?? ['/bin/sh', '-c', instruction.text];
        break;
      case 'EXPOSE':
      case 'LABEL':
      case 'HEALTHCHECK':
      case 'STOPSIGNAL':
      case 'VOLUME':
        break; // metadata: nothing to build
      default:
        throw new BuildError(`${label}, line ${instruction.line}: ${instruction.keyword} is not modelled by this check`);
    }
  }
  return state;
}

async function copy(
  instruction: Instruction,
  dockerfile: Dockerfile,
  context: BuildContext,
  built: Map<number, StageState>,
  state: StageState,
  host: (containerPath: string) => string,
  vars: Record<string, string | undefined>,
): Promise<void> {
  const where = `${state.label}, line ${instruction.line}: ${instruction.keyword}`;
  for (const flag of Object.keys(instruction.flags)) {
    if (!['from', 'chown', 'chmod', 'link'].includes(flag)) throw new BuildError(`${where}: --${flag} is not modelled by this check`);
  }
  const { sources, destination } = copyArguments(instruction, vars);
  const target = path.posix.resolve(state.workdir, destination);
  // Several sources or a wildcard: the destination is a directory, as it is when written with a "/".
  const intoDirectory = destination.endsWith('/') || sources.length > 1 || sources.some((source) => /[*?[]/.test(source));
  const place = async (source: string, isDirectory: boolean): Promise<string> => {
    if (isDirectory) return host(target);
    const existing = await lstat(host(target)).catch(() => undefined);
    return intoDirectory || existing?.isDirectory() ? path.join(host(target), path.posix.basename(source)) : host(target);
  };

  const from = instruction.flags.from;
  if (from !== undefined) {
    const stage = findStage(dockerfile, from);
    const source = stage && built.get(stage.index);
    if (!source) throw new BuildError(`${where}: --from=${from} names no earlier stage (copying from an image is not modelled)`);
    for (const file of sources) {
      const absolute = path.join(source.root, path.posix.resolve('/', file));
      const info = await lstat(absolute).catch(() => undefined);
      if (!info) throw new BuildError(`${where}: "${file}" not found in stage ${source.label}`);
      await linkTree(absolute, await place(file, info.isDirectory()));
    }
    return;
  }

  if (instruction.keyword === 'ADD' && sources.some((source) => /^[a-z]+:\/\//i.test(source))) {
    throw new BuildError(`${where}: ADD from a URL is not modelled by this check`);
  }
  for (const source of sources) {
    let found: string[];
    try {
      found = await resolveSource(context, source);
    } catch (error) {
      throw new BuildError(`${where} ${instruction.text}: ${(error as Error).message}`, { cause: error });
    }
    for (const match of found) {
      const isDirectory = (await lstat(path.join(context.root, match))).isDirectory();
      state.contextFiles.push(...(await copyFromContext(context, match, await place(match, isDirectory))));
    }
  }
}

async function runStep(instruction: Instruction, state: StageState, cwd: string, standIns: readonly StandIn[]): Promise<void> {
  const command = instruction.exec?.join(' ') ?? instruction.text;
  const step: RunStep = { command, cwd, line: instruction.line };
  const standIn = standIns.find((candidate) => candidate.matches(command));
  if (standIn) {
    try {
      await standIn.run(step, state);
    } catch (error) {
      throw new BuildError(`${state.label}, line ${instruction.line}: RUN ${command}: ${(error as Error).message}`, { cause: error });
    }
    return;
  }
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    ...Object.fromEntries(Object.entries(state.args).filter((entry): entry is [string, string] => entry[1] !== undefined)),
    ...state.env,
    // Anything that would reach the npm registry fails instead: the check runs offline.
    npm_config_offline: 'true',
    npm_config_update_notifier: 'false',
  };
  const [file, ...args] = instruction.exec ?? ['/bin/sh', '-c', command];
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn(file ?? '/bin/sh', args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (exitCode) => resolve({ code: exitCode, output }));
  });
  if (code !== 0) {
    const tail = output.trim().split('\n').slice(-30).join('\n');
    throw new BuildError(`${state.label}, line ${instruction.line}: RUN ${command}\nfailed with exit ${code}:\n${tail}`);
  }
}
