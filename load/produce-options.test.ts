import { describe, expect, it } from 'vitest';
import { ConfigError } from '../lib/config.js';
import { parseProduceOptions } from './produce-options.js';

describe('make produce options', () => {
  it('takes flags over environment over defaults, and maps them onto the plan', () => {
    const { config, plan } = parseProduceOptions(['--count', '500', '--seed', 'abc', '--loss-share', '0.2'], { PRODUCE_WAREHOUSES: '7', PRODUCE_COUNT: '9', KAFKA_TOPIC: 'from.env' });
    expect(config.PRODUCE_COUNT).toBe(500);
    expect(config.KAFKA_TOPIC).toBe('from.env');
    expect(plan).toMatchObject({ seed: 'abc', warehouses: 7, products: 500, lossShare: 0.2 });
    expect(parseProduceOptions(['--seed', '42'], {}).plan.seed).toBe(42);
  });

  it('defaults to 10000 messages unless a duration is given', () => {
    expect(parseProduceOptions([], {}).config.PRODUCE_COUNT).toBe(10_000);
    const timed = parseProduceOptions(['--duration', '30'], {}).config;
    expect(timed.PRODUCE_COUNT).toBeUndefined();
    expect(timed.PRODUCE_DURATION_SEC).toBe(30);
  });

  it('names the bad setting', () => {
    expect(() => parseProduceOptions(['--count', 'many'], {})).toThrow(ConfigError);
    expect(() => parseProduceOptions(['--count', 'many'], {})).toThrow(/PRODUCE_COUNT/);
    expect(() => parseProduceOptions(['--invalid-share', '2'], {})).toThrow(/PRODUCE_INVALID_SHARE/);
    expect(() => parseProduceOptions(['--topic', 'bad topic'], {})).toThrow(/KAFKA_TOPIC/);
    expect(() => parseProduceOptions(['--nope', '1'], {})).toThrow(/nope/);
  });
});
