import { useRef, useState } from 'preact/hooks';
import { api } from '../api.js';
import type { Stats, StatusChange } from '../api-types.js';
import { describeError, Empty, Failure, IdLink, Loading, productHref, StatusBadge, stockHref, Time, warehouseHref } from '../components.js';
import { formatCount, formatInstant, formatTime, plural } from '../format.js';
import { usePolling, useStatusFeed } from '../hooks.js';
import type { FeedSnapshot } from '../live.js';
import { href } from '../route.js';

/**
 * Now: the headline figures (GET /api/stats, polled, and refreshed when a status change arrives)
 * and the live feed of status changes (the SSE stream).
 */

/** The API caches stats for API_CACHE_TTL_MS (1 s by default); polling faster shows nothing new. */
const STATS_POLL_MS = 2000;
/** Changes the overview lists (the feed keeps FEED_SIZE for the other views). */
const SHOWN_CHANGES = 30;
/** Screen readers hear about new changes at most this often, as a count, not one by one. */
const ANNOUNCE_EVERY_MS = 15_000;

function Figure({ name, label, value, to, note }: { name: string; label: string; value: number; to?: string; note?: string }) {
  return (
    <div class="figure" data-figure={name}>
      <dt>{label}</dt>
      <dd>
        <span class="value">{to ? <a href={to}>{formatCount(value)}</a> : formatCount(value)}</span>
        {note && <span class="note">{note}</span>}
      </dd>
    </div>
  );
}

function Figures({ stats }: { stats: Stats }) {
  return (
    <dl class="figures">
      <Figure name="stock-rows" label="Stock rows" value={stats.stockRows} note={`${formatCount(stats.warehouses)} warehouses · ${formatCount(stats.products)} products`} />
      <Figure name="low" label="Low" value={stats.stockRowsByStatus.low} to={href('low-stock', { status: 'low' })} />
      <Figure name="out-of-stock" label="Out of stock" value={stats.stockRowsByStatus.out_of_stock} to={href('low-stock', { status: 'out_of_stock' })} />
      <Figure name="in-transit" label="Movements in transit" value={stats.movementsInTransit} />
      <Figure name="status-changes-today" label="Status changes today" value={stats.statusChangesToday} note="since 00:00 UTC" />
      <Figure name="dead-letters" label="Dead letters" value={stats.deadLetters.total} to={href('dead-letters')} />
    </dl>
  );
}

function FeedState({ feed }: { feed: FeedSnapshot }) {
  const text =
    feed.state === 'live'
      ? 'Live: new changes appear at the top as the processor commits them.'
      : feed.state === 'connecting'
        ? 'Connecting to the live stream…'
        : `Reconnecting: the stream dropped${feed.lostAt ? ` at ${formatTime(new Date(feed.lostAt).toISOString())}` : ''}; changes made meanwhile follow once it is back.`;
  return (
    <p class={`feed-state ${feed.state}`} data-feed-state={feed.state} role="status">
      <span class="dot" aria-hidden="true" />
      {text}
    </p>
  );
}

/** One change; `fresh` when it arrived live (it flashes once, the opening ones do not). */
export function ChangeItem({ change, fresh = false }: { change: StatusChange; fresh?: boolean }) {
  return (
    <li class={fresh ? 'change fresh' : 'change'} data-change-id={change.id}>
      <time dateTime={change.changedAt} title={formatInstant(change.changedAt)}>
        {formatTime(change.changedAt)}
      </time>
      <span class="transition">
        <StatusBadge status={change.previousStatus} /> <span aria-label="to">→</span> <StatusBadge status={change.status} />
      </span>
      <span class="quantity">{formatCount(change.quantity)} left</span>
      <span class="where">
        warehouse <IdLink id={change.warehouseId} to={warehouseHref(change.warehouseId)} /> product <IdLink id={change.productId} to={productHref(change.productId)} />{' '}
        <a href={stockHref(change.warehouseId, change.productId)}>history</a>
      </span>
    </li>
  );
}

export function NowView() {
  const stats = usePolling((signal) => api.stats(signal), STATS_POLL_MS);
  const [fresh, setFresh] = useState<ReadonlySet<number>>(new Set());
  const [announcement, setAnnouncement] = useState('');
  const unannounced = useRef({ count: 0, at: 0 });
  const feed = useStatusFeed((changes) => {
    stats.refresh();
    setFresh(new Set(changes.map((change) => change.id)));
    const pending = unannounced.current;
    pending.count += changes.length;
    if (Date.now() - pending.at >= ANNOUNCE_EVERY_MS) {
      setAnnouncement(`${plural(pending.count, 'new status change')}.`);
      unannounced.current = { count: 0, at: Date.now() };
    }
  });
  return (
    <>
      <section aria-labelledby="figures-title">
        <h2 id="figures-title">Headline figures</h2>
        {stats.data ? (
          <>
            <Figures stats={stats.data} />
            <p class="muted">
              {formatCount(stats.data.events.total)} events in the ledger ({formatCount(stats.data.events.applied)} applied, {formatCount(stats.data.events.rejected)} rejected) · last
              stored <Time iso={stats.data.lastReceivedAt} /> · figures read at {formatTime(new Date(stats.updatedAt ?? Date.now()).toISOString())}
            </p>
            {stats.error && <p class="warning">Could not refresh the figures: {describeError(stats.error)} Showing the last ones read; retrying.</p>}
          </>
        ) : stats.error ? (
          <Failure what="the figures" error={stats.error} retry={stats.refresh} />
        ) : (
          <Loading what="the figures" />
        )}
      </section>
      <section aria-labelledby="feed-title">
        <h2 id="feed-title">Status changes</h2>
        <FeedState feed={feed} />
        <p class="visually-hidden" aria-live="polite">
          {announcement}
        </p>
        {feed.changes.length === 0 ? (
          <Empty>{feed.state === 'connecting' ? 'Waiting for the first changes…' : 'No status changes yet. They appear here as the processor commits them.'}</Empty>
        ) : (
          <ol class="feed" aria-label="Status changes, newest first">
            {feed.changes.slice(0, SHOWN_CHANGES).map((change) => (
              <ChangeItem key={change.id} change={change} fresh={fresh.has(change.id)} />
            ))}
          </ol>
        )}
      </section>
    </>
  );
}
