import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

// The fault proxy the database tests rely on: a stall must hold exactly from the trigger on, lose
// nothing, and keep the order; a cut must drop connections and refuse new ones until restored.

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** A server that collects what each connection sends (and greets it), and a client through the proxy. */
async function setUp(): Promise<{ proxy: TcpProxy; received: () => string; client: net.Socket; server: net.Server; sockets: net.Socket[] }> {
  let received = '';
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    sockets.push(socket);
    socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const proxy = await startTcpProxy((server.address() as net.AddressInfo).port);
  closers.push(() => proxy.close());
  const client = net.connect(proxy.port, '127.0.0.1');
  client.on('error', () => undefined);
  await new Promise<void>((resolve) => client.once('connect', resolve));
  closers.push(() => void client.destroy());
  return { proxy, received: () => received, client, server, sockets };
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('TCP proxy', () => {
  it('stalls from the chunk that contains the trigger, then releases everything in order', async () => {
    const { proxy, received, client } = await setUp();
    const stalled = proxy.stall({ when: 'apply_batch' });
    client.write('BEGIN;');
    await until(() => received() === 'BEGIN;');
    expect(received()).toBe('BEGIN;');
    client.write('SELECT apply_batch();');
    await stalled;
    client.write('COMMIT;');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(received()).toBe('BEGIN;');
    proxy.release();
    await until(() => received().length === 'BEGIN;SELECT apply_batch();COMMIT;'.length);
    expect(received()).toBe('BEGIN;SELECT apply_batch();COMMIT;');
  });

  it('sees a trigger split across two chunks', async () => {
    const { proxy, received, client } = await setUp();
    const stalled = proxy.stall({ when: 'apply_batch' });
    client.write('SELECT apply');
    await until(() => received() === 'SELECT apply');
    client.write('_batch();');
    await stalled;
    proxy.release();
    await until(() => received() === 'SELECT apply_batch();');
    expect(received()).toBe('SELECT apply_batch();');
  });

  it('blackholes both directions without closing anything, then delivers what it held', async () => {
    const { proxy, received, client, sockets } = await setUp();
    let back = '';
    client.on('data', (chunk: Buffer) => (back += chunk.toString()));
    await until(() => sockets.length === 1);
    proxy.blackhole();
    client.write('ping');
    sockets[0]!.write('pong');
    // A connection opened during the blackhole is accepted, and nothing reaches the server.
    const late = net.connect(proxy.port, '127.0.0.1');
    closers.push(() => void late.destroy());
    await new Promise<void>((resolve) => late.once('connect', resolve));
    late.write('late');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect([received(), back, sockets.length, client.destroyed]).toEqual(['', '', 1, false]);
    proxy.restore();
    await until(() => received().length === 'pinglate'.length && back === 'pong');
    expect([[...received()].sort().join(''), back]).toEqual([[...'pinglate'].sort().join(''), 'pong']);
  });

  it('cuts open connections and refuses new ones until restored', async () => {
    const { proxy, client } = await setUp();
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    proxy.cut();
    await closed;
    const refused = net.connect(proxy.port, '127.0.0.1');
    await new Promise<void>((resolve) => refused.once('error', () => resolve()).once('close', () => resolve()));
    proxy.restore();
    const again = net.connect(proxy.port, '127.0.0.1');
    closers.push(() => void again.destroy());
    await new Promise<void>((resolve, reject) => again.once('connect', resolve).once('error', reject));
  });
});
