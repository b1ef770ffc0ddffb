import type { StockStatus } from './api-types.js';

/** How the console writes numbers, instants, durations, ids and statuses. Pure; tested in format.test.ts. */

const counts = new Intl.NumberFormat('en');

/** 12345 → "12,345". */
export function formatCount(value: number): string {
  return counts.format(value);
}

/** An instant in the reader's time zone (or `timeZone`), with seconds: "18 Feb 2025, 14:34:56". */
export function formatInstant(iso: string, timeZone?: string): string {
  return new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'medium', timeZone }).format(new Date(iso));
}

/** Just the time of day, for the live feed: "14:34:56". */
export function formatTime(iso: string, timeZone?: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeStyle: 'medium', timeZone }).format(new Date(iso));
}

const UNITS: [name: string, seconds: number][] = [
  ['d', 86_400],
  ['h', 3_600],
  ['min', 60],
  ['s', 1],
];

/** 16496 → "4 h 34 min 56 s"; at most the two or three largest parts that matter; negative keeps its sign. */
export function formatDuration(totalSeconds: number, parts = 3): string {
  const sign = totalSeconds < 0 ? '-' : '';
  let rest = Math.round(Math.abs(totalSeconds));
  if (rest === 0) return '0 s';
  const out: string[] = [];
  for (const [name, size] of UNITS) {
    const amount = Math.floor(rest / size);
    rest -= amount * size;
    if (amount > 0) out.push(`${amount} ${name}`);
    else if (out.length > 0) out.push('');
    if (out.length >= parts) break;
  }
  return sign + out.filter(Boolean).join(' ');
}

/** How long ago `iso` was, from `now`: "just now", "5 min ago", "3 h 2 min ago". */
export function formatAgo(iso: string, now: number): string {
  const seconds = (now - Date.parse(iso)) / 1000;
  if (seconds < 10) return 'just now';
  return `${formatDuration(seconds, 2)} ago`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The API's id rule (8-4-4-4-12 hex digits), so a typo is caught before a request. */
export function isUuid(text: string): boolean {
  return UUID.test(text);
}

/** The first block of an id, for lists where the full id would crowd the row: "c1d70455". */
export function shortId(id: string): string {
  return id.slice(0, 8);
}

export const STATUS_LABELS: Record<StockStatus, string> = { available: 'Available', low: 'Low', out_of_stock: 'Out of stock' };

/** 1 → "1 row", 3 → "3 rows" (a count with its noun, regular plurals only). */
export function plural(count: number, noun: string): string {
  return `${formatCount(count)} ${noun}${count === 1 ? '' : 's'}`;
}

/** "insufficient_stock" → "insufficient stock". */
export function reasonLabel(reason: string): string {
  return reason.replaceAll('_', ' ');
}
