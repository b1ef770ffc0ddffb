import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { barChartSvg, escapeXml, lineChartSvg, niceTicks } from './svg.js';
import { markdownTable, writeReport, type Report } from './write.js';

/**
 * A small well-formedness check: every tag closes in order, attributes are quoted, and text has no
 * bare `<` or `&`. Enough to catch what a string-built SVG gets wrong, without an XML dependency.
 */
function checkWellFormed(xml: string): { tags: string[] } {
  const stack: string[] = [];
  const tags: string[] = [];
  const token = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|<\?[^>]*\?>|([^<]+)|(<)/g;
  for (const match of xml.matchAll(token)) {
    const [whole, closing, name, , selfClosing, text, stray] = match;
    if (stray) throw new Error(`bare < or malformed tag near: ${xml.slice(match.index, match.index + 60)}`);
    if (text !== undefined) {
      if (/&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(text)) throw new Error(`bare & in text: ${text}`);
      continue;
    }
    if (whole.startsWith('<?')) continue;
    if (closing) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
    } else {
      tags.push(name!);
      if (!selfClosing) stack.push(name!);
    }
  }
  if (stack.length > 0) throw new Error(`unclosed: ${stack.join(', ')}`);
  return { tags };
}

describe('svg charts', () => {
  const bar = barChartSvg({
    title: 'p99 latency <by> endpoint & load',
    yLabel: 'latency (ms)',
    xLabel: 'connections',
    categories: ['20', '50', '100'],
    series: [
      { name: 'GET /api/stock', values: [3, 7.5, 15] },
      { name: 'GET /api/movements', values: [4, null, 30] },
    ],
  });
  const line = lineChartSvg({
    title: 'throughput by batch size',
    xLabel: 'BATCH_MAX_RECORDS',
    yLabel: 'events/s',
    logX: true,
    series: [{ name: 'wait 200 ms', points: [[1000, 20_000], [10_000, 60_000], [100_000, 90_000]] }],
  });

  it('are well-formed SVG with a title, axis titles and legend entries', () => {
    for (const svg of [bar, line]) {
      const { tags } = checkWellFormed(svg);
      expect(tags[0]).toBe('svg');
      expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    }
    expect(bar).toContain('<title>p99 latency &lt;by&gt; endpoint &amp; load</title>');
    expect(bar).toContain('latency (ms)');
    expect(bar).toContain('>connections<');
    expect(bar).toContain('>GET /api/stock<');
    expect(bar).toContain('>GET /api/movements<');
    expect(line).toContain('>BATCH_MAX_RECORDS<');
    expect(line).toContain('>wait 200 ms<');
  });

  it('draws one bar per non-null value and one marker per point, with tick labels', () => {
    expect(bar.match(/<rect [^>]*><title>/g)).toHaveLength(5);
    expect(bar).toContain('>30<');
    expect(bar).toContain('>0<');
    expect(line.match(/<circle /g)).toHaveLength(3);
    // Log axis: ticks at the data's own x values.
    for (const label of ['>1k<', '>10k<', '>100k<']) expect(line).toContain(label);
    expect(line).toContain('>100k<');
  });

  it('picks round ticks that cover the data', () => {
    expect(niceTicks(0, 87)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(0, 1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(escapeXml(`a<b>&"'`)).toBe('a&lt;b&gt;&amp;&quot;&apos;');
  });
});

describe('writeReport', () => {
  let dir = '';
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('writes JSON, Markdown linking every chart, and the SVG files', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'report-'));
    const report: Report = {
      name: 'demo',
      title: 'Demo report',
      command: 'make demo',
      data: { rps: 123 },
      sections: [
        {
          heading: 'Throughput',
          body: markdownTable(['endpoint', 'req/s'], [['GET /a|b', 123]]),
          charts: [{ file: 'rps', chart: { kind: 'bar', title: 'req/s', yLabel: 'requests/s', categories: ['20'], series: [{ name: 'a', values: [123] }] } }],
        },
      ],
    };
    const written = await writeReport(dir, report, new Date('2025-01-01T00:00:00Z'));
    const markdown = await readFile(written.markdown, 'utf8');
    expect(markdown).toContain('# Demo report');
    expect(markdown).toContain('`make demo`');
    expect(markdown).toContain('![req/s](demo-rps.svg)');
    expect(markdown).toContain('| GET /a\\|b | 123 |');
    expect(written.charts).toEqual([path.join(dir, 'demo-rps.svg')]);
    checkWellFormed(await readFile(written.charts[0]!, 'utf8'));
    const json = JSON.parse(await readFile(written.json, 'utf8')) as { results: unknown; machine: { cpus: number }; generatedAt: string };
    expect(json.results).toEqual({ rps: 123 });
    expect(json.machine.cpus).toBeGreaterThan(0);
    expect(json.generatedAt).toBe('2025-01-01T00:00:00.000Z');
  });
});
