import { describe, expect, it } from 'vitest';
import { classifyFlushError, FencedError } from './errors.js';

describe('classifyFlushError', () => {
  it('tells fenced, data and transient errors apart', () => {
    expect(classifyFlushError(new FencedError('fenced'))).toBe('fenced');
    expect(classifyFlushError(Object.assign(new Error('fenced'), { code: 'WSF01' }))).toBe('fenced');
    expect(classifyFlushError(Object.assign(new Error('check'), { code: '23514' }))).toBe('data');
    expect(classifyFlushError(Object.assign(new Error('bad value'), { code: '22P02' }))).toBe('data');
    expect(classifyFlushError(Object.assign(new Error('shutdown'), { code: '57P01' }))).toBe('transient');
    expect(classifyFlushError(Object.assign(new Error('deadlock'), { code: '40P01' }))).toBe('transient');
    expect(classifyFlushError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBe('transient');
  });
});
