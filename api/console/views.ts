/**
 * The console's URL contract, shared by the API (which serves the page at these paths) and the
 * browser code (which routes on them): every view is `/console/<view>`, its state in the query
 * string, so a view's URL is a deep link and the history (back, forward) is the browser's own.
 * `/console` alone is the `now` view.
 */

export const CONSOLE_PATH = '/console';

export const CONSOLE_VIEWS = ['now', 'low-stock', 'stock', 'warehouse', 'product', 'movement', 'dead-letters'] as const;

export type ConsoleView = (typeof CONSOLE_VIEWS)[number];

export function isConsoleView(name: string): name is ConsoleView {
  return (CONSOLE_VIEWS as readonly string[]).includes(name);
}
