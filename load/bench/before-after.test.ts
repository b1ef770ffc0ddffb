import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { beforeAfterSection, benchFigures, readBenchFigures } from './before-after.js';

const run = (source: string, eventsPerSecond: number, baseline: number, writer: number) => ({
  source,
  results: {
    baselines: [{ eventsPerSecond: baseline / 3 }, { eventsPerSecond: baseline }],
    main: { eventsPerSecond, writePathEventsPerSecond: eventsPerSecond * 1.2, cpuMicrosPerMessage: { processor: 40, writerBackend: writer, benchProcess: 20 }, flushSeconds: { p50: 0.6 }, peakRssBytes: 300 * 2 ** 20 },
    steady: { freshnessMs: { p50: 600, p99: 950 } },
  },
});

const dir = await mkdtemp(path.join(tmpdir(), 'wsm-before-after-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('make bench --before', () => {
  it('reads an earlier bench.json and compares each figure, ratios to each run\'s own best baseline', async () => {
    const file = path.join(dir, 'bench.json');
    await writeFile(file, JSON.stringify(run('aaaaaaa', 12_000, 3_000, 52)));
    const before = await readBenchFigures(file);
    expect(before).toMatchObject({ source: 'aaaaaaa', eventsPerSecond: 12_000, bestBaselineEventsPerSecond: 3_000, cpu: { writerBackend: 52 } });
    const after = benchFigures(run('bbbbbbb', 13_000, 2_600, 39));
    const body = beforeAfterSection(before, after).body ?? '';
    expect(body).toContain('| processor end to end, events/s | 12,000 | 13,000 | 1.08 |');
    expect(body).toContain('| × the best per-message baseline of the same run | 4.0× | 5.0× | 1.25 |');
    expect(body).toContain('| CPU per message: writer backend (COPY, merge), µs | 52 | 39 | 0.75 |');
    expect(body).toContain('| freshness at half load p99, ms | 950 | 950 | 1.00 |');
  });

  it('refuses a file that is not a bench result, naming what it needs', async () => {
    const file = path.join(dir, 'api.json');
    await writeFile(file, JSON.stringify({ source: 'x', results: { rounds: [] } }));
    await expect(readBenchFigures(file)).rejects.toThrow(/--before .*api\.json: not a make bench result \(needs results\.main\.eventsPerSecond/);
  });

  it('names the option and the file when it is missing or not JSON', async () => {
    await expect(readBenchFigures(path.join(dir, 'nowhere.json'))).rejects.toThrow(/--before .*nowhere\.json: cannot read an earlier make bench result \(ENOENT/);
    const file = path.join(dir, 'bench.md');
    await writeFile(file, '# Ingest benchmark');
    await expect(readBenchFigures(file)).rejects.toThrow(/--before .*bench\.md: cannot read an earlier make bench result \(.*JSON/);
  });
});
