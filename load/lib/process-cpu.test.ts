import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { cpuSecondsOf } from './process-cpu.js';

describe('cpuSecondsOf', () => {
  it('reads the CPU a busy process has used, whatever its command name', async () => {
    // A name with a space and a closing parenthesis: the parser must not stop at it.
    const child = spawn(process.execPath, ['-e', 'process.title = "cpu) test"; const end = Date.now() + 600; while (Date.now() < end);'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => setTimeout(resolve, 400));
      const seconds = await cpuSecondsOf(child.pid!);
      expect(seconds).toBeGreaterThan(0.1);
      expect(seconds).toBeLessThan(5);
    } finally {
      await once(child, 'exit');
    }
  });

  it('answers undefined for a process that does not exist', async () => {
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await once(child, 'exit');
    expect(await cpuSecondsOf(child.pid!)).toBeUndefined();
  });
});
