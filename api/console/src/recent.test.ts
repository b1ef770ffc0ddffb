import { describe, expect, it } from 'vitest';
import { readRecent, RECENT_KEY, RECENT_MAX, rememberRecent } from './recent.js';

function memoryStore(initial: Record<string, string> = {}) {
  const data = new Map(Object.entries(initial));
  return { getItem: (key: string) => data.get(key) ?? null, setItem: (key: string, value: string) => void data.set(key, value), data };
}

describe('recent stock lookups', () => {
  it('keeps the newest first, each pair once, at most RECENT_MAX', () => {
    const store = memoryStore();
    for (let i = 0; i < RECENT_MAX + 3; i++) rememberRecent({ warehouseId: `w${i}`, productId: 'p' }, store);
    rememberRecent({ warehouseId: 'w5', productId: 'p' }, store);
    const list = readRecent(store);
    expect(list).toHaveLength(RECENT_MAX);
    expect(list[0]).toEqual({ warehouseId: 'w5', productId: 'p' });
    expect(list.filter((p) => p.warehouseId === 'w5')).toHaveLength(1);
    expect(list[1]).toEqual({ warehouseId: `w${RECENT_MAX + 2}`, productId: 'p' });
  });

  it('reads nothing from a missing, corrupt or foreign value, and survives a store that refuses writes', () => {
    expect(readRecent(undefined)).toEqual([]);
    expect(readRecent(memoryStore({ [RECENT_KEY]: '{not json' }))).toEqual([]);
    expect(readRecent(memoryStore({ [RECENT_KEY]: '[{"warehouseId":1},{"warehouseId":"w","productId":"p"}]' }))).toEqual([{ warehouseId: 'w', productId: 'p' }]);
    const full = { getItem: () => null, setItem: () => { throw new Error('QuotaExceededError'); } };
    expect(rememberRecent({ warehouseId: 'w', productId: 'p' }, full)).toEqual([{ warehouseId: 'w', productId: 'p' }]);
  });
});
