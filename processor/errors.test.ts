import { describe, expect, it } from 'vitest';
import { classifyFlushError, FencedError, mayBeTheRecords } from './errors.js';

const withCode = (code: string) => Object.assign(new Error(code), { code });

describe('classifyFlushError', () => {
  it('tells fenced, data and transient errors apart', () => {
    expect(classifyFlushError(new FencedError('fenced'))).toBe('fenced');
    expect(classifyFlushError(withCode('WSF01'))).toBe('fenced');
    expect(classifyFlushError(withCode('23514'))).toBe('data');
    expect(classifyFlushError(withCode('22P02'))).toBe('data');
    expect(classifyFlushError(withCode('54000'))).toBe('data');
    expect(classifyFlushError(withCode('57P01'))).toBe('transient');
    expect(classifyFlushError(withCode('40P01'))).toBe('transient');
    expect(classifyFlushError(withCode('ECONNREFUSED'))).toBe('transient');
  });
});

describe('mayBeTheRecords', () => {
  it('suspects internal errors, timeouts, lost connections and our own exceptions, never the environment', () => {
    expect(mayBeTheRecords(withCode('XX000'))).toBe(true);
    expect(mayBeTheRecords(withCode('57014'))).toBe(true);
    expect(mayBeTheRecords(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(mayBeTheRecords(new RangeError('Invalid time value'))).toBe(true);
    expect(mayBeTheRecords(withCode('42501'))).toBe(false); // permission denied: a missing grant
    expect(mayBeTheRecords(withCode('53100'))).toBe(false); // disk full
    expect(mayBeTheRecords(withCode('57P01'))).toBe(false); // admin shutdown
    expect(mayBeTheRecords(withCode('40001'))).toBe(false);
  });
});
