import { FAULT_KINDS, FAULT_LABELS } from './faults.js';
import type { CampaignReport } from './campaign.js';

const n = (value: number) => value.toLocaleString('en-US');
const pair = ({ expected, actual }: { expected: number; actual: number }) => `${n(actual)} of ${n(expected)}${actual === expected ? '' : '  <-- differs'}`;

/** The campaign's table: faults by kind, what was produced, and the database against the oracle. */
export function formatReport(report: CampaignReport, command: string): string {
  const c = report.comparison;
  const rows: [string, string][] = [
    ...FAULT_KINDS.map((kind): [string, string] => [FAULT_LABELS[kind], n(report.faults[kind])]),
    ['', ''],
    ['messages produced', `${n(report.produced.messages)} (${n(report.produced.valid)} valid, ${n(report.produced.invalid)} invalid)`],
    ['largest lag', `${n(report.maxLagSeen)} messages`],
    ['catch-up after producing and faults ended', `${(report.catchUpMs / 1000).toFixed(1)} s`],
    ['', ''],
    ['ledger rows (actual of oracle)', pair(c.ledgerRows)],
    ...Object.entries(c.outcomes).map(([outcome, counts]): [string, string] => [`  ${outcome}`, pair(counts)]),
    ['dead-lettered', pair(c.deadLetters)],
    ['skipped offsets', n(c.skippedOffsets)],
    ['stock rows', c.stock.mismatched === 0 ? `equal (${n(c.stock.keys)} keys)` : `${n(c.stock.mismatched)} of ${n(c.stock.keys)} differ`],
    ['movements', c.movements.mismatched === 0 ? `equal (${n(c.movements.expected)})` : `${n(c.movements.mismatched)} of ${n(c.movements.expected)} differ`],
    ['status changes (logged, counted)', `${n(c.statusChanges.logged)}, ${n(c.statusChanges.counted)} of ${n(c.statusChanges.expected)}`],
    ['lost', n(c.lost)],
    ['applied twice', n(c.stock.aboveTruth + c.unexpected)],
    ['other outcome than the oracle', n(c.wrongOutcome)],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  return [
    `${command}: seed ${report.options.seed}, ${(report.elapsedMs / 60_000).toFixed(1)} min in all, ${report.options.rate} events/s, 2-3 processors`,
    ...rows.map(([label, value]) => (label ? `  ${label.padEnd(width)}  ${value}` : '')),
    c.equal ? 'result: the database equals the oracle: nothing lost, nothing applied twice' : 'result: THE DATABASE DIFFERS FROM THE ORACLE',
  ].join('\n');
}
