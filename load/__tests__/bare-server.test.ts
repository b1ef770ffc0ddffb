import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRoleUrl, startApi, type ApiHarness } from '../../api/__tests__/helpers.js';
import { applyEnvelopes } from '../../lib/testing/apply.js';
import { envelope } from '../../lib/testing/envelopes.js';
import { createBareServer } from '../api/bare-server.js';

/**
 * make load's ratio is only fair if the bare baseline answers what the API answers: same bodies,
 * byte for byte, for every kind of stock row and movement, on processor-written data.
 */

const W1 = randomUUID();
const W2 = randomUUID();
const P = randomUUID();
const completed = randomUUID();
const inTransit = randomUUID();
const arrived = randomUUID();

let api: ApiHarness;
let pool: pg.Pool;
let bare: Server;
let bareUrl: string;

beforeAll(async () => {
  api = await startApi();
  await applyEnvelopes(api.database.url, [
    envelope({ movement_id: arrived, warehouse_id: W1, product_id: P, event: 'arrival', quantity: 30, timestamp: '2025-02-18T08:00:00Z' }),
    envelope({ movement_id: completed, warehouse_id: W1, product_id: P, event: 'departure', quantity: 20, timestamp: '2025-02-18T10:00:00.250Z' }),
    envelope({ movement_id: completed, warehouse_id: W2, product_id: P, event: 'arrival', quantity: 18, timestamp: '2025-02-19T12:30:00Z' }),
    envelope({ movement_id: inTransit, warehouse_id: W1, product_id: P, event: 'departure', quantity: 99, timestamp: '2025-02-20T09:00:00Z' }),
  ]);
  pool = new pg.Pool({ connectionString: await apiRoleUrl(api.database), max: 2 });
  bare = createBareServer(pool);
  await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
  bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}`;
});

afterAll(async () => {
  bare?.close();
  await pool?.end();
  await api?.close();
});

async function both(path: string): Promise<[{ status: number; type: string; text: string }, { status: number; type: string; text: string }]> {
  const read = async (base: string) => {
    const response = await fetch(base + path);
    return { status: response.status, type: response.headers.get('content-type') ?? '', text: await response.text() };
  };
  return [await read(api.baseUrl), await read(bareUrl)];
}

describe('the bare baseline', () => {
  it('answers every stock row as the API does, byte for byte', async () => {
    for (const path of [`/api/warehouses/${W1}/products/${P}`, `/api/warehouses/${W2}/products/${P}`, `/api/warehouses/${randomUUID()}/products/${P}`, `/api/warehouses/${W1.toUpperCase()}/products/${P.toUpperCase()}`]) {
      const [fromApi, fromBare] = await both(path);
      expect(fromBare, path).toEqual(fromApi);
      expect(fromApi.status).toBe(200);
    }
  });

  it('answers every movement as the API does (completed, in transit with a rejected departure, arrived, unknown)', async () => {
    for (const path of [`/api/movements/${completed}`, `/api/movements/${inTransit}`, `/api/movements/${arrived}`, `/api/movements/${randomUUID()}`]) {
      const [fromApi, fromBare] = await both(path);
      expect(fromBare.status, path).toBe(fromApi.status);
      expect(fromBare.type, path).toBe(fromApi.type);
      expect(fromBare.text, path).toBe(fromApi.text);
    }
    expect(JSON.parse((await both(`/api/movements/${inTransit}`))[1].text)).toMatchObject({ state: 'in_transit', departure: { stock: { outcome: 'rejected', rejectReason: 'insufficient_stock' } } });
  });
});
