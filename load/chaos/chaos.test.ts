import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../lib/child.js';
import { runCampaign } from './campaign.js';
import { FAULT_KINDS } from './faults.js';
import { formatReport } from './report.js';

// The short `make chaos`: one fault of each kind (SIGKILL, a new member, a PostgreSQL restart, a
// cut and a blackholed connection) spread over 45 s of a seeded stream through the embedded stack
// and 2-3 processors; then the database must equal the oracle.

describe('fault campaign, one fault of each kind', () => {
  it('ends with the database equal to the oracle: nothing lost, nothing applied twice', async () => {
    const logDir = path.join(REPO_ROOT, '.dev/chaos-test');
    await mkdir(logDir, { recursive: true });
    const report = await runCampaign({
      seed: 7,
      durationMs: 45_000,
      rate: 300,
      faults: FAULT_KINDS,
      faultGapMs: [0, 0],
      maxLag: 20_000,
      drainTimeoutMs: 180_000,
      logDir,
      say: () => undefined,
    });
    console.log(formatReport(report, 'chaos.test.ts'));
    for (const kind of FAULT_KINDS) expect(report.faults[kind], kind).toBeGreaterThanOrEqual(1);
    expect(report.comparison).toMatchObject({ lost: 0, unexpected: 0, wrongOutcome: 0, skippedOffsets: 0 });
    expect(report.comparison.equal).toBe(true);
  }, 480_000); // its waits: 45 s of producing, the faults (about 30 s), 180 s to catch up, the stack's start and stop
});
