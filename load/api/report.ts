import { markdownTable, type Report, type ReportSection } from '../report/write.js';

/** One autocannon run: an endpoint at a number of connections, cache on or off. */
export interface ApiRun {
  cache: 'on' | 'off';
  scenario: string;
  route: string;
  connections: number;
  durationSec: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  responses: { '2xx': number; '4xx': number; '5xx': number };
  errors: number;
  timeouts: number;
}

const fixed = (n: number, digits = 1): string => n.toFixed(digits);

/** The `make load` report: tables and charts per cache mode, and cache on against off. */
export function buildApiReport(runs: ApiRun[], context: { command: string; seedEvents: number; stockRows: number; unknownShare: number; cacheTtlMs: number; stack: string }): Report {
  const scenarios = [...new Set(runs.map((r) => r.scenario))];
  const connections = [...new Set(runs.map((r) => r.connections))].sort((a, b) => a - b);
  const find = (cache: 'on' | 'off', scenario: string, c: number): ApiRun | undefined => runs.find((r) => r.cache === cache && r.scenario === scenario && r.connections === c);
  const sections: ReportSection[] = [
    {
      heading: 'Set-up',
      body: [
        `- Data: ${context.stack}; ${context.stockRows} stock rows${context.seedEvents > 0 ? `, seeded with ${context.seedEvents} generated events through the processor's write path (COPY + apply_batch)` : ''}.`,
        `- Each request takes a random id that exists, except ${Math.round(context.unknownShare * 100)}% random unknown ids (a 404 where the endpoint reports a missing resource; an empty answer where it does not).`,
        `- API: \`node --import tsx api/server.ts\`, LOG_LEVEL=warn, cache on = API_CACHE_TTL_MS=${context.cacheTtlMs}, cache off = API_CACHE_TTL_MS=0.`,
        '- autocannon runs in the benchmark process on the same machine as the API and PostgreSQL, so all three share its cores.',
      ].join('\n'),
    },
  ];
  for (const cache of ['on', 'off'] as const) {
    const mine = runs.filter((r) => r.cache === cache);
    if (mine.length === 0) continue;
    sections.push({
      heading: `Cache ${cache}`,
      body: markdownTable(
        ['endpoint', 'connections', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', '2xx', '4xx', '5xx', 'errors'],
        mine.map((r) => [r.route, r.connections, Math.round(r.requestsPerSecond), fixed(r.latencyMs.p50), fixed(r.latencyMs.p90), fixed(r.latencyMs.p99), fixed(r.latencyMs.max, 0), r.responses['2xx'], r.responses['4xx'], r.responses['5xx'], r.errors + r.timeouts]),
      ),
      charts: [
        {
          file: `rps-cache-${cache}`,
          chart: {
            kind: 'bar',
            title: `Throughput by endpoint and connections (cache ${cache})`,
            yLabel: 'requests per second (req/s)',
            xLabel: 'concurrent connections',
            categories: connections.map(String),
            series: scenarios.map((s) => ({ name: s, values: connections.map((c) => find(cache, s, c)?.requestsPerSecond ?? null) })),
          },
        },
        {
          file: `p99-cache-${cache}`,
          chart: {
            kind: 'bar',
            title: `p99 latency by endpoint and connections (cache ${cache})`,
            yLabel: 'p99 latency (ms)',
            xLabel: 'concurrent connections',
            categories: connections.map(String),
            series: scenarios.map((s) => ({ name: s, values: connections.map((c) => find(cache, s, c)?.latencyMs.p99 ?? null) })),
          },
        },
      ],
    });
  }
  const top = connections[connections.length - 1];
  if (top !== undefined && runs.some((r) => r.cache === 'off')) {
    sections.push({
      heading: `Cache on against off at ${top} connections`,
      charts: [
        {
          file: 'cache-effect',
          chart: {
            kind: 'bar',
            title: `Throughput with and without the read cache (${top} connections)`,
            yLabel: 'requests per second (req/s)',
            xLabel: 'endpoint',
            categories: scenarios,
            series: (['on', 'off'] as const).map((cache) => ({ name: `cache ${cache}`, values: scenarios.map((s) => find(cache, s, top)?.requestsPerSecond ?? null) })),
          },
        },
      ],
    });
  }
  return { name: 'api', title: 'API load test (make load)', command: context.command, sections, data: { context, runs } };
}
