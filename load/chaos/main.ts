/**
 * `make chaos`: a fault campaign on the embedded stack (load/chaos/campaign.ts), about 5 minutes by
 * default; prints progress, then a table of faults and whether the database equals the oracle.
 * Exits 1 when it does not. Options: --minutes N (default 5), --seed S (default 1), --rate R
 * events/s (default 500).
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../lib/child.js';
import { runCampaign } from './campaign.js';
import { formatReport } from './report.js';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '5' }, seed: { type: 'string', default: '1' }, rate: { type: 'string', default: '500' } } });
const minutes = Number(values.minutes);
const seed = Number(values.seed);
const rate = Number(values.rate);
if (!(minutes > 0) || !Number.isInteger(seed) || !(rate > 0)) {
  console.error('usage: make chaos ARGS="--minutes 5 --seed 1 --rate 500"');
  process.exit(2);
}
const logDir = path.join(REPO_ROOT, '.dev/chaos');
await mkdir(logDir, { recursive: true });
const say = (line: string) => console.error(`chaos | ${line}`);
const report = await runCampaign({
  seed,
  durationMs: minutes * 60_000,
  rate,
  faults: 'random',
  faultGapMs: [5000, 20_000],
  maxLag: 20_000,
  drainTimeoutMs: 10 * 60_000,
  logDir,
  say,
});
console.log(formatReport(report, `make chaos ARGS="--minutes ${values.minutes} --seed ${seed} --rate ${rate}"`));
console.log(`processor logs: ${path.relative(REPO_ROOT, logDir)}/`);
process.exit(report.comparison.equal ? 0 : 1);
