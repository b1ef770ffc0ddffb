import { markdownTable, type Report, type ReportSection } from '../report/write.js';
import type { Workload } from './scenarios.js';

/** The servers `make load` compares: the API with its read cache off and on, and the bare baseline. */
export const SERVERS = ['api-cache-off', 'api-cache-on', 'bare'] as const;
export type Server = (typeof SERVERS)[number];

/** One autocannon run: a scenario against one server, in one round. */
export interface ApiRun {
  server: Server;
  scenario: string;
  route: string;
  workload: Workload;
  round: number;
  connections: number;
  durationSec: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  responses: { '2xx': number; '4xx': number; '5xx': number };
  errors: number;
  timeouts: number;
}

/** The issue's targets (issue 12): at 50 connections, cache off >= 0.7x bare with p99 <= 20 ms; hot keys, cache on >= 1.5x bare. */
export const TARGETS = { cacheOffRatio: 0.7, cacheOffP99Ms: 20, hotCacheOnRatio: 1.5 };

export interface ScenarioSummary {
  scenario: string;
  route: string;
  workload: Workload;
  /** Median over rounds, per server present. */
  requestsPerSecond: Partial<Record<Server, number>>;
  p99Ms: Partial<Record<Server, number>>;
  /** Median over rounds of (API req/s ÷ bare req/s in the same round). */
  ratioToBare: { 'api-cache-off'?: number; 'api-cache-on'?: number };
  /** Responses other than 2xx/4xx, errors and timeouts, summed over runs: must be 0 for a fair figure. */
  failures: number;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/** Per scenario: medians over rounds, and ratios to the bare server taken round by round (both ran back to back). */
export function summarise(runs: ApiRun[]): ScenarioSummary[] {
  const scenarios = [...new Set(runs.map((r) => r.scenario))];
  return scenarios.map((scenario) => {
    const mine = runs.filter((r) => r.scenario === scenario);
    const first = mine[0]!;
    const requestsPerSecond: ScenarioSummary['requestsPerSecond'] = {};
    const p99Ms: ScenarioSummary['p99Ms'] = {};
    for (const server of SERVERS) {
      const of = mine.filter((r) => r.server === server);
      if (of.length === 0) continue;
      requestsPerSecond[server] = median(of.map((r) => r.requestsPerSecond));
      p99Ms[server] = median(of.map((r) => r.latencyMs.p99));
    }
    const ratioToBare: ScenarioSummary['ratioToBare'] = {};
    for (const server of ['api-cache-off', 'api-cache-on'] as const) {
      const ratios = [...new Set(mine.map((r) => r.round))].flatMap((round) => {
        const api = mine.find((r) => r.round === round && r.server === server);
        const bare = mine.find((r) => r.round === round && r.server === 'bare');
        return api && bare && bare.requestsPerSecond > 0 ? [api.requestsPerSecond / bare.requestsPerSecond] : [];
      });
      if (ratios.length > 0) ratioToBare[server] = median(ratios);
    }
    const failures = mine.reduce((sum, r) => sum + r.responses['5xx'] + r.errors + r.timeouts, 0);
    return { scenario, route: first.route, workload: first.workload, requestsPerSecond, p99Ms, ratioToBare, failures };
  });
}

const rate = (n: number | undefined): string => (n === undefined ? '' : String(Math.round(n)));
const ms = (n: number | undefined): string => (n === undefined ? '' : n.toFixed(1));
const ratio = (n: number | undefined): string => (n === undefined ? '' : `${n.toFixed(2)}×`);

/** Whether each target holds, as lines for the console and the report. */
export function targetLines(summaries: ScenarioSummary[]): string[] {
  const lines: string[] = [];
  for (const s of summaries) {
    if (s.workload === 'uniform' && s.ratioToBare['api-cache-off'] !== undefined) {
      const r = s.ratioToBare['api-cache-off'];
      const p99 = s.p99Ms['api-cache-off'] ?? Infinity;
      const met = r >= TARGETS.cacheOffRatio && p99 <= TARGETS.cacheOffP99Ms;
      lines.push(`${met ? 'met   ' : 'MISSED'} ${s.scenario}, cache off: ${r.toFixed(2)}× bare (target ≥ ${TARGETS.cacheOffRatio}×), p99 ${p99.toFixed(1)} ms (target ≤ ${TARGETS.cacheOffP99Ms} ms)`);
    }
    if (s.workload === 'hot' && s.ratioToBare['api-cache-on'] !== undefined) {
      const r = s.ratioToBare['api-cache-on'];
      lines.push(`${r >= TARGETS.hotCacheOnRatio ? 'met   ' : 'MISSED'} ${s.scenario}, cache on: ${r.toFixed(2)}× bare (target ≥ ${TARGETS.hotCacheOnRatio}×)`);
    }
  }
  return lines;
}

export interface ReportContext {
  command: string;
  seedEvents: number;
  stockRows: number;
  unknownShare: number;
  hotKeys: number;
  zipfS: number;
  cacheTtlMs: number;
  connections: number;
  durationSec: number;
  rounds: number;
  stack: string;
}

/** The `make load` report: API ÷ bare per endpoint and workload, cache off and on, and whether the targets hold. */
export function buildApiReport(runs: ApiRun[], context: ReportContext): Report {
  const summaries = summarise(runs);
  const sections: ReportSection[] = [
    {
      heading: 'Set-up',
      body: [
        `- Data: ${context.stack}; ${context.stockRows} stock rows${context.seedEvents > 0 ? `, seeded with ${context.seedEvents} generated events through the processor's write path (COPY + apply_batch)` : ''}.`,
        `- Servers, all running through the whole benchmark on the same database: the API (\`node --import tsx api/server.ts\`, LOG_LEVEL=warn) with the read cache off (API_CACHE_TTL_MS=0) and on (${context.cacheTtlMs} ms), and the bare baseline \`load/api/bare-server.ts\` (node:http + pg, one prepared statement per read, the same answers byte for byte, the same pool size).`,
        `- Workloads: \`uniform\`, a random existing id per request, ${Math.round(context.unknownShare * 100)}% random unknown ids; \`hot\`, ids drawn Zipf-like (s = ${context.zipfS}) from ${context.hotKeys} keys.`,
        `- ${context.connections} connections, ${context.durationSec} s per run, ${context.rounds} rounds; in each round every server runs the same id sequence back to back, in a rotating order. Ratios are medians of the per-round ratios; req/s and p99 are medians over rounds.`,
        '- autocannon runs in the benchmark process on the same machine as the servers and PostgreSQL, so all share its cores (and any other work on the machine).',
      ].join('\n'),
    },
    {
      heading: 'API against the bare server',
      body: markdownTable(
        ['endpoint', 'workload', 'API cache off req/s', 'p99 ms', 'API cache on req/s', 'p99 ms', 'bare req/s', 'p99 ms', 'off ÷ bare', 'on ÷ bare', 'failures'],
        summaries.map((s) => [
          `\`${s.route}\``, s.workload,
          rate(s.requestsPerSecond['api-cache-off']), ms(s.p99Ms['api-cache-off']),
          rate(s.requestsPerSecond['api-cache-on']), ms(s.p99Ms['api-cache-on']),
          rate(s.requestsPerSecond.bare), ms(s.p99Ms.bare),
          ratio(s.ratioToBare['api-cache-off']), ratio(s.ratioToBare['api-cache-on']), s.failures,
        ]),
      ),
    },
    { heading: 'Targets (issue 12)', body: targetLines(summaries).map((line) => `- ${line}`).join('\n') },
    {
      heading: 'Every run',
      body: markdownTable(
        ['scenario', 'server', 'round', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', '2xx', '4xx', '5xx', 'errors'],
        runs.map((r) => [r.scenario, r.server, r.round, Math.round(r.requestsPerSecond), ms(r.latencyMs.p50), ms(r.latencyMs.p90), ms(r.latencyMs.p99), Math.round(r.latencyMs.max), r.responses['2xx'], r.responses['4xx'], r.responses['5xx'], r.errors + r.timeouts]),
      ),
    },
  ];
  const baseline = summaries.filter((s) => s.requestsPerSecond.bare !== undefined);
  if (baseline.length > 0) {
    sections[1]!.charts = [
      {
        file: 'vs-bare',
        chart: {
          kind: 'bar',
          title: `Requests per second at ${context.connections} connections: API against the bare node:http + pg server`,
          yLabel: 'requests per second (req/s)',
          xLabel: 'endpoint and workload',
          categories: baseline.map((s) => `${s.scenario}`),
          series: SERVERS.map((server) => ({ name: server, values: baseline.map((s) => s.requestsPerSecond[server] ?? null) })),
        },
      },
    ];
  }
  return { name: 'api', title: 'API load test (make load)', command: context.command, sections, data: { context, summaries, runs } };
}
