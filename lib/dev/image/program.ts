import { readFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import path from 'node:path';
import ts from 'typescript';

/**
 * What a built program loads: every module reachable from its entry files through static
 * imports, re-exports and dynamic `import('literal')`, read with TypeScript's own import scanner
 * (`ts.preProcessFile`), and the npm packages those modules name. The image check uses it to show
 * that the image's program imports only production dependencies.
 */

export interface ProgramModules {
  /** Files of the program, relative to `root`. */
  files: string[];
  /** npm package names the program imports (`@scope/name` or `name`). */
  packages: string[];
}

/** A relative import that names no file: the program would fail with ERR_MODULE_NOT_FOUND. */
export class MissingModuleError extends Error {
  override name = 'MissingModuleError';
}

const BUILTINS = new Set(builtinModules);

/** Follows the imports of `entries` (paths relative to `root`). */
export async function programModules(root: string, entries: readonly string[]): Promise<ProgramModules> {
  const files = new Set<string>();
  const packages = new Set<string>();
  const queue = entries.map((entry) => path.resolve(root, entry));
  while (queue.length > 0) {
    const file = queue.pop() as string;
    const relative = path.relative(root, file);
    if (files.has(relative)) continue;
    files.add(relative);
    if (!/\.[cm]?js$/.test(file)) continue; // JSON, WebAssembly: loaded, not parsed for imports
    const text = await readFile(file, 'utf8');
    for (const { fileName: specifier } of ts.preProcessFile(text, true, true).importedFiles) {
      if (specifier.startsWith('.') || specifier.startsWith('/')) {
        const target = path.resolve(path.dirname(file), specifier);
        const found = await readFile(target).then(
          () => true,
          () => false,
        );
        if (!found) throw new MissingModuleError(`${relative} imports ${specifier}, which is not in the image`);
        queue.push(target);
      } else if (!specifier.startsWith('node:') && !BUILTINS.has(specifier.split('/')[0] ?? '')) {
        packages.add(packageName(specifier));
      }
    }
  }
  return { files: [...files].sort(), packages: [...packages].sort() };
}

/** `@scope/name/sub/path` → `@scope/name`; `name/sub` → `name`. */
export function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}
