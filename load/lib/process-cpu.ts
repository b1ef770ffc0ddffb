import { readFile } from 'node:fs/promises';

/**
 * Linux's USER_HZ: /proc reports CPU times in these ticks. It is 100 on every mainstream
 * architecture's ABI (man 5 proc, "clock ticks"), independent of the kernel's own HZ.
 */
const TICKS_PER_SECOND = 100;

/**
 * CPU seconds (user + system) that process `pid` has used so far, from /proc/<pid>/stat, or
 * undefined where /proc is absent or the process is gone. Works for any process of this machine,
 * a PostgreSQL backend included: that is how the bench splits CPU between processor and database.
 */
export async function cpuSecondsOf(pid: number): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (!stat) return undefined;
  // The command name (field 2) may contain spaces and parentheses: count fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line, so 11 and 12 after the state (field 3).
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / TICKS_PER_SECOND : undefined;
}
