import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { HistoryItem } from './api-types.js';
import { quantityTicks, timeLabel, timeTicks } from './chart-scale.js';
import { formatCount, formatInstant, reasonLabel } from './format.js';

/**
 * The stock after each ledger row over time, as SVG: a step line in ledger order (the order the
 * stock changed in) at each row's event time, one mark per ledger row: a filled dot for an
 * arrival, a ring for a departure, a cross for a rejected event (stock unchanged). Each mark has a
 * tooltip; the table under the chart holds the same rows for keyboards and screen readers.
 * Drawn at the container's real width (ResizeObserver), so text stays legible on a phone.
 */

const HEIGHT = 240;
const MARGIN = { top: 12, right: 16, bottom: 28, left: 52 };
/** A time label closer than this to an edge is anchored inside the chart instead of centred. */
const LABEL_HALF_WIDTH = 24;
/** An event time span of zero (one row, or rows at one instant) is drawn over this much time. */
const MIN_SPAN_MS = 60 * 60 * 1000;

function describe(row: HistoryItem): string {
  const outcome = row.outcome === 'applied' ? 'applied' : `rejected: ${reasonLabel(row.rejectReason ?? 'rejected')}`;
  return `#${row.seq} · ${formatInstant(row.eventTime)} · ${row.event} of ${formatCount(row.quantity)} · ${outcome} · stock after ${formatCount(row.stockAfter)}`;
}

export function StockChart({ rows, label }: { rows: readonly HistoryItem[]; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(640);
  useLayoutEffect(() => {
    const element = box.current;
    if (!element) return;
    setWidth(Math.max(280, element.clientWidth));
    const observer = new ResizeObserver(([entry]) => {
      if (entry) setWidth(Math.max(280, Math.floor(entry.contentRect.width)));
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  const times = rows.map((row) => Date.parse(row.eventTime));
  let from = Math.min(...times);
  let to = Math.max(...times);
  if (to - from < MIN_SPAN_MS) {
    from -= MIN_SPAN_MS / 2;
    to += MIN_SPAN_MS / 2;
  }
  const yTicks = quantityTicks(Math.max(...rows.map((row) => row.stockAfter)));
  const top = yTicks[yTicks.length - 1]!;
  const plotWidth = width - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (t: number) => MARGIN.left + ((t - from) / (to - from)) * plotWidth;
  const y = (quantity: number) => MARGIN.top + plotHeight - (quantity / top) * plotHeight;
  const xTicks = timeTicks(from, to, Math.max(2, Math.floor(plotWidth / 90)), -new Date(from).getTimezoneOffset());

  // Step after: the stock holds its value until the next row changes it.
  let line = '';
  rows.forEach((row, i) => {
    const px = x(times[i]!).toFixed(1);
    const py = y(row.stockAfter).toFixed(1);
    line += i === 0 ? `M${px} ${py}` : `H${px}V${py}`;
  });
  const rejected = rows.filter((row) => row.outcome === 'rejected').length;

  return (
    <div class="chart" ref={box}>
      <svg
        width={width}
        height={HEIGHT}
        viewBox={`0 0 ${width} ${HEIGHT}`}
        role="img"
        aria-label={`${label}: stock after each of ${rows.length} ledger rows, ${rejected} rejected, from ${formatInstant(new Date(Math.min(...times)).toISOString())} to ${formatInstant(new Date(Math.max(...times)).toISOString())}.`}
      >
        <g class="grid">
          {yTicks.map((tick) => (
            <g key={tick}>
              <line x1={MARGIN.left} x2={width - MARGIN.right} y1={y(tick)} y2={y(tick)} />
              <text x={MARGIN.left - 6} y={y(tick)} dy="0.32em" text-anchor="end">
                {formatCount(tick)}
              </text>
            </g>
          ))}
          {xTicks.ticks.map((tick) => {
            const at = x(tick);
            const anchor = at > width - LABEL_HALF_WIDTH ? 'end' : at < MARGIN.left + LABEL_HALF_WIDTH ? 'start' : 'middle';
            return (
              <text key={tick} x={anchor === 'end' ? width - 2 : at} y={HEIGHT - 8} text-anchor={anchor}>
                {timeLabel(tick, xTicks.step)}
              </text>
            );
          })}
        </g>
        <path class="line" d={line} />
        <g class="points">
          {rows.map((row, i) => {
            const cx = x(times[i]!);
            const cy = y(row.stockAfter);
            const common = { 'data-seq': row.seq, 'data-stock-after': row.stockAfter, 'data-outcome': row.outcome, 'data-event': row.event };
            if (row.outcome === 'rejected') {
              return (
                <path key={row.seq} {...common} class={`point rejected ${row.rejectReason ?? ''}`} d={`M${cx - 4} ${cy - 4}l8 8m0 -8l-8 8`}>
                  <title>{describe(row)}</title>
                </path>
              );
            }
            return (
              <circle key={row.seq} {...common} class={`point ${row.event}`} cx={cx} cy={cy} r={3.5}>
                <title>{describe(row)}</title>
              </circle>
            );
          })}
        </g>
      </svg>
      <p class="legend" aria-hidden="true">
        <span class="key arrival">arrival</span>
        <span class="key departure">departure</span>
        <span class="key rejected">rejected (stock unchanged)</span>
      </p>
    </div>
  );
}
