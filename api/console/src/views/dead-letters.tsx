import { useState } from 'preact/hooks';
import { api } from '../api.js';
import type { DeadLetter } from '../api-types.js';
import { Empty, Failure, Loading, MoreButton, Time } from '../components.js';
import { formatCount, reasonLabel } from '../format.js';
import { usePaged, useResource } from '../hooks.js';
import { navigate } from '../navigation.js';
import { href } from '../route.js';

/**
 * Dead letters: the messages refused as invalid, in arrival order, with the reason, the detail
 * and where they were in Kafka (topic, partition, offset); each payload can be opened as text or
 * as base64 (binary payloads), at most the first 4 KiB the API keeps.
 */

const PAGE = 50;

function Payload({ letter }: { letter: DeadLetter }) {
  const [base64, setBase64] = useState(false);
  const cut = letter.payloadBytes > 4096;
  return (
    <details class="payload">
      <summary>
        Payload ({formatCount(letter.payloadBytes)} bytes{cut ? ', first 4 KiB kept' : ''})
      </summary>
      <p>
        <label>
          <input type="checkbox" checked={base64} onChange={() => setBase64(!base64)} /> show as base64
        </label>
      </p>
      <pre data-payload>{base64 ? letter.payloadBase64 : letter.payload || '(empty)'}</pre>
    </details>
  );
}

function Letter({ letter }: { letter: DeadLetter }) {
  return (
    <li class="letter" data-dead-letter={letter.id}>
      <p class="letter-head">
        <span class="reason">{reasonLabel(letter.reason)}</span> <span class="muted">#{letter.id}</span> <Time iso={letter.receivedAt} />
      </p>
      <p class="detail">{letter.detail}</p>
      <p class="position">
        <span>
          topic <code>{letter.topic}</code>
        </span>{' '}
        <span>
          partition <code>{letter.partition}</code>
        </span>{' '}
        <span>
          offset <code>{letter.offset}</code>
        </span>
        {letter.messageKey !== null && (
          <span>
            {' '}
            key <code>{letter.messageKey || '(empty)'}</code>
          </span>
        )}
      </p>
      <Payload letter={letter} />
    </li>
  );
}

export function DeadLettersView({ params }: { params: URLSearchParams }) {
  const reason = params.get('reason') ?? '';
  const [stats] = useResource((signal) => api.stats(signal), []);
  const list = usePaged<DeadLetter>((cursor, signal) => api.deadLetters({ reason: reason || undefined, cursor, limit: PAGE }, signal), [reason]);
  const reasons = stats.state === 'ready' ? Object.entries(stats.data.deadLetters.byReason) : [];
  if (reason && !reasons.some(([name]) => name === reason)) reasons.push([reason, 0]);
  return (
    <>
      <div class="field">
        <label for="reason">Reason</label>
        <select id="reason" value={reason} onChange={(event) => navigate(href('dead-letters', { reason: event.currentTarget.value }))}>
          <option value="">
            All reasons{stats.state === 'ready' ? ` (${formatCount(stats.data.deadLetters.total)})` : ''}
          </option>
          {reasons.map(([name, count]) => (
            <option key={name} value={name}>
              {reasonLabel(name)}
              {count ? ` (${formatCount(count)})` : ''}
            </option>
          ))}
        </select>
      </div>
      {list.state === 'loading' ? (
        <Loading what="dead letters" />
      ) : list.state === 'error' ? (
        <Failure what="dead letters" error={list.error!} retry={list.retry} />
      ) : list.items.length === 0 ? (
        <Empty>{reason ? `No message was dead-lettered for ${reasonLabel(reason)}.` : 'No dead letters: every message so far was valid.'}</Empty>
      ) : (
        <>
          <p class="muted">Oldest first, as they arrived.</p>
          <ol class="letters">
            {list.items.map((letter) => (
              <Letter key={letter.id} letter={letter} />
            ))}
          </ol>
          <MoreButton more={list.more} loading={list.loadingMore} error={list.error} onClick={list.loadMore} what="dead letters" />
        </>
      )}
    </>
  );
}
