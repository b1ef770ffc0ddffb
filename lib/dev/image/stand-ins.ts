import { execFile } from 'node:child_process';
import { copyFile, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { linkTree } from './context.js';
import type { RunStep, StageState, StandIn } from './build.js';

/**
 * Stand-ins for the RUN steps of this repository's Dockerfiles that need a registry, so the rest
 * of the build runs here offline (lib/dev/image/build.ts). Each one checks what it can of the step
 * it replaces and refuses a step it does not model, rather than skipping it quietly.
 */

const run = promisify(execFile);

/** The `&&`-joined commands of a shell line. */
function commands(command: string): string[] {
  return command.split('&&').map((part) => part.trim()).filter((part) => part !== '');
}

/**
 * `apt-get update && apt-get install ... && rm -rf /var/lib/apt/lists/*`: checks that this
 * machine has every package the step installs (the build here stands for the image's only when it
 * runs with the same libraries), and records them on the stage for the runtime-library check.
 */
export const debianPackages: StandIn = {
  name: "Debian packages (apt-get), checked as installed on this machine",
  matches: (command) => /^apt-get\b/.test(command.trim()),
  async run(step: RunStep, stage: StageState) {
    const packages: string[] = [];
    for (const part of commands(step.command)) {
      if (part === 'apt-get update' || /^rm -rf \/var\/lib\/apt\/lists\/\*?$/.test(part)) continue;
      const install = /^apt-get install\s+(.*)$/.exec(part);
      if (!install?.[1]) throw new Error(`"${part}": only apt-get update, apt-get install and removing the package lists are modelled`);
      packages.push(...install[1].split(/\s+/).filter((word) => word !== '' && !word.startsWith('-')));
    }
    const missing: string[] = [];
    for (const name of packages) {
      const status = await run('dpkg-query', ['-W', '-f=${db:Status-Abbrev}', name]).then(
        ({ stdout }) => stdout,
        () => '',
      );
      if (!status.startsWith('ii')) missing.push(name);
    }
    if (missing.length > 0) throw new Error(`this machine lacks ${missing.join(', ')}, so its build does not stand for the image's: apt-get install ${missing.join(' ')}`);
    stage.systemPackages.push(...packages);
  },
};

/**
 * `npm ci` from the lockfile the stage copied: this checkout's node_modules (installed from the
 * same lockfile by `make install`), linked into the stage. The stage's package.json and
 * package-lock.json must be this checkout's, or what it installs would differ.
 */
export function npmCiFromCheckout(checkout: string): StandIn {
  return {
    name: "npm ci, from this checkout's node_modules",
    matches: (command) => /^npm ci\b/.test(command.trim()),
    async run(step: RunStep) {
      const flags = step.command.trim().split(/\s+/).slice(2);
      const unknown = flags.filter((flag) => !['--no-audit', '--no-fund'].includes(flag));
      if (unknown.length > 0) throw new Error(`npm ci ${unknown.join(' ')} is not modelled (only a full install is)`);
      for (const file of ['package.json', 'package-lock.json']) {
        const inStage = await readFile(path.join(step.cwd, file), 'utf8').catch(() => undefined);
        if (inStage === undefined) throw new Error(`npm ci needs ${file} in the working directory, and the stage has none`);
        if (inStage !== (await readFile(path.join(checkout, file), 'utf8'))) throw new Error(`the stage's ${file} differs from this checkout's`);
      }
      const modules = path.join(step.cwd, 'node_modules');
      await linkTree(path.join(checkout, 'node_modules'), modules);
      // npm rewrites its hidden lockfile when it prunes: a copy of its own, not a link to ours.
      const hidden = path.join(modules, '.package-lock.json');
      await rm(hidden);
      await copyFile(path.join(checkout, 'node_modules/.package-lock.json'), hidden);
    },
  };
}
