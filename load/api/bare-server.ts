import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { isoDuration } from '../../api/serialize.js';

/**
 * The baseline `make load` measures the API against: the two hot point reads (one stock row, one
 * movement with each side's ledger outcome) on bare `node:http` and `pg`, with nothing between
 * the socket and the database but a regular expression, one named prepared statement and
 * `JSON.stringify`. The answers are byte for byte the API's (load/api/bare-server.test.ts checks
 * them against the real API), so the ratio API / bare is the price of everything else: Koa, the
 * router, zod, Prisma, metrics.
 *
 * Run as a child of the benchmark: `node --import tsx load/api/bare-server.ts` with DATABASE_URL
 * and BARE_PORT (0 picks a free port); it prints `{"port":N}` on stdout once listening.
 */

const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const STOCK_PATH = new RegExp(`^/api/warehouses/(${UUID})/products/(${UUID})$`);
const MOVEMENT_PATH = new RegExp(`^/api/movements/(${UUID})$`);

const STOCK_SQL = {
  name: 'bare-stock',
  text: 'SELECT quantity, status, updated_at, last_message_id FROM stock WHERE warehouse_id = $1 AND product_id = $2',
};
// One round trip: the movement and the ledger outcome of each side.
const MOVEMENT_SQL = {
  name: 'bare-movement',
  text: `SELECT m.product_id, m.source_warehouse_id, m.departure_message_id, m.departed_at, m.quantity_sent,
                m.destination_warehouse_id, m.arrival_message_id, m.arrived_at, m.quantity_received,
                m.departure_product_id, m.arrival_product_id, m.product_mismatch,
                d.outcome AS departure_outcome, d.reject_reason AS departure_reason,
                a.outcome AS arrival_outcome, a.reject_reason AS arrival_reason
           FROM movements m
           LEFT JOIN events d ON d.message_id = m.departure_message_id
           LEFT JOIN events a ON a.message_id = m.arrival_message_id
          WHERE m.movement_id = $1`,
};

interface StockRow { quantity: string; status: string; updated_at: Date; last_message_id: string }
interface MovementRow {
  product_id: string;
  source_warehouse_id: string | null;
  departure_message_id: string | null;
  departed_at: Date | null;
  quantity_sent: number | null;
  destination_warehouse_id: string | null;
  arrival_message_id: string | null;
  arrived_at: Date | null;
  quantity_received: number | null;
  departure_product_id: string | null;
  arrival_product_id: string | null;
  product_mismatch: boolean;
  departure_outcome: string | null;
  departure_reason: string | null;
  arrival_outcome: string | null;
  arrival_reason: string | null;
}

function stockBody(warehouseId: string, productId: string, row: StockRow | undefined): unknown {
  if (!row) return { warehouseId, productId, quantity: 0, status: 'out_of_stock', updatedAt: null, lastMessageId: null };
  return { warehouseId, productId, quantity: Number(row.quantity), status: row.status, updatedAt: row.updated_at.toISOString(), lastMessageId: row.last_message_id };
}

function movementBody(movementId: string, row: MovementRow): unknown {
  const side = (outcome: string | null, reason: string | null) => (outcome === null ? null : { outcome, rejectReason: reason });
  const departure = row.departure_message_id
    ? { messageId: row.departure_message_id, warehouseId: row.source_warehouse_id, departedAt: row.departed_at!.toISOString(), quantitySent: row.quantity_sent, stock: side(row.departure_outcome, row.departure_reason) }
    : null;
  const arrival = row.arrival_message_id
    ? { messageId: row.arrival_message_id, warehouseId: row.destination_warehouse_id, arrivedAt: row.arrived_at!.toISOString(), quantityReceived: row.quantity_received, stock: side(row.arrival_outcome, row.arrival_reason) }
    : null;
  const completed = departure !== null && arrival !== null;
  const transitMs = completed ? row.arrived_at!.getTime() - row.departed_at!.getTime() : null;
  return {
    movementId,
    productId: row.product_id,
    departureProductId: row.departure_product_id,
    arrivalProductId: row.arrival_product_id,
    productMismatch: row.product_mismatch,
    state: completed ? 'completed' : departure ? 'in_transit' : 'arrived',
    departure,
    arrival,
    quantitySent: row.quantity_sent,
    quantityReceived: row.quantity_received,
    quantityDifference: completed && !row.product_mismatch ? row.quantity_sent! - row.quantity_received! : null,
    transitSeconds: transitMs === null ? null : transitMs / 1000,
    transitDuration: transitMs === null ? null : isoDuration(transitMs),
  };
}

function send(res: http.ServerResponse, status: number, body: unknown, type = 'application/json; charset=utf-8'): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const problem = (status: number, title: string, detail: string) => ({ type: 'about:blank', title, status, detail });

/** The bare server on `pool`: the two point reads, /health, and 404 for anything else. */
export function createBareServer(pool: pg.Pool): http.Server {
  return http.createServer((req, res) => {
    const url = req.url ?? '/';
    const path = url.includes('?') ? url.slice(0, url.indexOf('?')) : url;
    let match = STOCK_PATH.exec(path);
    if (match) {
      const warehouseId = match[1]!.toLowerCase();
      const productId = match[2]!.toLowerCase();
      pool.query<StockRow>({ ...STOCK_SQL, values: [warehouseId, productId] }).then(
        (result) => send(res, 200, stockBody(warehouseId, productId, result.rows[0])),
        () => send(res, 503, problem(503, 'Service Unavailable', 'the database did not answer'), 'application/problem+json'),
      );
      return;
    }
    match = MOVEMENT_PATH.exec(path);
    if (match) {
      const movementId = match[1]!.toLowerCase();
      pool.query<MovementRow>({ ...MOVEMENT_SQL, values: [movementId] }).then(
        (result) => {
          const row = result.rows[0];
          if (row) send(res, 200, movementBody(movementId, row));
          else send(res, 404, problem(404, 'Not Found', `movement ${movementId} has no processed event`), 'application/problem+json');
        },
        () => send(res, 503, problem(503, 'Service Unavailable', 'the database did not answer'), 'application/problem+json'),
      );
      return;
    }
    if (path === '/health') send(res, 200, { status: 'ok' });
    else send(res, 404, problem(404, 'Not Found', `no route for ${req.method} ${path}`), 'application/problem+json');
  });
}

async function main(): Promise<void> {
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) throw new Error('DATABASE_URL is required');
  // The API's pool size (api/db.ts), so both sides get the same number of backends.
  const pool = new pg.Pool({ connectionString: databaseUrl, max: Number(process.env.BARE_POOL_SIZE ?? 10), application_name: 'wsm-bare' });
  const server = createBareServer(pool);
  await new Promise<void>((resolve) => server.listen(Number(process.env.BARE_PORT ?? 0), '127.0.0.1', resolve));
  console.log(JSON.stringify({ port: (server.address() as AddressInfo).port }));
  const stop = () => {
    server.close();
    server.closeAllConnections();
    void pool.end().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    console.error(`bare-server: ${(error as Error).message}`);
    process.exit(1);
  });
}
