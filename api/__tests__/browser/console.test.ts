import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Envelope } from '../../../lib/event.js';
import { launchBrowser, type TestBrowser } from '../../../lib/testing/browser.js';
import { createTestDatabase, type TestDatabase } from '../../../lib/testing/database.js';
import { encode, envelope } from '../../../lib/testing/envelopes.js';
import { ensureMockTopics } from '../../../lib/kafka/topics.js';
import { kafkaBrokers, produce, uniqueTopic } from '../../../lib/testing/kafka.js';
import { startProcessor, waitFor, type RunningProcessor } from '../../../processor/__tests__/helpers.js';
import { Oracle } from '../../../processor/__tests__/oracle.js';
import { generateStream, produceKeyed } from '../../../processor/__tests__/stream.js';
import { CONSOLE_VIEWS } from '../../console/views.js';
import { startApi, type ApiHarness } from '../helpers.js';

/**
 * The console in a real browser (Debian's chromium through playwright-core) against the real API,
 * the real processor, embedded PostgreSQL and the mock Kafka cluster: events go in through Kafka
 * and the page must show what the processor made of them, live. The tests run in order on one
 * growing store. Waits are on conditions (what the page shows), each bounded by WAIT_MS; no test
 * sleeps.
 *
 * CONSOLE_SCREENSHOTS=<dir> also saves every view at a laptop and a phone width (the README's
 * pictures: `make console-screenshots`).
 */

/** Longest wait for one condition: a batch takes ~0.1 s here, far longer on a cold, shared CI machine. */
const WAIT_MS = 30_000;
const TEST_MS = 4 * WAIT_MS;
const LAPTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const SCREENSHOTS = process.env.CONSOLE_SCREENSHOTS;

const topic = uniqueTopic('console');
let database: TestDatabase;
let api: ApiHarness;
let processor: RunningProcessor;
let browser: TestBrowser;
let page: Page;
const produced: Envelope[] = [];
const requests: Request[] = [];

/** Sends events through Kafka keyed by warehouse, and remembers them for the oracle. */
async function send(...events: Envelope[]): Promise<void> {
  produced.push(...events);
  await produceKeyed(topic, events);
}

/** Waits until the ledger holds every event sent so far (the processor has caught up). */
async function processed(): Promise<void> {
  const ids = new Set(produced.map((e) => e.id));
  await waitFor(
    async () => Number((await database.pool.query<{ n: string }>('SELECT count(*) AS n FROM events')).rows[0]?.n) >= ids.size,
    WAIT_MS,
    () => `the processor did not apply ${ids.size} events: ${processor.output().slice(-1500)}`,
  );
}

async function text(selector: string): Promise<string> {
  return ((await page.locator(selector).first().textContent({ timeout: WAIT_MS })) ?? '').trim();
}

/** Waits until `selector`'s text satisfies `check`. */
async function untilText(selector: string, check: (text: string) => boolean, what: string): Promise<string> {
  let last = '';
  await waitFor(
    async () => {
      last = (await page.locator(selector).first().textContent({ timeout: 1000 }).catch(() => null)) ?? '';
      return check(last.trim());
    },
    WAIT_MS,
    () => `${what}: ${selector} shows "${last}"`,
  );
  return last.trim();
}

const figure = (name: string) => `[data-figure="${name}"] .value`;

/** Waits until the page is at `target` (path and query, exactly). */
async function at(target: string): Promise<void> {
  await page.waitForURL((url) => url.pathname + url.search === target);
}
const count = (value: string) => Number(value.replace(/,/g, ''));

/** The stock chart's points in drawing order: each ledger row's seq and the stock after it. */
async function chartPoints(): Promise<[number, number][]> {
  return page.locator('.chart svg [data-seq]').evaluateAll((nodes) => nodes.map((n) => [Number(n.getAttribute('data-seq')), Number(n.getAttribute('data-stock-after'))] as [number, number]));
}

/** The pair's latest `limit` ledger rows as the history route serves them, oldest first. */
async function servedHistory(warehouseId: string, productId: string, limit: number): Promise<[number, number][]> {
  const response = await fetch(`${api.baseUrl}/api/warehouses/${warehouseId}/products/${productId}/history?order=desc&limit=${limit}`);
  expect(response.status).toBe(200);
  const body = (await response.json()) as { items: { seq: number; stockAfter: number }[] };
  return body.items.map((item): [number, number] => [item.seq, item.stockAfter]).reverse();
}

/** The pair's ledger straight from the table, oldest first: seq and the stock after each row. */
async function ledgerOf(warehouseId: string, productId: string): Promise<{ seq: number; stockAfter: number; outcome: string }[]> {
  const { rows } = await database.pool.query<{ seq: string; stock_after: string; outcome: string }>(
    'SELECT seq, stock_after, outcome FROM events WHERE warehouse_id = $1 AND product_id = $2 ORDER BY seq',
    [warehouseId, productId],
  );
  return rows.map((row) => ({ seq: Number(row.seq), stockAfter: Number(row.stock_after), outcome: row.outcome }));
}

async function screenshot(name: string): Promise<void> {
  if (!SCREENSHOTS) return;
  await mkdir(SCREENSHOTS, { recursive: true });
  for (const [size, viewport] of [['laptop', LAPTOP], ['phone', PHONE]] as const) {
    await page.setViewportSize(viewport);
    // Let the chart measure its new width before the picture.
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-${size}.png`) });
  }
  await page.setViewportSize(LAPTOP);
}

// One supplier warehouse W1 and a customer W2; product P. The story the tests tell:
const W1 = randomUUID();
const W2 = randomUUID();
const P = randomUUID();
const hour = (h: number, minute = 0) => new Date(Date.UTC(2025, 1, 18, h, minute)).toISOString();

beforeAll(async () => {
  database = await createTestDatabase('console');
  api = await startApi({ database });
  // The topic first: a consumer that finds its topic missing for librdkafka's
  // topic.metadata.propagation.max.ms (30 s) stops looking until its next metadata refresh (5 min),
  // and on a busy machine the first event is produced later than that.
  await ensureMockTopics(kafkaBrokers(), [topic]);
  processor = await startProcessor({ DATABASE_URL: database.url, KAFKA_TOPIC: topic, KAFKA_GROUP_ID: `console-${topic}`, BATCH_MAX_WAIT_MS: '50' });
  browser = await launchBrowser(LAPTOP);
  page = await browser.context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  page.on('request', (request) => requests.push(request));
  // Every Content-Security-Policy violation the page reports, kept where the tests can read it.
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { cspViolations: string[] }).cspViolations = seen;
    document.addEventListener('securitypolicyviolation', (event) => seen.push(`${event.violatedDirective} ${event.blockedURI}`));
  });
}, TEST_MS);

afterAll(async () => {
  await browser?.close();
  if (processor) expect(await processor.stop('SIGTERM')).toBe(0);
  await api?.close();
  await database?.drop();
});

describe('the console in a browser', () => {
  it('opens on the overview, says when there is nothing yet, and its figures change after events are produced', async () => {
    await page.goto(`${api.baseUrl}/console`);
    expect(await text('h1')).toBe('Now');
    expect(await untilText(figure('stock-rows'), (t) => t === '0', 'an empty store')).toBe('0');
    await untilText('.feed-state', (t) => t.startsWith('Live'), 'the live stream connects');
    expect(await text('#main .state.empty')).toContain('No status changes yet');

    // Background: a generated stream over a few warehouses (supplies, movements, losses, late
    // arrivals, departures the stock cannot cover), so every view has rows. Without the hard cases
    // (copies in other partitions), so the oracle in produce order is the one truth.
    await send(...generateStream({ movements: 120, warehouses: 5, products: 8, seed: 13, hardCases: false }).map((m) => m.envelope));
    await processed();
    const rows = Number((await database.pool.query<{ n: string }>('SELECT count(*) AS n FROM stock')).rows[0]?.n);
    const low = Number((await database.pool.query<{ n: string }>("SELECT count(*) AS n FROM stock WHERE status = 'low'")).rows[0]?.n);
    const transit = Number((await database.pool.query<{ n: string }>('SELECT count(*) AS n FROM movements WHERE arrival_message_id IS NULL')).rows[0]?.n);
    expect(rows).toBeGreaterThan(0);
    await untilText(figure('stock-rows'), (t) => count(t) === rows, `the overview shows ${rows} stock rows`);
    expect(count(await text(figure('low')))).toBe(low);
    expect(count(await text(figure('in-transit')))).toBe(transit);
    // Every change of this store happened today (changed_at is the commit's clock).
    expect(count(await text(figure('status-changes-today')))).toBe(Oracle.of(produced).statusChanges.length);
  }, TEST_MS);

  it('shows a status change in the live feed within seconds, without a reload', async () => {
    await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
    // W1 receives 12 of P (out_of_stock -> available), then sends 4 away (available -> low, 8).
    await send(envelope({ warehouse_id: W1, product_id: P, quantity: 12, timestamp: hour(8) }));
    const started = Date.now();
    await page.locator('.change', { hasText: 'Available' }).filter({ has: page.locator(`a[title="${P}"]`) }).first().waitFor({ timeout: WAIT_MS });
    const seconds = (Date.now() - started) / 1000;
    // Newest first: it is at the top.
    expect(await page.locator('[data-change-id]').first().locator(`a[title="${P}"]`).count()).toBe(1);
    expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
    // Within seconds on a quiet machine; the bound here is the wait's, for slow CI machines.
    expect(seconds).toBeLessThan(WAIT_MS / 1000);
  }, TEST_MS);

  it('keeps the low-stock list live: a row that turns low appears, and leaves when it is refilled', async () => {
    await page.goto(`${api.baseUrl}/console/low-stock?warehouseId=${W1}`);
    expect(await text('h1')).toBe('Low stock');
    const row = page.locator(`[data-section="low"] [data-stock="${W1}/${P}"]`);
    await page.locator('[data-section="low"] .state.empty, [data-section="low"] table').first().waitFor();
    expect(await row.count()).toBe(0);
    await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));

    await send(envelope({ movement_id: randomUUID(), warehouse_id: W1, product_id: P, event: 'departure', quantity: 4, timestamp: hour(9) }));
    await row.waitFor({ timeout: WAIT_MS });
    expect(await row.locator('td[data-label="Quantity"]').textContent()).toBe('8');

    await send(envelope({ warehouse_id: W1, product_id: P, quantity: 30, timestamp: hour(10) }));
    await row.waitFor({ state: 'detached', timeout: WAIT_MS });
    expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
    await page.goto(`${api.baseUrl}/console/low-stock`);
    await page.locator('[data-section="low"] table').waitFor();
    await screenshot('low-stock');
  }, TEST_MS);

  it('looks up a stock by pasted ids: the quantity the oracle expects, one chart point per ledger row, rejected departures marked', async () => {
    // A departure W1 cannot cover (38 in stock): rejected, the stock unchanged, still a ledger row.
    const M = randomUUID();
    await send(
      envelope({ movement_id: M, warehouse_id: W1, product_id: P, event: 'departure', quantity: 100, timestamp: hour(11) }),
      envelope({ movement_id: randomUUID(), warehouse_id: W1, product_id: P, event: 'departure', quantity: 5, timestamp: hour(12) }),
    );
    await processed();
    await page.goto(`${api.baseUrl}/console/stock`);
    await page.getByLabel('Warehouse id').fill(W1.toUpperCase());
    await page.getByLabel('Product id').fill(` ${P} `);
    await page.getByRole('button', { name: 'Show stock' }).click();
    await at(`/console/stock?warehouseId=${W1}&productId=${P}`);

    const expected = Oracle.of(produced).stock.get(`${W1}/${P}`)?.quantity;
    expect(expected).toBe(12 - 4 + 30 - 5);
    await untilText('[data-quantity]', (t) => t === String(expected), `the oracle's quantity ${expected}`);
    // One point per ledger row, oldest first, at the stock the history route says followed it.
    const ledger = await ledgerOf(W1, P);
    const points = await chartPoints();
    expect(points).toEqual(ledger.map((row) => [row.seq, row.stockAfter]));
    expect(points).toEqual(await servedHistory(W1, P, 500));
    expect(points.at(-1)?.[1]).toBe(expected);
    expect(await page.locator('.chart svg [data-outcome="rejected"]').count()).toBe(ledger.filter((r) => r.outcome === 'rejected').length);
    expect(await page.locator('.chart svg [data-outcome="rejected"][data-event="departure"]').count()).toBe(1);
    expect(await page.locator('.ledger-table tbody tr').count()).toBe(ledger.length);
    expect(await page.locator('[data-history-limit]').count()).toBe(0);

    // Remembered: the form page offers the pair again.
    await page.goto(`${api.baseUrl}/console/stock`);
    await page.locator('.recent a').first().click();
    await at(`/console/stock?warehouseId=${W1}&productId=${P}`);
    await untilText('[data-quantity]', (t) => t === String(expected), 'the remembered pair');
    await screenshot('stock');
  }, TEST_MS);

  it('charts the latest 500 ledger rows of a longer ledger, oldest first, and says so', async () => {
    // Its own pair, so the other views' rows and totals stay as they were; arrivals only, so the
    // overview gains no movements in transit (a departure without its arrival is one).
    const W3 = randomUUID();
    const P3 = randomUUID();
    const LIMIT = 500;
    const events = Array.from({ length: LIMIT + 7 }, (_, i) =>
      envelope({ warehouse_id: W3, product_id: P3, event: 'arrival', quantity: 1 + (i % 5), timestamp: new Date(Date.UTC(2025, 1, 17, 0, i)).toISOString() }),
    );
    await send(...events);
    await processed();
    await page.goto(`${api.baseUrl}/console/stock?warehouseId=${W3}&productId=${P3}`);
    const expected = Oracle.of(produced).stock.get(`${W3}/${P3}`)?.quantity;
    await untilText('[data-quantity]', (t) => count(t) === expected, `the oracle's quantity ${expected}`);
    await page.locator('.chart svg').waitFor();

    // Not the first 500 (what the events list in ascending order gives), not newest first.
    const latest = (await ledgerOf(W3, P3)).slice(-LIMIT).map((row): [number, number] => [row.seq, row.stockAfter]);
    const points = await chartPoints();
    expect(points).toEqual(latest);
    expect(points).toEqual(await servedHistory(W3, P3, LIMIT));
    expect(points.at(-1)?.[1]).toBe(expected);
    expect(await text('[data-history-limit]')).toContain(`the latest ${LIMIT} events`);
    expect(await text('#history-title .count')).toBe(`the latest ${LIMIT} ledger rows`);
    // The table under it: newest first, from the same rows.
    expect(Number(await page.locator('.ledger-table tbody tr').first().getAttribute('data-seq'))).toBe(latest.at(-1)?.[0]);
    // One bounded request for the chart; the events list is not read.
    const asked = requests.map((r) => new URL(r.url())).filter((url) => url.href.includes(P3));
    expect(asked.filter((url) => url.pathname.endsWith('/history')).map((url) => url.search)).toEqual([`?order=desc&limit=${LIMIT}`]);
    expect(asked.filter((url) => url.pathname === '/api/events')).toEqual([]);
  }, TEST_MS);

  it('shows a movement with its transit time and loss, and calls out a missing side', async () => {
    const M = randomUUID();
    const IN_TRANSIT = randomUUID();
    await send(
      envelope({ warehouse_id: W2, product_id: P, quantity: 500, timestamp: hour(6) }),
      envelope({ movement_id: M, warehouse_id: W2, product_id: P, event: 'departure', quantity: 100, timestamp: hour(13) }),
      envelope({ movement_id: M, warehouse_id: W1, product_id: P, event: 'arrival', quantity: 95, timestamp: hour(15, 30) }),
      envelope({ movement_id: IN_TRANSIT, warehouse_id: W2, product_id: P, event: 'departure', quantity: 10, timestamp: hour(16) }),
    );
    await processed();
    // A deep link, typed into the address bar: the right view opens at once.
    await page.goto(`${api.baseUrl}/console/movement?movementId=${M}`);
    expect(await text('h1')).toBe('Movement');
    await untilText('[data-transit-seconds]', (t) => t === '2 h 30 min', 'the transit time');
    expect(await page.locator('[data-transit-seconds]').getAttribute('data-transit-seconds')).toBe(String(2.5 * 3600));
    expect(await page.locator('[data-loss]').getAttribute('data-loss')).toBe('5');
    expect(await text('[data-loss]')).toBe('5 lost (5.0 % of what was sent)');
    expect(await text('[data-side="departure"]')).toContain('applied to stock');
    await screenshot('movement');

    await page.goto(`${api.baseUrl}/console/movement?movementId=${IN_TRANSIT}`);
    expect(await untilText('.callouts', (t) => t.length > 0, 'the in-transit callout')).toContain('No arrival recorded');
    expect(await text('[data-side="arrival"]')).toContain('Not recorded');
    const unknown = randomUUID();
    await page.goto(`${api.baseUrl}/console/movement?movementId=${unknown}`);
    expect(await untilText('#main .state.empty', (t) => t.length > 0, 'the unknown movement')).toContain(`No event of movement ${unknown} has been processed`);
  }, TEST_MS);

  it('opens every view from a deep link, and back and forward move between views', async () => {
    const links: [string, string, string][] = [
      [`/console/warehouse?warehouseId=${W1}`, 'Warehouse', `[data-stock="${W1}/${P}"]`],
      [`/console/product?productId=${P}`, 'Product', `[data-total]`],
      [`/console/stock?warehouseId=${W2}&productId=${P}`, 'Stock', '[data-quantity]'],
      ['/console/low-stock?status=low', 'Low stock', '[data-section="low"] h2'],
      ['/console/dead-letters', 'Dead letters', '#reason'],
      ['/console', 'Now', figure('stock-rows')],
    ];
    for (const [link, title, content] of links) {
      await page.goto(api.baseUrl + link);
      expect(await text('h1'), link).toBe(title);
      await page.locator(content).first().waitFor();
      expect(await page.title()).toBe(`${title} · Console · Warehouse stock monitor`);
    }
    const product = Oracle.of(produced);
    const total = [...product.stock].filter(([key]) => key.endsWith(`/${P}`)).reduce((sum, [, stock]) => sum + stock.quantity, 0);
    await page.goto(`${api.baseUrl}/console/product?productId=${P}`);
    expect(await page.locator('[data-total]').getAttribute('data-total')).toBe(String(total));
    await screenshot('product');
    await page.goto(`${api.baseUrl}/console/warehouse?warehouseId=${W2}`);
    await page.locator('table').waitFor();
    await screenshot('warehouse');

    // Navigation inside the page: links and filters push history; back and forward replay it.
    await page.goto(`${api.baseUrl}/console`);
    await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
    await page.getByRole('link', { name: 'Dead letters', exact: true }).first().click();
    await untilText('h1', (t) => t === 'Dead letters', 'the dead letters view');
    await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: 'Warehouse' }).click();
    await untilText('h1', (t) => t === 'Warehouse', 'the warehouse view');
    await page.goBack();
    await untilText('h1', (t) => t === 'Dead letters', 'back to dead letters');
    expect(page.url()).toBe(`${api.baseUrl}/console/dead-letters`);
    await page.goBack();
    await untilText('h1', (t) => t === 'Now', 'back to the overview');
    await page.goForward();
    await untilText('h1', (t) => t === 'Dead letters', 'forward to dead letters');
    expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
    // The view's heading takes the focus after a navigation.
    expect(await page.evaluate(() => document.activeElement?.tagName)).toBe('H1');
    // An unknown view is the API's 404, not a blank page.
    expect((await page.goto(`${api.baseUrl}/console/nope`))?.status()).toBe(404);
  }, TEST_MS);

  it('lists dead letters with reason and position, the payload viewable', async () => {
    await page.goto(`${api.baseUrl}/console/dead-letters`);
    await page.locator('#main .state.empty').waitFor();
    expect(await text('#main .state.empty')).toContain('No dead letters');
    await produce(topic, [
      { value: Buffer.from('{"id": "not json'), key: W1 },
      { value: encode({ ...envelope(), data: { ...envelope().data, quantity: -3 } }), key: W2 },
    ]);
    await waitFor(async () => Number((await database.pool.query<{ n: string }>('SELECT count(*) AS n FROM dead_letters')).rows[0]?.n) === 2, WAIT_MS, () => processor.output().slice(-1500));
    await page.reload();
    const letters = page.locator('[data-dead-letter]');
    await letters.nth(1).waitFor();
    expect(await letters.count()).toBe(2);
    const first = letters.filter({ hasText: 'malformed json' });
    expect(await first.locator('.reason').textContent()).toBe('malformed json');
    expect(await first.locator('.position').textContent()).toMatch(new RegExp(`topic ${topic.replace('.', '\\.')} partition \\d+ offset \\d+`));
    expect(await first.locator('[data-payload]').isVisible()).toBe(false);
    await first.locator('summary').click();
    expect(await first.locator('[data-payload]').textContent()).toBe('{"id": "not json');
    await first.getByLabel('show as base64').check();
    expect(await first.locator('[data-payload]').textContent()).toBe(Buffer.from('{"id": "not json').toString('base64'));
    await page.locator('#reason').selectOption('invalid_quantity');
    await at('/console/dead-letters?reason=invalid_quantity');
    await waitFor(async () => (await letters.count()) === 1 && (await letters.first().locator('.reason').textContent()) === 'invalid quantity', WAIT_MS, () => 'the reason filter');
    await page.goto(`${api.baseUrl}/console/dead-letters`);
    await letters.first().locator('summary').click();
    await screenshot('dead-letters');
  }, TEST_MS);

  it('says when the API is down, and resumes the live feed after it, with the changes made meanwhile', async () => {
    await page.goto(`${api.baseUrl}/console`);
    await untilText('.feed-state', (t) => t.startsWith('Live'), 'the live stream connects');
    await api.pause();
    let rows: { id: string }[];
    try {
      await untilText('.feed-state', (t) => t.startsWith('Reconnecting'), 'the feed notices the drop');
      await untilText('.warning', (t) => t.includes('the API did not answer'), 'the figures say they are stale');

      // While the API is down, W2 runs out of P: a status change the page never saw live.
      const left = Oracle.of(produced).stock.get(`${W2}/${P}`)?.quantity ?? 0;
      await send(envelope({ movement_id: randomUUID(), warehouse_id: W2, product_id: P, event: 'departure', quantity: left, timestamp: hour(17) }));
      await processed();
      ({ rows } = await database.pool.query<{ id: string }>("SELECT id FROM status_changes WHERE warehouse_id = $1 AND product_id = $2 AND status = 'out_of_stock'", [W2, P]));
      expect(rows).toHaveLength(1);
    } finally {
      // Whatever failed above, the later tests get their API back.
      await api.resume();
    }
    await page.locator(`[data-change-id="${rows[0]!.id}"]`).waitFor({ timeout: WAIT_MS });
    await untilText('.feed-state', (t) => t.startsWith('Live'), 'the feed is live again');
    await page.locator('.warning').waitFor({ state: 'detached', timeout: WAIT_MS });
    // Each change once, newest first.
    const ids = await page.locator('[data-change-id]').evaluateAll((nodes) => nodes.map((n) => Number(n.getAttribute('data-change-id'))));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    await screenshot('now');
  }, TEST_MS);

  it('is keyboard reachable with a visible focus, labelled, and legible on a phone', async () => {
    await page.goto(`${api.baseUrl}/console/stock`);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    const reached = new Set<string>();
    for (let i = 0; i < 25; i++) {
      await page.keyboard.press('Tab');
      const focused = await page.evaluate(() => {
        const element = document.activeElement as HTMLElement | null;
        // Past the last control the focus leaves the page (the browser's own UI).
        if (!element || element === document.body) return null;
        const style = getComputedStyle(element);
        return { name: element.getAttribute('aria-label') ?? element.textContent?.trim() ?? '', id: element.id, outline: style.outlineStyle, width: style.outlineWidth };
      });
      if (!focused) continue;
      reached.add(focused.id || focused.name);
      expect(focused.outline, `focus on ${focused.id || focused.name} is visible`).not.toBe('none');
    }
    for (const name of ['Now', 'Low stock', 'Stock', 'Dead letters', 'field-warehouseId', 'field-productId', 'Show stock']) expect([...reached], name).toContain(name);
    // Every control has a name a screen reader can say.
    const unlabelled = await page.evaluate(() =>
      [...document.querySelectorAll<HTMLInputElement | HTMLSelectElement | HTMLButtonElement>('input, select, button')]
        .filter((control) => !(control.labels?.length || control.getAttribute('aria-label') || (control instanceof HTMLButtonElement && control.textContent?.trim())))
        .map((control) => control.outerHTML),
    );
    expect(unlabelled).toEqual([]);
    // A bad id is explained before anything is requested.
    await page.getByLabel('Warehouse id').fill('WH-3423');
    await page.getByLabel('Product id').fill(P);
    await page.getByRole('button', { name: 'Show stock' }).click();
    expect(await text('.field-error')).toContain('must be a UUID');
    expect(await page.getByLabel('Warehouse id').getAttribute('aria-invalid')).toBe('true');

    await page.setViewportSize(PHONE);
    for (const view of CONSOLE_VIEWS) {
      await page.goto(`${api.baseUrl}/console/${view}?warehouseId=${W1}&productId=${P}&movementId=${randomUUID()}`);
      await page.locator('h1').waitFor();
      // Every loader gone: a view with two lists shows two at once (a strict locator then throws).
      await page.waitForFunction(() => document.querySelector('#main .state.loading') === null);
      const layout = await page.evaluate(() => ({ overflow: document.documentElement.scrollWidth - innerWidth, font: parseFloat(getComputedStyle(document.body).fontSize) }));
      expect(layout.overflow, `${view}: nothing wider than the phone`).toBeLessThanOrEqual(0);
      expect(layout.font, `${view}: text size`).toBeGreaterThanOrEqual(16);
    }
    await page.setViewportSize(LAPTOP);
  }, TEST_MS);

  it('reads only this origin and only documented API routes, and the CSP refuses anything else', async () => {
    const origin = new URL(api.baseUrl).origin;
    const foreign = requests.filter((r) => new URL(r.url()).origin !== origin).map((r) => r.url());
    expect(foreign).toEqual([]);
    const documented = Object.keys(api.app.document.paths as Record<string, unknown>).map((template) => new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`));
    const apiPaths = [...new Set(requests.map((r) => new URL(r.url()).pathname).filter((p) => p.startsWith('/api/')))];
    expect(apiPaths.length).toBeGreaterThan(5);
    expect(apiPaths.filter((p) => !documented.some((route) => route.test(p)))).toEqual([]);
    expect(requests.every((r) => r.method() === 'GET')).toBe(true);

    await page.goto(`${api.baseUrl}/console`);
    expect(await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations)).toEqual([]);
    // What the policy is for: code injected into the page cannot run inline code or reach out.
    const attempts = await page.evaluate(async () => {
      const results: string[] = [];
      try {
        const script = document.createElement('script');
        script.src = 'data:text/javascript,window.injected=1';
        document.head.append(script);
        await new Promise((resolve) => setTimeout(resolve, 200));
      } catch (error) {
        results.push(String(error));
      }
      try {
        await fetch('https://example.com/');
        results.push('fetched');
      } catch {
        results.push('fetch refused');
      }
      return { results, injected: (window as unknown as { injected?: number }).injected };
    });
    expect(attempts.injected).toBeUndefined();
    expect(attempts.results).toContain('fetch refused');
    const violations = await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations);
    expect(violations.some((v) => v.startsWith('connect-src'))).toBe(true);
  }, TEST_MS);
});
