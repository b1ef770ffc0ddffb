import { describe, expect, it } from 'vitest';
import { CONSOLE_VIEWS } from '../views.js';
import { href, parseRoute } from './route.js';

describe('console routes', () => {
  it('reads /console as the overview and /console/<view> as that view, with its parameters', () => {
    expect(parseRoute('/console', '')?.view).toBe('now');
    expect(parseRoute('/console/', '')?.view).toBe('now');
    const stock = parseRoute('/console/stock', '?warehouseId=a&productId=b');
    expect(stock?.view).toBe('stock');
    expect(stock?.params.get('warehouseId')).toBe('a');
    expect(stock?.params.get('productId')).toBe('b');
  });

  it('reads no route from other paths', () => {
    expect(parseRoute('/console/nope', '')).toBeUndefined();
    expect(parseRoute('/console/assets/main.js', '')).toBeUndefined();
    expect(parseRoute('/api/stats', '')).toBeUndefined();
    expect(parseRoute('/consoles', '')).toBeUndefined();
  });

  it('writes URLs that read back as the same route, leaving empty parameters out', () => {
    for (const view of CONSOLE_VIEWS) {
      const url = new URL(href(view, { a: 'x y', b: '', c: undefined }), 'http://h');
      const route = parseRoute(url.pathname, url.search);
      expect(route?.view).toBe(view);
      expect([...(route?.params ?? [])]).toEqual([['a', 'x y']]);
    }
    expect(href('now')).toBe('/console');
    expect(href('movement', { movementId: 'm' })).toBe('/console/movement?movementId=m');
  });
});
