/**
 * Hand-written SVG charts for the load reports: grouped bar charts and line charts with a title,
 * axes with tick labels and units, grid lines and a legend. Plain SVG 1.1 with inline attributes
 * (no CSS, no scripts, no external fonts), which code hosts render as images in Markdown.
 */

export interface BarChart {
  title: string;
  /** Axis title with its unit, e.g. "latency (ms)". */
  yLabel: string;
  xLabel?: string;
  categories: string[];
  series: { name: string; values: (number | null)[] }[];
  width?: number;
  height?: number;
}

export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: { name: string; points: [number, number][] }[];
  /** Logarithmic x axis (base 10 ticks at the data's x values), for sweeps over orders of magnitude. */
  logX?: boolean;
  width?: number;
  height?: number;
}

// Colour-blind-safe palette (Okabe & Ito, https://jfly.uni-koeln.de/color/).
const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#F0E442', '#000000'];
const FONT = 'font-family="Helvetica, Arial, sans-serif"';
const MARGIN = { top: 48, right: 24, bottom: 64, left: 72 };

/** Escapes text for SVG content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** About `count` round tick values from 0 (or min) to at least max: steps of 1, 2 or 5 × 10^n. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) max = min + 1;
  const raw = (max - min) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const start = Math.floor(min / step) * step;
  const ticks: number[] = [];
  for (let v = start; v < max + step * 0.999; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** 1500 → "1.5k", 0.25 → "0.25", 2000000 → "2M". */
export function formatTick(value: number): string {
  const abs = Math.abs(value);
  const trim = (n: number): string => String(Number(n.toPrecision(3)));
  if (abs >= 1e6) return `${trim(value / 1e6)}M`;
  if (abs >= 1e3) return `${trim(value / 1e3)}k`;
  return trim(value);
}

function frame(width: number, height: number, title: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT}>`,
    `<title>${escapeXml(title)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold" fill="#222222">${escapeXml(title)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

function yAxis(ticks: number[], scale: (v: number) => number, plotWidth: number, label: string, plotHeight: number): string[] {
  const out: string[] = [];
  for (const tick of ticks) {
    const y = scale(tick).toFixed(1);
    out.push(`<line x1="${MARGIN.left}" y1="${y}" x2="${MARGIN.left + plotWidth}" y2="${y}" stroke="#e0e0e0" stroke-width="1"/>`);
    out.push(`<text x="${MARGIN.left - 8}" y="${y}" dy="4" text-anchor="end" font-size="11" fill="#444444">${formatTick(tick)}</text>`);
  }
  const cy = MARGIN.top + plotHeight / 2;
  out.push(`<text x="18" y="${cy}" text-anchor="middle" font-size="12" fill="#222222" transform="rotate(-90 18 ${cy})">${escapeXml(label)}</text>`);
  out.push(`<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${MARGIN.top + plotHeight}" stroke="#444444" stroke-width="1"/>`);
  out.push(`<line x1="${MARGIN.left}" y1="${MARGIN.top + plotHeight}" x2="${MARGIN.left + plotWidth}" y2="${MARGIN.top + plotHeight}" stroke="#444444" stroke-width="1"/>`);
  return out;
}

function legend(names: string[], width: number, height: number, shape: 'rect' | 'line'): string[] {
  const out: string[] = [];
  // One row centred under the x axis title; at 12 px, about 8.5 px for capitals and underscores
  // and 7 for the rest (generous: DejaVu Sans, the usual fallback, is wider than Helvetica).
  const textWidth = (text: string): number => [...text].reduce((w, ch) => w + (/[A-Z_]/.test(ch) ? 8.5 : 7), 0);
  const widths = names.map((n) => 40 + textWidth(n));
  let x = Math.max(MARGIN.left, (width - widths.reduce((a, b) => a + b, 0)) / 2);
  const y = height - 14;
  names.forEach((name, i) => {
    const colour = PALETTE[i % PALETTE.length]!;
    out.push(
      shape === 'rect'
        ? `<rect x="${x}" y="${y - 9}" width="12" height="12" fill="${colour}"/>`
        : `<line x1="${x - 2}" y1="${y - 3}" x2="${x + 14}" y2="${y - 3}" stroke="${colour}" stroke-width="2.5"/>`,
    );
    out.push(`<text x="${x + 18}" y="${y + 1}" font-size="12" fill="#222222">${escapeXml(name)}</text>`);
    x += widths[i]!;
  });
  return out;
}

/** A grouped bar chart: one group per category, one bar per series; null values leave a gap. */
export function barChartSvg(chart: BarChart): string {
  const width = chart.width ?? 720;
  const height = chart.height ?? 380;
  const plotWidth = width - MARGIN.left - MARGIN.right;
  const plotHeight = height - MARGIN.top - MARGIN.bottom;
  const max = Math.max(0, ...chart.series.flatMap((s) => s.values.filter((v): v is number => v !== null)));
  const ticks = niceTicks(0, max || 1);
  const top = ticks[ticks.length - 1]!;
  const scale = (v: number): number => MARGIN.top + plotHeight - (v / top) * plotHeight;
  const body = yAxis(ticks, scale, plotWidth, chart.yLabel, plotHeight);
  const groupWidth = plotWidth / Math.max(1, chart.categories.length);
  const barWidth = (groupWidth * 0.8) / Math.max(1, chart.series.length);
  const labelBars = barWidth >= 26;
  chart.categories.forEach((category, c) => {
    const groupX = MARGIN.left + c * groupWidth + groupWidth * 0.1;
    chart.series.forEach((series, s) => {
      const value = series.values[c];
      if (value === null || value === undefined) return;
      const x = groupX + s * barWidth;
      const y = scale(value);
      body.push(
        `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(barWidth - 1).toFixed(1)}" height="${(MARGIN.top + plotHeight - y).toFixed(1)}" fill="${PALETTE[s % PALETTE.length]}"><title>${escapeXml(`${series.name}, ${category}: ${formatTick(value)}`)}</title></rect>`,
      );
      // Values over the bars while they fit: a bar a few pixels high still reads as a number.
      if (labelBars) {
        body.push(`<text x="${(x + barWidth / 2).toFixed(1)}" y="${(y - 4).toFixed(1)}" text-anchor="middle" font-size="10" fill="#222222">${formatTick(value)}</text>`);
      }
    });
    body.push(
      `<text x="${(MARGIN.left + (c + 0.5) * groupWidth).toFixed(1)}" y="${MARGIN.top + plotHeight + 16}" text-anchor="middle" font-size="11" fill="#444444">${escapeXml(category)}</text>`,
    );
  });
  if (chart.xLabel) body.push(`<text x="${MARGIN.left + plotWidth / 2}" y="${height - 30}" text-anchor="middle" font-size="12" fill="#222222">${escapeXml(chart.xLabel)}</text>`);
  body.push(...legend(chart.series.map((s) => s.name), width, height, 'rect'));
  return frame(width, height, chart.title, body);
}

/** A line chart with markers at every point; the x axis is linear or log10. */
export function lineChartSvg(chart: LineChart): string {
  const width = chart.width ?? 720;
  const height = chart.height ?? 380;
  const plotWidth = width - MARGIN.left - MARGIN.right;
  const plotHeight = height - MARGIN.top - MARGIN.bottom;
  const xs = chart.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = chart.series.flatMap((s) => s.points.map((p) => p[1]));
  const tx = (x: number): number => (chart.logX ? Math.log10(Math.max(x, 1e-9)) : x);
  const xMin = Math.min(...xs.map(tx));
  const xMax = Math.max(...xs.map(tx));
  const pad = xMax > xMin ? (xMax - xMin) * 0.05 : 1;
  const xScale = (x: number): number => MARGIN.left + ((tx(x) - (xMin - pad)) / (xMax - xMin + 2 * pad)) * plotWidth;
  const ticks = niceTicks(0, Math.max(0, ...ys) || 1);
  const top = ticks[ticks.length - 1]!;
  const yScale = (v: number): number => MARGIN.top + plotHeight - (v / top) * plotHeight;
  const body = yAxis(ticks, yScale, plotWidth, chart.yLabel, plotHeight);
  const xTicks = chart.logX ? [...new Set(xs)].sort((a, b) => a - b) : niceTicks(Math.min(...xs), Math.max(...xs));
  for (const tick of xTicks) {
    const x = xScale(tick);
    if (x < MARGIN.left - 1 || x > MARGIN.left + plotWidth + 1) continue;
    body.push(`<line x1="${x.toFixed(1)}" y1="${MARGIN.top + plotHeight}" x2="${x.toFixed(1)}" y2="${MARGIN.top + plotHeight + 4}" stroke="#444444" stroke-width="1"/>`);
    body.push(`<text x="${x.toFixed(1)}" y="${MARGIN.top + plotHeight + 16}" text-anchor="middle" font-size="11" fill="#444444">${formatTick(tick)}</text>`);
  }
  body.push(`<text x="${MARGIN.left + plotWidth / 2}" y="${height - 30}" text-anchor="middle" font-size="12" fill="#222222">${escapeXml(chart.xLabel)}</text>`);
  chart.series.forEach((series, s) => {
    const colour = PALETTE[s % PALETTE.length]!;
    const points = [...series.points].sort((a, b) => a[0] - b[0]);
    const path = points.map(([x, y]) => `${xScale(x).toFixed(1)},${yScale(y).toFixed(1)}`).join(' ');
    body.push(`<polyline points="${path}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    for (const [x, y] of points) {
      body.push(
        `<circle cx="${xScale(x).toFixed(1)}" cy="${yScale(y).toFixed(1)}" r="3.5" fill="${colour}"><title>${escapeXml(`${series.name}: ${formatTick(x)} → ${formatTick(y)}`)}</title></circle>`,
      );
    }
  });
  body.push(...legend(chart.series.map((s) => s.name), width, height, 'line'));
  return frame(width, height, chart.title, body);
}
