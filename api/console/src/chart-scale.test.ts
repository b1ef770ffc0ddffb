import { describe, expect, it } from 'vitest';
import { quantityTicks, timeLabel, timeTicks } from './chart-scale.js';

describe('chart scales', () => {
  it('ticks quantities from zero to a round value covering the maximum, in whole steps', () => {
    expect(quantityTicks(0)).toEqual([0, 1]);
    expect(quantityTicks(3)).toEqual([0, 1, 2, 3]);
    expect(quantityTicks(95)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(quantityTicks(100)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(quantityTicks(1234)).toEqual([0, 250, 500, 750, 1000, 1250]);
  });

  it('ticks time on round clock values inside the range', () => {
    const from = Date.parse('2025-02-18T08:07:00Z');
    const to = Date.parse('2025-02-18T14:50:00Z');
    const { step, ticks } = timeTicks(from, to, 6, 0);
    expect(step).toBe(3 * 3_600_000); // 6 h 43 min over at most 6 ticks: hourly would be 7
    expect(ticks.map((t) => new Date(t).toISOString())).toEqual(['2025-02-18T09:00:00.000Z', '2025-02-18T12:00:00.000Z']);
    expect(ticks.every((t) => t >= from && t <= to)).toBe(true);
  });

  it('puts day ticks at local midnight', () => {
    const from = Date.parse('2025-02-17T00:00:00Z');
    const to = Date.parse('2025-02-23T00:00:00Z');
    const { step, ticks } = timeTicks(from, to, 7, 180); // UTC+3
    expect(step).toBe(86_400_000);
    expect(new Date(ticks[0]!).toISOString()).toBe('2025-02-17T21:00:00.000Z'); // 18 Feb 00:00 at UTC+3
    expect(timeLabel(ticks[0]!, step, 'Europe/Moscow')).toBe('18 Feb');
  });

  it('labels ticks by their spacing', () => {
    const t = Date.parse('2025-02-18T14:34:56Z');
    expect(timeLabel(t, 1000, 'UTC')).toBe('14:34:56');
    expect(timeLabel(t, 3_600_000, 'UTC')).toBe('14:34');
    expect(timeLabel(t, 86_400_000, 'UTC')).toBe('18 Feb');
  });
});
