import type { ComponentType } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ConsoleView } from '../views.js';
import { onNavigate } from './navigation.js';
import { href, parseRoute, type Route } from './route.js';
import { DeadLettersView } from './views/dead-letters.js';
import { LowStockView } from './views/low-stock.js';
import { MovementView } from './views/movement.js';
import { NowView } from './views/now.js';
import { ProductView } from './views/product.js';
import { StockView } from './views/stock.js';
import { WarehouseView } from './views/warehouse.js';

/**
 * The console's frame: a skip link, the navigation, and the view of the current URL. On every
 * navigation the view's heading takes the focus (so keyboard and screen-reader users land on the
 * new content) and the document title names the view.
 */

interface ViewSpec {
  title: string;
  /** The navigation's label, when it differs from the title. */
  nav?: string;
  component: ComponentType<{ params: URLSearchParams }>;
}

const VIEWS: Record<ConsoleView, ViewSpec> = {
  now: { title: 'Now', component: NowView },
  'low-stock': { title: 'Low stock', component: LowStockView },
  stock: { title: 'Stock', component: StockView },
  warehouse: { title: 'Warehouse', component: WarehouseView },
  product: { title: 'Product', component: ProductView },
  movement: { title: 'Movement', component: MovementView },
  'dead-letters': { title: 'Dead letters', component: DeadLettersView },
};

function currentRoute(): Route {
  return parseRoute(location.pathname, location.search) ?? { view: 'now', params: new URLSearchParams() };
}

export function App() {
  const [route, setRoute] = useState(currentRoute);
  const heading = useRef<HTMLHeadingElement>(null);
  const navigated = useRef(false);
  useEffect(
    () =>
      onNavigate(() => {
        navigated.current = true;
        setRoute(currentRoute());
      }),
    [],
  );
  const spec = VIEWS[route.view];
  useEffect(() => {
    document.title = `${spec.title} · Console · Warehouse stock monitor`;
    if (navigated.current) heading.current?.focus();
  }, [route]);
  const View = spec.component;
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <p class="brand">
          <a href={href('now')}>Warehouse stock monitor</a>
        </p>
        <nav aria-label="Views">
          <ul>
            {(Object.entries(VIEWS) as [ConsoleView, ViewSpec][]).map(([view, { title, nav }]) => (
              <li key={view}>
                <a href={href(view)} aria-current={view === route.view ? 'page' : undefined}>
                  {nav ?? title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        <h1 ref={heading} tabIndex={-1} data-view={route.view}>
          {spec.title}
        </h1>
        <View key={route.view} params={route.params} />
      </main>
      <footer class="bottom">
        Everything here comes from the public API: <a href="/docs">/docs</a>, <a href="/openapi.json">/openapi.json</a>.
      </footer>
    </>
  );
}
