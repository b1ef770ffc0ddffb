import { readFile } from 'node:fs/promises';
import { markdownTable, type ReportSection } from '../report/write.js';

/**
 * `make bench ARGS="--before <bench.json>"`: the report compares this run with an earlier run's
 * bench.json, typically made at another commit on the same machine just before (a worktree of the
 * old commit: `git worktree add --detach ../before <commit>`, then `make bench ARGS="--out <dir>"`
 * there). Each run's ratio is to its own best per-message baseline, so a busier or quieter
 * machine moves both sides of that ratio together.
 */

/** The figures compared: what issue 11's targets name. */
export interface BenchFigures {
  source: string;
  eventsPerSecond: number;
  bestBaselineEventsPerSecond: number;
  writePathEventsPerSecond: number;
  cpu: { processor?: number | undefined; writerBackend?: number | undefined; benchProcess?: number | undefined };
  freshnessHalfLoadMs: { p50?: number | undefined; p99?: number | undefined };
  flushP50Seconds?: number | undefined;
  peakRssBytes?: number | undefined;
}

/** The shape of a bench.json, as far as the comparison reads it (older reports have the same fields). */
export interface BenchJson {
  source?: unknown;
  results?: {
    baselines?: { eventsPerSecond?: unknown }[];
    main?: {
      eventsPerSecond?: unknown;
      writePathEventsPerSecond?: unknown;
      cpuMicrosPerMessage?: { processor?: unknown; writerBackend?: unknown; benchProcess?: unknown };
      flushSeconds?: { p50?: unknown };
      peakRssBytes?: unknown;
    };
    steady?: { freshnessMs?: { p50?: unknown; p99?: unknown } };
  };
}

const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

/** Reads an earlier run's bench.json; a missing, unreadable or wrong file fails naming the option and the file. */
export async function readBenchFigures(file: string): Promise<BenchFigures> {
  let json: BenchJson;
  try {
    json = JSON.parse(await readFile(file, 'utf8')) as BenchJson;
  } catch (error) {
    throw new Error(`--before ${file}: cannot read an earlier make bench result (${error instanceof Error ? error.message : String(error)})`);
  }
  return benchFigures(json, `--before ${file}`);
}

/** The compared figures of one run's results (a bench.json, or this run's before it is written). */
export function benchFigures(json: BenchJson, what = 'this run'): BenchFigures {
  const main = json.results?.main;
  const baselines = (json.results?.baselines ?? []).flatMap((b) => num(b.eventsPerSecond) ?? []);
  const eventsPerSecond = num(main?.eventsPerSecond);
  const writePath = num(main?.writePathEventsPerSecond);
  if (eventsPerSecond === undefined || writePath === undefined || baselines.length === 0) {
    throw new Error(`${what}: not a make bench result (needs results.main.eventsPerSecond, results.main.writePathEventsPerSecond and results.baselines)`);
  }
  return {
    source: typeof json.source === 'string' ? json.source : 'unknown',
    eventsPerSecond,
    bestBaselineEventsPerSecond: Math.max(...baselines),
    writePathEventsPerSecond: writePath,
    cpu: {
      processor: num(main?.cpuMicrosPerMessage?.processor),
      writerBackend: num(main?.cpuMicrosPerMessage?.writerBackend),
      benchProcess: num(main?.cpuMicrosPerMessage?.benchProcess),
    },
    freshnessHalfLoadMs: { p50: num(json.results?.steady?.freshnessMs?.p50), p99: num(json.results?.steady?.freshnessMs?.p99) },
    flushP50Seconds: num(main?.flushSeconds?.p50),
    peakRssBytes: num(main?.peakRssBytes),
  };
}

/** The report section: one row per figure, before, after, and after ÷ before. */
export function beforeAfterSection(before: BenchFigures, after: BenchFigures): ReportSection {
  const rows: [string, number | undefined, number | undefined, (n: number) => string][] = [
    ['processor end to end, events/s', before.eventsPerSecond, after.eventsPerSecond, round],
    ['× the best per-message baseline of the same run', before.eventsPerSecond / before.bestBaselineEventsPerSecond, after.eventsPerSecond / after.bestBaselineEventsPerSecond, (n) => `${n.toFixed(1)}×`],
    ['processor write path, events/s of flush time', before.writePathEventsPerSecond, after.writePathEventsPerSecond, round],
    ['CPU per message: processor, µs', before.cpu.processor, after.cpu.processor, round],
    ['CPU per message: writer backend (COPY, merge), µs', before.cpu.writerBackend, after.cpu.writerBackend, round],
    ['CPU per message: bench process (producer, mock broker), µs', before.cpu.benchProcess, after.cpu.benchProcess, round],
    ['batch flush p50, ms', seconds(before.flushP50Seconds), seconds(after.flushP50Seconds), round],
    ['freshness at half load p50, ms', before.freshnessHalfLoadMs.p50, after.freshnessHalfLoadMs.p50, round],
    ['freshness at half load p99, ms', before.freshnessHalfLoadMs.p99, after.freshnessHalfLoadMs.p99, round],
    ['processor peak RSS, MiB', mebibytes(before.peakRssBytes), mebibytes(after.peakRssBytes), round],
  ];
  return {
    heading: `Before (${before.source}) and after (${after.source})`,
    body: [
      markdownTable(
        ['figure', `before (${before.source})`, `after (${after.source})`, 'after ÷ before'],
        rows.map(([name, b, a, format]) => [name, b === undefined ? '-' : format(b), a === undefined ? '-' : format(a), b === undefined || a === undefined || b === 0 ? '-' : `${(a / b).toFixed(2)}`]),
      ),
      '',
      'The before column is an earlier run\'s bench.json (`--before`), made with the same options on the same machine; each ratio to the baseline uses its own run\'s best per-message baseline.',
    ].join('\n'),
  };
}

const round = (n: number): string => Math.round(n).toLocaleString('en');
const seconds = (s: number | undefined): number | undefined => (s === undefined ? undefined : s * 1000);
const mebibytes = (bytes: number | undefined): number | undefined => (bytes === undefined ? undefined : bytes / 2 ** 20);
