import { describe, expect, it } from 'vitest';
import { decodeMessage, validateEnvelope } from './event.js';
import { brokenMessages, encode, envelope } from './testing/envelopes.js';

describe('decodeMessage', () => {
  it('accepts the contract example', () => {
    const example = {
      id: 'b3b53031-e83a-4654-87f5-b6b6fb09fd99', source: 'WH-3423', specversion: '1.0',
      type: 'ru.retail.warehouses.movement', datacontenttype: 'application/json',
      dataschema: 'ru.retail.warehouses.movement.v1.0', time: 1737439421623, subject: 'WH-3423:ARRIVAL',
      destination: 'ru.retail.warehouses',
      data: {
        movement_id: 'c6290746-790e-43fa-8270-014dc90e02e0', warehouse_id: 'c1d70455-7e14-11e9-812a-70106f431230',
        timestamp: '2025-02-18T14:34:56Z', event: 'arrival', product_id: '4705204f-498f-4f96-b4ba-df17fb56bf55', quantity: 100,
      },
    };
    const result = decodeMessage(encode(example));
    expect(result).toEqual({
      ok: true,
      event: {
        messageId: example.id, movementId: example.data.movement_id, warehouseId: example.data.warehouse_id,
        productId: example.data.product_id, event: 'arrival', quantity: 100,
        eventTimeMs: Date.parse('2025-02-18T14:34:56Z'), producedAtMs: 1737439421623, source: 'WH-3423',
      },
    });
  });

  it('accepts an offset timestamp and lower-cases ids', () => {
    const value = envelope({ timestamp: '2025-02-18T17:34:56+03:00' });
    value.id = value.id.toUpperCase();
    const result = decodeMessage(encode(value));
    expect(result.ok && result.event.eventTimeMs).toBe(Date.parse('2025-02-18T14:34:56Z'));
    expect(result.ok && result.event.messageId).toBe(value.id.toLowerCase());
  });

  it.each(brokenMessages())('refuses $name as $reason', ({ payload, reason }) => {
    const result = decodeMessage(payload);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.reason).toBe(reason);
      expect(result.detail.length).toBeGreaterThan(0);
    }
  });

  it.each([
    ['the first instant of year 1', '0001-01-01T00:00:00Z'],
    ['the last instant of year 9999', '9999-12-31T23:59:59.999Z'],
    ['year 9999 with a positive offset', '9999-12-31T23:59:59+12:00'],
    ['before 1970', '1969-07-20T20:17:40Z'],
  ])('accepts a timestamp at %s', (_name, timestamp) => {
    const result = decodeMessage(encode(envelope({ timestamp })));
    expect(result.ok && result.event.eventTimeMs).toBe(Date.parse(timestamp));
  });

  it('accepts an envelope time before 1970 and at the end of year 9999', () => {
    for (const time of [-1, 0, Date.parse('9999-12-31T23:59:59.999Z')]) expect(decodeMessage(encode(envelope({}, { time }))).ok).toBe(true);
  });

  it('refuses null as a missing message', () => {
    expect(validateEnvelope(null)).toMatchObject({ ok: false });
  });
});
