import { randomUUID } from 'node:crypto';
import { PrismaPg } from '@prisma/adapter-pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrismaClient } from '../../api/generated/prisma/client.js';
import { createTestDatabase, type TestDatabase } from '../../lib/testing/database.js';

// schema.prisma and the migrations are two descriptions of one schema: write and read every model
// through Prisma Client against the migrated database, so any drift (a renamed column, a wrong
// type, a missing default) fails here.

let db: TestDatabase;
let prisma: PrismaClient;

beforeAll(async () => {
  db = await createTestDatabase('prisma');
  prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: db.url }) });
});

afterAll(async () => {
  await prisma?.$disconnect();
  await db?.drop();
});

describe('schema.prisma against the migrated database', () => {
  const warehouseId = randomUUID();
  const productId = randomUUID();
  const messageId = randomUUID();
  const movementId = randomUUID();

  it('Event', async () => {
    const written = await prisma.event.create({
      data: {
        messageId, movementId, warehouseId, productId, event: 'departure', quantity: 7,
        eventTime: new Date('2025-02-18T14:34:56Z'), producedAt: new Date(), source: 'WH-1',
        topic: 't', partition: 2, offset: 41n, outcome: 'rejected', rejectReason: 'insufficient_stock', stockAfter: 0n,
      },
    });
    expect(written.seq).toBeTypeOf('bigint');
    const read = await prisma.event.findUniqueOrThrow({ where: { messageId } });
    expect(read).toMatchObject({ event: 'departure', quantity: 7, rejectReason: 'insufficient_stock', offset: 41n });
    expect(read.receivedAt).toBeInstanceOf(Date);
  });

  it('LedgerBatch', async () => {
    const receivedAt = new Date('2026-11-24T01:02:03.456Z');
    await prisma.ledgerBatch.create({ data: { firstSeq: 1000n, lastSeq: 1009n, receivedAt } });
    expect(await prisma.ledgerBatch.findUniqueOrThrow({ where: { firstSeq: 1000n } })).toEqual({ firstSeq: 1000n, lastSeq: 1009n, receivedAt });
  });

  it('Stock', async () => {
    await prisma.stock.create({ data: { warehouseId, productId, quantity: 12n, status: 'available', lastMessageId: messageId } });
    const read = await prisma.stock.findUniqueOrThrow({ where: { warehouseId_productId: { warehouseId, productId } } });
    expect(read).toMatchObject({ quantity: 12n, status: 'available', lastMessageId: messageId });
    // Refused by the CHECK itself (SQLSTATE 23514, named), not by any other error on the way.
    await expect(prisma.stock.update({ where: { warehouseId_productId: { warehouseId, productId } }, data: { quantity: -1n } })).rejects.toMatchObject({
      meta: { driverAdapterError: { cause: { code: '23514', message: expect.stringContaining('stock_quantity_never_negative') as unknown } } },
    });
  });

  it('Movement', async () => {
    await prisma.movement.create({
      data: { movementId, productId, sourceWarehouseId: warehouseId, departureMessageId: messageId, departedAt: new Date(), quantitySent: 100, departureProductId: productId },
    });
    const read = await prisma.movement.findUniqueOrThrow({ where: { movementId } });
    expect(read).toMatchObject({ quantitySent: 100, arrivalMessageId: null, quantityReceived: null, departureProductId: productId, arrivalProductId: null, productMismatch: false });
  });

  it('StatusChange and StatusChangeCounter', async () => {
    const change = await prisma.statusChange.create({
      data: { warehouseId, productId, previousStatus: 'out_of_stock', status: 'low', quantity: 3n, messageId },
    });
    expect(change.id).toBeTypeOf('bigint');
    const counter = await prisma.statusChangeCounter.update({ where: { singleton: true }, data: { total: { increment: 1 } } });
    expect(counter.total).toBe(1n);
    expect(await prisma.statusChangeCounter.count()).toBe(1);
  });

  it('LedgerTotal, kept by the triggers of the writes above', async () => {
    const totals = Object.fromEntries((await prisma.ledgerTotal.findMany()).map((row) => [row.name, row.value]));
    expect(totals).toMatchObject({ 'events:insufficient_stock': 1n, stock_rows: 1n });
    await prisma.ledgerTotal.upsert({ where: { name: 'test' }, create: { name: 'test', value: 2n }, update: {} });
    expect((await prisma.ledgerTotal.findUniqueOrThrow({ where: { name: 'test' } })).value).toBe(2n);
  });

  it('StatusChangesPerDay, kept by the trigger on status_changes', async () => {
    const today = await prisma.$queryRaw<{ day: Date }[]>`SELECT (now() AT TIME ZONE 'UTC')::date AS day`;
    const read = await prisma.statusChangesPerDay.findUniqueOrThrow({ where: { day: today[0]!.day } });
    expect(read.total).toBe(1n); // the status change written above
    await prisma.statusChangesPerDay.create({ data: { day: new Date('2025-02-18T00:00:00Z'), total: 3n } });
    expect((await prisma.statusChangesPerDay.findUniqueOrThrow({ where: { day: new Date('2025-02-18T00:00:00Z') } })).total).toBe(3n);
  });

  it('ConsumerOffset', async () => {
    await prisma.consumerOffset.create({ data: { groupId: 'g', topic: 't', partition: 0, nextOffset: 10n } });
    const read = await prisma.consumerOffset.findUniqueOrThrow({ where: { groupId_topic_partition: { groupId: 'g', topic: 't', partition: 0 } } });
    expect(read.nextOffset).toBe(10n);
  });

  it('DeadLetter', async () => {
    const payload = Buffer.from([0xff, 0x00, 0x7b]);
    await prisma.deadLetter.create({
      data: { topic: 't', partition: 1, offset: 5n, messageKey: Buffer.from('k'), payload, payloadBytes: 3, reason: 'malformed_json', detail: 'x' },
    });
    const read = await prisma.deadLetter.findUniqueOrThrow({ where: { topic_partition_offset: { topic: 't', partition: 1, offset: 5n } } });
    expect(Buffer.from(read.payload)).toEqual(payload);
  });

  it('SkippedOffset and StockSetting', async () => {
    const skipped = await prisma.skippedOffset.create({ data: { groupId: 'g', topic: 't', partition: 2, fromOffset: 10n, toOffset: 15n } });
    expect(skipped.id).toBeTypeOf('bigint');
    expect(await prisma.stockSetting.findUniqueOrThrow({ where: { singleton: true } })).toMatchObject({ lowStockThreshold: 10 });
  });

  it('StagingEvent', async () => {
    await prisma.stagingEvent.create({
      data: {
        seq: 0, messageId, movementId, warehouseId, productId, event: 'arrival', quantity: 1,
        eventTime: new Date(), producedAt: new Date(), source: 'WH-1', topic: 't', partition: 0, offset: 0n,
      },
    });
    expect(await prisma.stagingEvent.count()).toBe(1);
    await prisma.stagingEvent.deleteMany();
  });
});
