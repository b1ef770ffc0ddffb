import { execFile } from 'node:child_process';
import { open, readdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * The shared libraries native code links against, as the Debian packages that ship them: what a
 * runtime image must install for its native addons to load. Read with `ldd` (the dynamic loader's
 * own resolution) and `dpkg-query --search`, on this machine, whose Debian release the images'
 * base (bookworm) matches.
 */

const run = promisify(execFile);

/**
 * Native addons (`*.node` ELF files) under `directory`: what Node.js loads, and through which
 * the loader reaches every other library (ldd follows them transitively, with the addon's RUNPATH).
 */
export async function findNativeAddons(directory: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(directory, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.node')) continue;
    const file = path.join(entry.parentPath, entry.name);
    const handle = await open(file, 'r');
    const { buffer } = await handle.read(Buffer.alloc(4), 0, 4, 0);
    await handle.close();
    if (buffer.toString('latin1') === '\u007fELF') found.push(file);
  }
  return found.sort();
}

/**
 * The Debian packages providing what `files` link, leaving out libraries found inside `within`
 * (shipped beside the addon, as librdkafka is).
 *
 * @throws when a library cannot be found at all (`not found` in ldd's answer)
 */
export async function linkedPackages(files: readonly string[], within = '/nonexistent'): Promise<string[]> {
  const packages = new Set<string>();
  const inside = path.resolve(within) + path.sep;
  for (const file of files) {
    const { stdout } = await run('ldd', [file]);
    for (const line of stdout.split('\n')) {
      const missing = /^\s*(\S+) => not found/.exec(line);
      if (missing) throw new Error(`${file} links ${missing[1]}, which is not installed`);
      const library = /=> (\/\S+)/.exec(line)?.[1] ?? /^\s*(\/\S+) \(/.exec(line)?.[1];
      if (!library || (await realpath(library)).startsWith(inside) || library.startsWith(inside)) continue;
      packages.add(await owningPackage(library));
    }
  }
  return [...packages].sort();
}

/** Whether Debian package `name` ships a shared library (a `.so` file). */
export async function shipsSharedLibrary(name: string): Promise<boolean> {
  const { stdout } = await run('dpkg-query', ['--listfiles', name]);
  return /\.so(\.\d+)*$/m.test(stdout);
}

/** The package that ships `library`, trying the path as given, resolved, and without /usr (merged /usr). */
async function owningPackage(library: string): Promise<string> {
  const resolved = await realpath(library);
  const candidates = new Set([library, resolved]);
  for (const candidate of [...candidates]) {
    candidates.add(candidate.startsWith('/usr/') ? candidate.slice(4) : `/usr${candidate}`);
  }
  for (const candidate of candidates) {
    const owner = await run('dpkg-query', ['--search', candidate]).then(
      ({ stdout }) => stdout.split(':')[0]?.trim(),
      () => undefined,
    );
    if (owner) return owner;
  }
  throw new Error(`no Debian package ships ${library}`);
}
