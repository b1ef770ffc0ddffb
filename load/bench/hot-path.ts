/**
 * `npx tsx load/bench/hot-path.ts`: the processor's per-message JavaScript, step by step, against
 * the minimal form of each step measured in the same process, alternating rounds (median of
 * `--rounds`). Messages are the `make bench` stream's valid ones. What it prints explains how much
 * of the processor's CPU per message is its own code and how far each step is from its floor.
 *
 * Not part of the test suite; figures depend on the machine and what else runs on it.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { validateWithSchema } from '../../lib/event.js';
import type { KafkaMessage } from '../../lib/kafka/client.js';
import type { EventRecord } from '../../processor/batch.js';
import { decodeRecord } from '../../processor/decode.js';
import { encodeStockChanged, NOTIFICATION_TYPES } from '../../processor/notifier.js';
import { isoInstant } from '../../processor/iso-instant.js';
import { stagingChunks } from '../../processor/sql/copy-staging.js';
import { takeMessages } from '../generator/plan.js';

const { values } = parseArgs({ options: { messages: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '15' } } });
const count = Number(values.messages);
const rounds = Number(values.rounds);

const plan = { seed: 'make-bench', warehouses: 200, products: 5000, initialSupplies: 20_000 };
const messages: KafkaMessage[] = takeMessages(plan, count)
  .filter((m) => m.kind !== 'invalid' && m.kind !== 'duplicate')
  .map((m, offset) => ({ topic: 'bench', partition: offset % 4, offset, key: Buffer.from(m.key), value: m.value, size: m.value.length, timestamp: Date.now() }));
const records = messages.map((m) => decodeRecord(m)).filter((r): r is EventRecord => r.kind === 'event');
if (records.length !== messages.length) throw new Error('the plan\'s valid messages must all decode');
const instants = records.map((r) => [isoInstant(r.event.eventTimeMs), isoInstant(r.event.producedAtMs)] as const);
const changes = records.map((r) => ({ warehouseId: r.event.warehouseId, productId: r.event.productId, quantity: r.event.quantity, status: 'available' as const }));
const time = Date.now();
let sink = 0;

/** Each step runs over every message once per round; the result feeds `sink` so nothing is optimised away. */
const steps: { name: string; run: () => void }[] = [
  { name: 'JSON.parse alone (baseline)', run: () => { for (const m of messages) sink += JSON.parse(m.value!.toString('utf8')) === null ? 0 : 1; } },
  { name: 'decode by the zod schema (JSON.parse + schema)', run: () => { for (const m of messages) sink += validateWithSchema(JSON.parse(m.value!.toString('utf8'))).ok ? 1 : 0; } },
  { name: 'decode, processor (decodeRecord)', run: () => { for (const m of messages) sink += decodeRecord(m).kind === 'event' ? 1 : 0; } },
  {
    name: 'COPY rows with toISOString, utf8 (before)',
    run: () => {
      let chunk = '';
      for (let seq = 0; seq < records.length; seq++) {
        const { event: e, topic, partition, offset } = records[seq]!;
        chunk +=
          `${seq}\t${e.messageId}\t${e.movementId}\t${e.warehouseId}\t${e.productId}\t${e.event}\t${e.quantity}\t` +
          `${new Date(e.eventTimeMs).toISOString()}\t${new Date(e.producedAtMs).toISOString()}\t${e.source}\t${topic}\t${partition}\t${offset}\n`;
        if ((seq + 1) % 1000 === 0) {
          sink += Buffer.from(chunk).length;
          chunk = '';
        }
      }
      sink += Buffer.from(chunk).length;
    },
  },
  { name: 'COPY rows, processor (stagingChunks)', run: () => { for (const chunk of stagingChunks(records)) sink += chunk.length; } },
  {
    name: 'COPY rows, floor (instants preformatted)',
    run: () => {
      let chunk = '';
      for (let seq = 0; seq < records.length; seq++) {
        const { event: e, topic, partition, offset } = records[seq]!;
        const [eventTime, producedAt] = instants[seq]!;
        chunk += `${seq}\t${e.messageId}\t${e.movementId}\t${e.warehouseId}\t${e.productId}\t${e.event}\t${e.quantity}\t${eventTime}\t${producedAt}\t${e.source}\t${topic}\t${partition}\t${offset}\n`;
        if ((seq + 1) % 1000 === 0) {
          sink += Buffer.from(chunk, 'latin1').length;
          chunk = '';
        }
      }
      sink += Buffer.from(chunk, 'latin1').length;
    },
  },
  {
    name: 'notification, object + JSON.stringify (before)',
    run: () => {
      for (const row of changes) {
        const body = { type: NOTIFICATION_TYPES.stockChanged, time, data: { warehouse_id: row.warehouseId, product_id: row.productId, quantity: row.quantity, status: row.status } };
        sink += Buffer.from(JSON.stringify({ id: randomUUID(), source: 'warehouse-stock-processor', specversion: '1.0', datacontenttype: 'application/json', subject: row.warehouseId, ...body })).length;
      }
    },
  },
  { name: 'notification, processor (encodeStockChanged)', run: () => { for (const row of changes) sink += Buffer.from(encodeStockChanged(randomUUID(), time, row), 'latin1').length; } },
  { name: 'randomUUID alone', run: () => { for (let i = 0; i < changes.length; i++) sink += randomUUID().length; } },
];

const samples = steps.map(() => [] as number[]);
for (let round = 0; round < rounds; round++) {
  // Alternate the order so no step always runs right after the same one (GC, caches).
  const order = round % 2 === 0 ? steps.map((_, i) => i) : steps.map((_, i) => steps.length - 1 - i);
  for (const i of order) {
    const started = process.hrtime.bigint();
    steps[i]!.run();
    samples[i]!.push(Number(process.hrtime.bigint() - started) / messages.length);
  }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const baseline = median(samples[0]!);
console.log(`${messages.length} valid messages of the make-bench stream, median of ${rounds} alternating rounds (first round included: warm-up is part of a batch)`);
console.log(`${'step'.padEnd(50)} ${'µs/message'.padStart(10)}  × JSON.parse`);
steps.forEach((step, i) => {
  const ns = median(samples[i]!);
  console.log(`${step.name.padEnd(50)} ${(ns / 1000).toFixed(2).padStart(10)}  ${(ns / baseline).toFixed(2)}`);
});
if (sink === 0) console.log('');
