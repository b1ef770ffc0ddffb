import { afterEach, describe, expect, it, vi } from 'vitest';
import { KAFKA_CLOSE_BUDGET_MS } from '../shutdown-budget.js';
import { disconnectClient, type RdKafka } from './client.js';

describe('disconnectClient', () => {
  afterEach(() => vi.useRealTimers());

  it('gives up on a consumer whose close never returns after its shutdown budget (a broker gone)', async () => {
    vi.useFakeTimers();
    const consumer = { isConnected: () => true, disconnect: () => undefined } as unknown as RdKafka.KafkaConsumer;
    let resolved = false;
    const done = disconnectClient(consumer).then(() => (resolved = true));
    await vi.advanceTimersByTimeAsync(KAFKA_CLOSE_BUDGET_MS.leaveGroup - 1);
    expect(resolved).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await done;
    expect(resolved).toBe(true);
  });

  it('resolves as soon as the close returns, leaving no timer behind', async () => {
    vi.useFakeTimers();
    const consumer = { isConnected: () => true, disconnect: (callback: () => void) => callback() } as unknown as RdKafka.KafkaConsumer;
    await disconnectClient(consumer);
    expect(vi.getTimerCount()).toBe(0);
  });
});
