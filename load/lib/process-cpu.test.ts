import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cpuSecondsOf } from './process-cpu.js';

describe('cpuSecondsOf', () => {
  it('reads the CPU a busy process has used, whatever its command name', async () => {
    // /proc/<pid>/stat shows the executable's name in parentheses; one with ')' and numbers in
    // it must not shift the fields that follow.
    const dir = await mkdtemp(path.join(tmpdir(), 'wsm-cpu-'));
    const shell = path.join(dir, 'c) 0 0 0 0 0 0');
    await copyFile('/bin/sh', shell);
    const child = spawn(shell, ['-c', 'i=0; while [ $i -lt 30000000 ]; do i=$((i+1)); done'], { stdio: 'ignore' });
    try {
      // Waits on progress, not on the clock: on a busy machine the child may get little CPU in a
      // given half second. A misread field would give zero, a huge number, or undefined.
      let seconds: number | undefined;
      const deadline = Date.now() + 30_000;
      do {
        await new Promise((resolve) => setTimeout(resolve, 100));
        seconds = await cpuSecondsOf(child.pid!);
      } while ((seconds ?? 0) <= 0.1 && Date.now() < deadline);
      expect(seconds).toBeGreaterThan(0.1);
      expect(seconds).toBeLessThan(30);
    } finally {
      child.kill();
      await once(child, 'exit');
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000); // its wait: 30 s at most

  it('answers undefined for a process that does not exist', async () => {
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await once(child, 'exit');
    expect(await cpuSecondsOf(child.pid!)).toBeUndefined();
  });
});
