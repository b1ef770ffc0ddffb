import { parseRoute } from './route.js';

/**
 * Moving between views without reloading: history.pushState for links and forms, popstate for
 * back and forward, and one notification for the app to render the new location.
 */

const listeners = new Set<() => void>();

/** Calls `listener` after every navigation (links, forms, back and forward). */
export function onNavigate(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

addEventListener('popstate', () => listeners.forEach((listener) => listener()));

/** Goes to `url` inside the console; `replace` for a change that should not add a history entry. */
export function navigate(url: string, options: { replace?: boolean } = {}): void {
  if (url === location.pathname + location.search) return;
  if (options.replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  listeners.forEach((listener) => listener());
}

/**
 * Click handler for the whole page: a plain left click on a link inside the console navigates
 * without reloading; modified clicks (new tab, download) and other links keep their behaviour.
 */
export function interceptLinks(event: MouseEvent): void {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const link = (event.target as Element | null)?.closest?.('a');
  if (!link || link.target || link.hasAttribute('download') || link.origin !== location.origin) return;
  if (!parseRoute(link.pathname, link.search)) return;
  event.preventDefault();
  navigate(link.pathname + link.search);
}
