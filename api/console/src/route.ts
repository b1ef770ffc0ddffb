import { CONSOLE_PATH, isConsoleView, type ConsoleView } from '../views.js';

/**
 * Routes on real paths: a route is a view and its parameters, read from and written to
 * `/console/<view>?<params>`, so every view is a deep link and back/forward are the browser's
 * (navigation.ts moves between them). Pure functions, tested in route.test.ts.
 */

export interface Route {
  view: ConsoleView;
  params: URLSearchParams;
}

/** The route of a location; undefined for a path that is no view of the console. */
export function parseRoute(pathname: string, search: string): Route | undefined {
  const rest = pathname.replace(/\/+$/, '');
  if (rest === CONSOLE_PATH) return { view: 'now', params: new URLSearchParams(search) };
  const prefix = `${CONSOLE_PATH}/`;
  if (!rest.startsWith(prefix)) return undefined;
  const name = rest.slice(prefix.length);
  return isConsoleView(name) ? { view: name, params: new URLSearchParams(search) } : undefined;
}

/** The URL of a view; empty parameters are left out, so equal states have equal URLs. */
export function href(view: ConsoleView, params: Record<string, string | undefined | null> = {}): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value) query.set(name, value);
  const text = query.toString();
  const path = view === 'now' ? CONSOLE_PATH : `${CONSOLE_PATH}/${view}`;
  return text ? `${path}?${text}` : path;
}
