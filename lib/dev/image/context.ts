import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, lstat, mkdir, readdir, readFile, readlink, stat, symlink } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { cleanPath, parseDockerignore, type IgnoreRules } from './dockerignore.js';

/**
 * The build context as BuildKit sees it: the files under the context root minus what
 * `.dockerignore` excludes. COPY and ADD can only take files from here, so a file the Dockerfile
 * forgets to copy, or one `.dockerignore` leaves out, is missing here exactly as in `docker build`.
 */

const run = promisify(execFile);

/** A COPY or ADD source that is not in the context (absent, or excluded by `.dockerignore`). */
export class ContextError extends Error {
  override name = 'ContextError';
}

export interface BuildContext {
  root: string;
  rules: IgnoreRules;
}

/** The context rooted at `root`, with the rules of its `.dockerignore` (none when absent). */
export async function openContext(root: string): Promise<BuildContext> {
  const text = await readFile(path.join(root, '.dockerignore'), 'utf8').catch(() => '');
  return { root, rules: parseDockerignore(text) };
}

/**
 * The context paths a COPY source names: the cleaned path itself, or every context path matching
 * it when it holds wildcards (`*`, `?`, `[...]`, within one path segment as Go's filepath.Match).
 *
 * @throws ContextError when it names nothing in the context, as BuildKit's "not found"
 */
export async function resolveSource(context: BuildContext, source: string): Promise<string[]> {
  const cleaned = cleanPath(source.replace(/^\/+/, ''));
  if (cleaned === '..' || cleaned.startsWith('../')) throw new ContextError(`"${source}" is outside the build context`);
  if (!/[*?[]/.test(cleaned)) {
    if (cleaned !== '.' && context.rules.ignores(cleaned)) {
      throw new ContextError(`"${source}" not found in the build context: .dockerignore excludes it`);
    }
    if (!(await exists(path.join(context.root, cleaned)))) throw new ContextError(`"${source}" not found in the build context`);
    return [cleaned];
  }
  const segments = cleaned.split('/');
  const matched: string[] = [];
  const walk = async (prefix: string, depth: number): Promise<void> => {
    const pattern = segmentPattern(segments[depth] ?? '');
    for (const entry of await readdir(path.join(context.root, prefix), { withFileTypes: true }).catch(() => [])) {
      const relative = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
      if (!pattern.test(entry.name) || context.rules.ignores(relative)) continue;
      if (depth === segments.length - 1) matched.push(relative);
      else if (entry.isDirectory()) await walk(relative, depth + 1);
    }
  };
  await walk('', 0);
  if (matched.length === 0) throw new ContextError(`"${source}" matches no file in the build context`);
  return matched.sort();
}

/** The context paths of the files under `source` (itself when it is a file), without excluded ones. */
export async function contextFiles(context: BuildContext, source: string): Promise<string[]> {
  if (!(await lstat(path.join(context.root, source))).isDirectory()) return [source];
  const files: string[] = [];
  const walk = async (directory: string): Promise<void> => {
    for (const entry of await readdir(path.join(context.root, directory), { withFileTypes: true })) {
      const relative = directory === '.' ? entry.name : `${directory}/${entry.name}`;
      const ignored = context.rules.ignores(relative);
      // An excluded directory can only hold included files when a `!` pattern exists.
      if (entry.isDirectory()) {
        if (!ignored || context.rules.hasExceptions) await walk(relative);
      } else if (!ignored) {
        files.push(relative);
      }
    }
  };
  await walk(source);
  return files.sort();
}

/**
 * Copies context path `source` to `destination` (a host path) as COPY does: a file to that path,
 * a directory's contents beneath it, leaving out what `.dockerignore` excludes. Returns the
 * context paths of the files copied.
 */
export async function copyFromContext(context: BuildContext, source: string, destination: string): Promise<string[]> {
  const isDirectory = (await lstat(path.join(context.root, source))).isDirectory();
  const files = await contextFiles(context, source);
  for (const file of files) {
    const target = isDirectory ? path.join(destination, source === '.' ? file : path.posix.relative(source, file)) : destination;
    await mkdir(path.dirname(target), { recursive: true });
    const from = path.join(context.root, file);
    await copyEntry(from, target, (await lstat(from)).isSymbolicLink());
  }
  if (isDirectory) await mkdir(destination, { recursive: true });
  return files;
}

/** SHA-256 over the names and contents of `files` (context paths), for the stage cache key. */
export async function hashFiles(context: BuildContext, files: readonly string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const file of [...files].sort()) {
    const full = path.join(context.root, file);
    const info = await lstat(full);
    hash.update(`${file}\0${info.mode}\0`);
    hash.update(info.isSymbolicLink() ? await readlink(full) : await readFile(full));
  }
  return hash.digest('hex');
}

/**
 * Copies `from` to `to` as hard links (`cp -al`): instant for node_modules, and safe because no
 * build step writes into a file in place (npm replaces, never rewrites, the files it touches).
 */
export async function linkTree(from: string, to: string): Promise<void> {
  const info = await stat(from);
  if (info.isDirectory()) {
    await mkdir(to, { recursive: true });
    await run('cp', ['-al', `${from}/.`, `${to}/`]);
  } else {
    await mkdir(path.dirname(to), { recursive: true });
    await run('cp', ['-al', from, to]);
  }
}

/** A file with its permission bits (libuv's copyfile keeps them), or a symlink as a symlink. */
async function copyEntry(from: string, to: string, isLink: boolean): Promise<void> {
  if (isLink) await symlink(await readlink(from), to);
  else await copyFile(from, to);
}

async function exists(file: string): Promise<boolean> {
  return lstat(file).then(
    () => true,
    () => false,
  );
}

/** One path segment of a COPY source pattern, as Go's filepath.Match reads it. */
function segmentPattern(segment: string): RegExp {
  let source = '^';
  for (let i = 0; i < segment.length; i++) {
    const char = segment.charAt(i);
    if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else if (char === '[') {
      const end = segment.indexOf(']', i + 1);
      const body = segment.slice(i + 1, end === -1 ? undefined : end);
      source += `[${body.startsWith('^') ? `^${body.slice(1)}` : body}]`;
      i = end === -1 ? segment.length : end;
    } else source += char.replace(/[.+()|{}$^\\]/, '\\$&');
  }
  return new RegExp(`${source}$`);
}
