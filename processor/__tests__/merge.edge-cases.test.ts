import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyEnvelopes } from '../../lib/testing/apply.js';
import { createTestDatabase, type TestDatabase } from '../../lib/testing/database.js';
import { envelope } from '../../lib/testing/envelopes.js';

// The edge cases of ../shared/design.md section 3 at merge level, through the real write path
// (COPY into staging and one apply_batch call).

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('edge');
});
afterAll(async () => db?.drop());

describe('instants', () => {
  it('stores the first instant of year 1 and the last of year 9999 exactly', async () => {
    const first = envelope({ timestamp: '0001-01-01T00:00:00Z' }, { time: Date.parse('0001-01-01T00:00:00Z') });
    const last = envelope({ timestamp: '9999-12-31T23:59:59.999Z' }, { time: Date.parse('9999-12-31T23:59:59.999Z') });
    await applyEnvelopes(db.url, [first, last]);
    const { rows } = await db.pool.query<{ message_id: string; event_time: string; produced_at: string }>(
      `SELECT message_id, to_char(event_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS') AS event_time,
              to_char(produced_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS') AS produced_at
         FROM events WHERE message_id = ANY($1::uuid[]) ORDER BY event_time`,
      [[first.id, last.id]],
    );
    expect(rows).toEqual([
      { message_id: first.id, event_time: '0001-01-01T00:00:00.000', produced_at: '0001-01-01T00:00:00.000' },
      { message_id: last.id, event_time: '9999-12-31T23:59:59.999', produced_at: '9999-12-31T23:59:59.999' },
    ]);
  });

  it('applies an event from before 1970 alone in its batch', async () => {
    const old = envelope({ timestamp: '1969-07-20T20:17:40Z', quantity: 7 });
    const result = await applyEnvelopes(db.url, [old]);
    expect(result).toMatchObject({ staged: 1, applied: 1 });
  });
});
