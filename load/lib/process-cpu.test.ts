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
    const child = spawn(shell, ['-c', 'i=0; while [ $i -lt 3000000 ]; do i=$((i+1)); done'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const seconds = await cpuSecondsOf(child.pid!);
      expect(seconds).toBeGreaterThan(0.1);
      expect(seconds).toBeLessThan(5);
    } finally {
      child.kill();
      await once(child, 'exit');
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('answers undefined for a process that does not exist', async () => {
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await once(child, 'exit');
    expect(await cpuSecondsOf(child.pid!)).toBeUndefined();
  });
});
