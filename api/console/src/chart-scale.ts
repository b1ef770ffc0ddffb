/**
 * Axes for the stock chart: round tick values for quantities and round instants for time, so the
 * labels read like a person would write them. Pure; tested in chart-scale.test.ts.
 */

/** Ticks from 0 (stock is never negative) to a round value at or above `max`, about `count` of them. */
export function quantityTicks(max: number, count = 5): number[] {
  if (max <= 0) return [0, 1];
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude);
  const whole = Math.max(1, Math.round(step)); // quantities are integers: never a fractional step
  const top = Math.ceil(max / whole) * whole;
  const ticks: number[] = [];
  for (let value = 0; value <= top; value += whole) ticks.push(value);
  return ticks;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Tick spacings a clock or calendar uses. */
const TIME_STEPS = [SECOND, 5 * SECOND, 15 * SECOND, 30 * SECOND, MINUTE, 5 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 14 * DAY, 30 * DAY, 91 * DAY, 182 * DAY, 365 * DAY];

export interface TimeTicks {
  step: number;
  /** Epoch ms of each tick, inside [from, to]. */
  ticks: number[];
}

/**
 * Round instants between `from` and `to` (epoch ms), about `count` of them, aligned to the local
 * clock (`offsetMinutes` east of UTC: a day tick falls at local midnight).
 */
export function timeTicks(from: number, to: number, count: number, offsetMinutes: number): TimeTicks {
  const span = Math.max(to - from, SECOND);
  const step = TIME_STEPS.find((s) => span / s <= count) ?? TIME_STEPS[TIME_STEPS.length - 1]!;
  const offset = offsetMinutes * MINUTE;
  const ticks: number[] = [];
  for (let t = Math.ceil((from + offset) / step) * step - offset; t <= to; t += step) ticks.push(t);
  return { step, ticks };
}

/** The label of a time tick: seconds, minutes or days, as the spacing calls for. */
export function timeLabel(t: number, step: number, timeZone?: string): string {
  const options: Intl.DateTimeFormatOptions =
    step < MINUTE ? { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' } : step < DAY ? { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' } : { day: 'numeric', month: 'short' };
  return new Intl.DateTimeFormat('en-GB', { ...options, timeZone }).format(new Date(t));
}
