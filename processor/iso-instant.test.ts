import { describe, expect, it } from 'vitest';
import { MAX_INSTANT_MS, MIN_INSTANT_MS } from '../lib/event.js';
import { isoInstant } from './iso-instant.js';

describe('isoInstant', () => {
  const at = (text: string): number => Date.parse(text);

  it.each([
    ['the first instant of year 1', MIN_INSTANT_MS],
    ['the last instant of year 9999', MAX_INSTANT_MS],
    ['the epoch', 0],
    ['one millisecond before the epoch', -1],
    ['a leap day', at('2024-02-29T23:59:59.999Z')],
    ['the day after a leap day', at('2024-03-01T00:00:00.000Z')],
    ['a century that is no leap year', at('1900-02-28T12:00:00.001Z')],
    ['a 400-year leap day', at('2000-02-29T00:00:00.000Z')],
    ['year 999', at('0999-12-31T23:59:59.999Z')],
    ['year 99', at('0099-06-15T01:02:03.004Z')],
  ])('formats %s as toISOString does', (_name, ms) => {
    expect(isoInstant(ms)).toBe(new Date(ms).toISOString());
  });

  it('formats 100,000 instants spread over years 1-9999 as toISOString does', () => {
    // A fixed linear congruential sequence: the same instants on every run.
    let state = 12_345;
    const span = MAX_INSTANT_MS - MIN_INSTANT_MS;
    for (let i = 0; i < 100_000; i++) {
      state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
      const ms = MIN_INSTANT_MS + Math.floor((state / 2 ** 31) * span) + (i % 1000);
      const expected = new Date(ms).toISOString();
      if (isoInstant(ms) !== expected) expect(isoInstant(ms)).toBe(expected);
    }
  });
});
