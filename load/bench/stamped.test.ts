import { describe, expect, it } from 'vitest';
import { decodeMessage } from '../../lib/event.js';
import { takeMessages } from '../generator/plan.js';
import { prepareStamped, stamp } from './stamped.js';

describe('stamped messages', () => {
  const planned = takeMessages({ seed: 'stamped', warehouses: 3, products: 4, initialSupplies: 10, invalidShare: 0.1, duplicateShare: 0.1 }, 300);

  it('stamps the envelope time of every valid message and leaves the rest as planned', () => {
    // Every digit differs from the placeholder's (1000000000000), the first one included.
    const now = 2_345_678_901_234;
    const stamped = prepareStamped(planned);
    let valid = 0;
    stamped.forEach((s, i) => {
      stamp(s, now + i);
      const m = planned[i]!;
      if (m.kind === 'invalid' || m.kind === 'duplicate') {
        expect(s.message.value).toBe(m.value);
        return;
      }
      valid++;
      expect(JSON.parse(s.message.value.toString('utf8'))).toEqual({ ...m.envelope, time: now + i });
      const decoded = decodeMessage(s.message.value);
      expect(decoded.ok && decoded.event.producedAtMs).toBe(now + i);
    });
    expect(valid).toBeGreaterThan(200);
    expect(stamped.some((s) => s.timeAt < 0)).toBe(true);
  });

  it('refuses a time that does not fit the placeholder', () => {
    const [first] = prepareStamped(planned.filter((m) => m.kind === 'supply').slice(0, 1));
    expect(() => stamp(first!, 99)).toThrow(/13 digits/);
  });
});
