import { describe, expect, it } from 'vitest';
import { acceptValidEnvelope, decodeMessage, MAX_INSTANT_MS, MAX_QUANTITY, MIN_INSTANT_MS, validateEnvelope, validateWithSchema } from './event.js';
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

describe('the direct checks (acceptValidEnvelope)', () => {
  // Values every field is tried with, beside the field's own edge cases below.
  const anyField: unknown[] = [undefined, null, true, 0, 1, -1, 1.5, '', 'x', 'x'.repeat(200), 'x'.repeat(201), [], {}, ['1.0'], 'WH-1', '1.0'];
  const edges: Record<string, unknown[]> = {
    id: ['B3B53031-E83A-4654-87F5-B6B6FB09FD99', 'b3b53031-e83a-4654-87f5-b6b6fb09fd9', 'b3b53031-e83a-4654-87f5-b6b6fb09fd99 ', 'g3b53031-e83a-4654-87f5-b6b6fb09fd99', '00000000-0000-0000-0000-000000000000'],
    source: ['WH-', 'WH-12a', 'wh-1', 'WH-1\n', ' WH-1', 'WH-0001'],
    specversion: ['1.0 ', '1', 1.0],
    type: ['ru.retail.warehouses.movement ', 'ru.retail.warehouses.movement'],
    datacontenttype: ['application/json', 'application/JSON', 'text/plain'],
    time: [MIN_INSTANT_MS, MIN_INSTANT_MS - 1, MAX_INSTANT_MS, MAX_INSTANT_MS + 1, 2 ** 53, -0, 1e20, 1737439421623.5, '1737439421623'],
    timestamp: [
      '2025-02-18T14:34:56Z', '2025-02-18T14:34:56.123456Z', '2025-02-18T14:34:56+14:00', '2025-02-18T14:34:56+24:00', '2025-02-18T14:34:56z',
      '2025-02-18T14:34Z', '2025-02-18 14:34:56Z', '2024-02-29T00:00:00Z', '2023-02-29T00:00:00Z', '1900-02-29T00:00:00Z', '2000-02-29T00:00:00Z',
      '0000-01-01T00:00:00Z', '0001-01-01T00:00:00+00:01', '9999-12-31T23:59:59-00:01', '9999-12-31T23:59:59.999Z', '+002025-02-18T14:34:56Z',
      '2025-02-18T14:34:60Z', '2025-13-01T00:00:00Z',
    ],
    event: ['arrival', 'departure', 'ARRIVAL', 'arrival '],
    quantity: [1, MAX_QUANTITY, MAX_QUANTITY + 1, 2 ** 53, 1e-9, -0, '10'],
  };
  // Every character class boundary of the hex digits, at a digit's place and at a dash's.
  const sample = 'b3b53031-e83a-4654-87f5-b6b6fb09fd99';
  for (const place of [0, 8, 35]) for (const c of '/09:@AFG`afg-') edges.id!.push(sample.slice(0, place) + c + sample.slice(place + 1));
  const uuidFields = ['movement_id', 'warehouse_id', 'product_id'];
  const top = ['id', 'source', 'specversion', 'type', 'datacontenttype', 'dataschema', 'time', 'subject', 'destination', 'data'];
  const inData = ['movement_id', 'warehouse_id', 'timestamp', 'event', 'product_id', 'quantity'];

  function* candidates(): Generator<unknown> {
    yield envelope();
    yield { ...envelope(), extra: 'kept out' };
    for (const value of [null, 1, 'x', [], [envelope()]]) yield value;
    for (const { payload } of brokenMessages()) {
      try {
        yield JSON.parse(payload.toString('utf8'));
      } catch {
        // not JSON: never reaches either check
      }
    }
    for (const field of top) {
      for (const value of [...anyField, ...(edges[field] ?? [])]) yield { ...envelope(), [field]: value };
    }
    for (const field of inData) {
      const own = edges[field] ?? (uuidFields.includes(field) ? edges.id! : []);
      for (const value of [...anyField, ...own]) {
        const base = envelope();
        yield { ...base, data: { ...base.data, [field]: value } };
      }
    }
  }

  it('accepts exactly what the schema accepts, with the same event', () => {
    let accepted = 0;
    let refused = 0;
    for (const value of candidates()) {
      const bySchema = validateWithSchema(value);
      const direct = acceptValidEnvelope(value);
      if (bySchema.ok) {
        accepted++;
        expect(direct, JSON.stringify(value)).toEqual(bySchema.event);
      } else {
        refused++;
        expect(direct, JSON.stringify(value)).toBeUndefined();
        expect(validateEnvelope(value)).toEqual(bySchema);
      }
    }
    // Both sides of the comparison are exercised.
    expect(accepted).toBeGreaterThan(20);
    expect(refused).toBeGreaterThan(100);
  });
});
