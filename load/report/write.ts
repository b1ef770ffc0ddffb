import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { barChartSvg, lineChartSvg, type BarChart, type LineChart } from './svg.js';

/**
 * Writes one benchmark's results: `<name>.json` (machine-readable, for comparisons across runs),
 * `<name>.md` (the human report) and one SVG per chart, linked from the Markdown by relative path
 * so the report renders with its pictures on a code host.
 */

export type Chart = ({ kind: 'bar' } & BarChart) | ({ kind: 'line' } & LineChart);

export interface ReportSection {
  heading: string;
  /** Paragraphs and tables, Markdown. */
  body?: string;
  /** Charts shown after the body; `file` is the SVG's name without extension. */
  charts?: { file: string; chart: Chart }[];
}

export interface Report {
  /** Base name of the files, e.g. "api" → api.json, api.md, api-<chart>.svg. */
  name: string;
  title: string;
  /** Command that produced it, shown at the top. */
  command: string;
  sections: ReportSection[];
  /** The machine-readable result. */
  data: unknown;
  /** The code measured (sourceVersion()); taken at write time when absent. */
  source?: string;
}

export interface WrittenReport {
  json: string;
  markdown: string;
  charts: string[];
}

/** The machine a benchmark ran on, for the report header. */
export function machineInfo(): { cpus: number; cpuModel: string; memoryGiB: number; platform: string; node: string } {
  return {
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
  };
}

/**
 * Which code was measured: the git commit of the tree, marked `+ uncommitted changes` when the
 * service code differs from it; WSM_SOURCE_VERSION when the tree is not a git checkout.
 */
export function sourceVersion(cwd = process.cwd()): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'processor', 'api', 'lib', 'prisma'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return dirty ? `${commit} + uncommitted changes` : commit;
  } catch {
    return process.env.WSM_SOURCE_VERSION ?? 'unknown';
  }
}

/** A Markdown table; numbers are printed as given (format them first). */
export function markdownTable(headers: string[], rows: (string | number)[][]): string {
  const escape = (cell: string | number): string => String(cell).replace(/\|/g, '\\|');
  return [`| ${headers.map(escape).join(' | ')} |`, `| ${headers.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(escape).join(' | ')} |`)].join('\n');
}

export function renderChart(chart: Chart): string {
  return chart.kind === 'bar' ? barChartSvg(chart) : lineChartSvg(chart);
}

/** The report's Markdown, linking each chart as `<name>-<file>.svg`. */
export function renderMarkdown(report: Report, generatedAt: Date, machine = machineInfo()): string {
  const lines = [
    `# ${report.title}`,
    '',
    `Generated ${generatedAt.toISOString()} by \`${report.command}\` on ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, ${machine.platform}, Node ${machine.node}; code ${report.source ?? sourceVersion()}.`,
    '',
  ];
  for (const section of report.sections) {
    lines.push(`## ${section.heading}`, '');
    if (section.body) lines.push(section.body.trim(), '');
    for (const { file, chart } of section.charts ?? []) lines.push(`![${chart.title}](${report.name}-${file}.svg)`, '');
  }
  lines.push(`Machine-readable results: [${report.name}.json](${report.name}.json).`, '');
  return lines.join('\n');
}

/** Writes the JSON, the Markdown and the SVGs into `dir`; returns their paths. */
export async function writeReport(dir: string, report: Report, generatedAt = new Date()): Promise<WrittenReport> {
  await mkdir(dir, { recursive: true });
  const machine = machineInfo();
  const source = report.source ?? sourceVersion();
  const json = path.join(dir, `${report.name}.json`);
  const markdown = path.join(dir, `${report.name}.md`);
  const charts: string[] = [];
  for (const section of report.sections) {
    for (const { file, chart } of section.charts ?? []) {
      const svgPath = path.join(dir, `${report.name}-${file}.svg`);
      await writeFile(svgPath, renderChart(chart));
      charts.push(svgPath);
    }
  }
  await writeFile(json, `${JSON.stringify({ generatedAt: generatedAt.toISOString(), command: report.command, source, machine, results: report.data }, null, 2)}\n`);
  await writeFile(markdown, renderMarkdown({ ...report, source }, generatedAt, machine));
  return { json, markdown, charts };
}
