import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { Page, StatusChange } from './api-types.js';
import { statusFeed, type FeedSnapshot } from './live.js';

/**
 * Loading data in views: every load can be cancelled (a newer one, or leaving the view, aborts
 * it), and every state a person can see is explicit: loading, ready, failed with the error.
 */

export type Resource<T> = { state: 'loading' } | { state: 'ready'; data: T } | { state: 'error'; error: Error };

const isAbort = (error: unknown): boolean => error instanceof DOMException && error.name === 'AbortError';

/** Loads once per change of `deps`; `reload` loads again. */
export function useResource<T>(load: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[]): [Resource<T>, () => void] {
  const [resource, setResource] = useState<Resource<T>>({ state: 'loading' });
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    const controller = new AbortController();
    setResource({ state: 'loading' });
    load(controller.signal).then(
      (data) => setResource({ state: 'ready', data }),
      (error: unknown) => {
        if (!isAbort(error)) setResource({ state: 'error', error: error instanceof Error ? error : new Error(String(error)) });
      },
    );
    return () => controller.abort();
    // Runs again when the caller's `deps` change, as useEffect would with them.
  }, [...deps, attempt]);
  return [resource, useCallback(() => setAttempt((n) => n + 1), [])];
}

export interface Polled<T> {
  data?: T;
  /** The last refresh's error; the last good data stays shown beside it. */
  error?: Error;
  /** When `data` was read (epoch ms). */
  updatedAt?: number;
  refresh: () => void;
}

/**
 * Loads now and then every `intervalMs` after the previous load ended (never two at once), paused
 * while the page is hidden; `refresh()` loads at once.
 */
export function usePolling<T>(load: (signal: AbortSignal) => Promise<T>, intervalMs: number): Polled<T> {
  const [state, setState] = useState<Omit<Polled<T>, 'refresh'>>({});
  const wake = useRef<() => void>(() => undefined);
  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let running = false;
    const tick = async () => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      if (running || controller.signal.aborted) return;
      running = true;
      try {
        const data = await load(controller.signal);
        setState({ data, updatedAt: Date.now() });
      } catch (error) {
        if (!isAbort(error)) setState((previous) => ({ ...previous, error: error instanceof Error ? error : new Error(String(error)) }));
      } finally {
        running = false;
      }
      if (!controller.signal.aborted && !document.hidden) timer = setTimeout(() => void tick(), intervalMs);
    };
    const onVisible = () => {
      if (!document.hidden) void tick();
    };
    wake.current = () => void tick();
    document.addEventListener('visibilitychange', onVisible);
    void tick();
    return () => {
      controller.abort();
      if (timer !== undefined) clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
    // One loader polled for the component's life.
  }, []);
  return { ...state, refresh: useCallback(() => wake.current(), []) };
}

export interface Paged<T> {
  state: 'loading' | 'ready' | 'error';
  items: T[];
  error?: Error;
  /** True while more pages follow. */
  more: boolean;
  loadingMore: boolean;
  loadMore: () => void;
  retry: () => void;
  /** Changes the loaded rows in place (live updates). */
  setItems: (update: (items: T[]) => T[]) => void;
}

/** A keyset-paginated list: the first page per change of `deps`, further pages on demand. */
export function usePaged<T, P extends Page<T> = Page<T>>(
  load: (cursor: string | undefined, signal: AbortSignal) => Promise<P>,
  deps: readonly unknown[],
  onFirstPage?: (page: P) => void,
): Paged<T> {
  const [state, setState] = useState<Omit<Paged<T>, 'loadMore' | 'retry' | 'setItems'>>({ state: 'loading', items: [], more: false, loadingMore: false });
  const cursor = useRef<string | null>(null);
  const controller = useRef<AbortController | undefined>(undefined);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const abort = new AbortController();
    controller.current = abort;
    setState({ state: 'loading', items: [], more: false, loadingMore: false });
    load(undefined, abort.signal).then(
      (page) => {
        cursor.current = page.nextCursor;
        onFirstPage?.(page);
        setState({ state: 'ready', items: page.items, more: page.nextCursor !== null, loadingMore: false });
      },
      (error: unknown) => {
        if (!isAbort(error)) setState({ state: 'error', items: [], error: error as Error, more: false, loadingMore: false });
      },
    );
    return () => abort.abort();
    // Runs again when the caller's `deps` change, as useEffect would with them.
  }, [...deps, attempt]);

  const loadMore = useCallback(() => {
    const signal = controller.current?.signal;
    if (!cursor.current || !signal) return;
    setState((s) => ({ ...s, loadingMore: true, error: undefined }));
    load(cursor.current, signal).then(
      (page) => {
        cursor.current = page.nextCursor;
        setState((s) => ({ ...s, items: [...s.items, ...page.items], more: page.nextCursor !== null, loadingMore: false }));
      },
      (error: unknown) => {
        if (!isAbort(error)) setState((s) => ({ ...s, loadingMore: false, error: error as Error }));
      },
    );
    // The loader of the current deps.
  }, [...deps]);

  return {
    ...state,
    loadMore,
    retry: useCallback(() => setAttempt((n) => n + 1), []),
    setItems: useCallback((update: (items: T[]) => T[]) => setState((s) => ({ ...s, items: update(s.items) })), []),
  };
}

/** The live feed's snapshot; `onFresh` hears each burst of new changes. */
export function useStatusFeed(onFresh?: (fresh: readonly StatusChange[]) => void): FeedSnapshot {
  const [snapshot, setSnapshot] = useState<FeedSnapshot>({ state: 'connecting', changes: [], history: false });
  const listener = useRef(onFresh);
  listener.current = onFresh;
  useEffect(
    () =>
      statusFeed.subscribe((next, fresh) => {
        setSnapshot(next);
        if (fresh.length > 0) listener.current?.(fresh);
      }),
    [],
  );
  return snapshot;
}
