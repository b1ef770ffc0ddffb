import { describe, expect, it } from 'vitest';
import { formatAgo, formatCount, formatDuration, formatInstant, formatTime, isUuid, plural, reasonLabel, shortId } from './format.js';

describe('format', () => {
  it('writes counts with thousands separators', () => {
    expect(formatCount(0)).toBe('0');
    expect(formatCount(1234567)).toBe('1,234,567');
  });

  it('writes durations with their largest parts, skipping zero parts inside', () => {
    expect(formatDuration(0)).toBe('0 s');
    expect(formatDuration(45)).toBe('45 s');
    expect(formatDuration(4 * 3600 + 34 * 60 + 56)).toBe('4 h 34 min 56 s');
    expect(formatDuration(2 * 86_400 + 5)).toBe('2 d');
    expect(formatDuration(2 * 86_400 + 3 * 3600 + 5)).toBe('2 d 3 h');
    expect(formatDuration(3600 + 7)).toBe('1 h 7 s');
    expect(formatDuration(-5400)).toBe('-1 h 30 min');
    expect(formatDuration(3 * 3600 + 125, 2)).toBe('3 h 2 min');
  });

  it('writes instants in the given time zone with seconds', () => {
    expect(formatInstant('2025-02-18T14:34:56Z', 'UTC')).toBe('18 Feb 2025, 14:34:56');
    expect(formatInstant('2025-02-18T14:34:56Z', 'Europe/Moscow')).toBe('18 Feb 2025, 17:34:56');
    expect(formatTime('2025-02-18T14:34:56Z', 'UTC')).toBe('14:34:56');
  });

  it('says how long ago', () => {
    const now = Date.parse('2025-02-18T15:00:00Z');
    expect(formatAgo('2025-02-18T14:59:55Z', now)).toBe('just now');
    expect(formatAgo('2025-02-18T14:55:00Z', now)).toBe('5 min ago');
    expect(formatAgo('2025-02-18T11:57:30Z', now)).toBe('3 h 2 min ago');
  });

  it('checks ids like the API and shortens them', () => {
    expect(isUuid('c1d70455-7e14-11e9-812a-70106f431230')).toBe(true);
    expect(isUuid('C1D70455-7E14-11E9-812A-70106F431230')).toBe(true);
    expect(isUuid('c1d70455-7e14-11e9-812a-70106f43123')).toBe(false);
    expect(isUuid(' c1d70455-7e14-11e9-812a-70106f431230')).toBe(false);
    expect(shortId('c1d70455-7e14-11e9-812a-70106f431230')).toBe('c1d70455');
  });

  it('writes a count with its noun', () => {
    expect(plural(1, 'ledger row')).toBe('1 ledger row');
    expect(plural(1200, 'ledger row')).toBe('1,200 ledger rows');
    expect(plural(0, 'row')).toBe('0 rows');
  });

  it('writes reasons as words', () => {
    expect(reasonLabel('insufficient_stock')).toBe('insufficient stock');
  });
});
