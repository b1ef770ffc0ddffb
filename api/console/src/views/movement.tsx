import { ApiError, api } from '../api.js';
import type { LedgerEvent, Movement, SideOutcome } from '../api-types.js';
import { Empty, Failure, IdForm, IdLink, Loading, productHref, stockHref, Time, warehouseHref } from '../components.js';
import { formatCount, formatDuration, isUuid, reasonLabel } from '../format.js';
import { useResource } from '../hooks.js';

/**
 * Movement: its two sides joined, how long it travelled and how much was lost, each side's effect
 * on stock, and what is odd about it (a side missing, products that differ, extra copies of a
 * side in the ledger) said in plain words.
 */

function Outcome({ stock }: { stock: SideOutcome | null }) {
  if (!stock) return <span class="muted">not in the ledger</span>;
  if (stock.outcome === 'applied') return <span class="outcome applied">applied to stock</span>;
  return (
    <span class="outcome rejected">
      rejected: {reasonLabel(stock.rejectReason ?? '')}
      {stock.rejectReason === 'insufficient_stock' && ' (the goods moved; the stock did not)'}
    </span>
  );
}

function Side({ title, side, productId }: { title: string; side: { warehouseId: string; at: string; quantity: number; stock: SideOutcome | null; messageId: string } | null; productId: string | null | undefined }) {
  return (
    <section class="side" aria-label={title} data-side={title.toLowerCase()}>
      <h3>{title}</h3>
      {side ? (
        <dl>
          <dt>Warehouse</dt>
          <dd>
            <IdLink id={side.warehouseId} to={warehouseHref(side.warehouseId)} short={false} />
          </dd>
          <dt>When</dt>
          <dd>
            <Time iso={side.at} />
          </dd>
          <dt>Quantity</dt>
          <dd>{formatCount(side.quantity)}</dd>
          {productId && (
            <>
              <dt>Product</dt>
              <dd>
                <IdLink id={productId} to={productHref(productId)} /> <a href={stockHref(side.warehouseId, productId)}>stock here</a>
              </dd>
            </>
          )}
          <dt>Stock</dt>
          <dd>
            <Outcome stock={side.stock} />
          </dd>
        </dl>
      ) : (
        <p class="missing">Not recorded.</p>
      )}
    </section>
  );
}

/** What a reader must not miss, one sentence each. */
function callouts(movement: Movement, ledger: readonly LedgerEvent[], now: number): string[] {
  const out: string[] = [];
  if (movement.state === 'in_transit' && movement.departure) {
    const seconds = (now - Date.parse(movement.departure.departedAt)) / 1000;
    out.push(seconds >= 0 ? `No arrival recorded: in transit for ${formatDuration(seconds, 2)} since the departure.` : 'No arrival recorded yet (the departure time is later than now).');
  }
  if (movement.state === 'arrived') out.push('Arrived without a known departure: no departure of this movement has been processed.');
  if (movement.productMismatch) out.push('Product mismatch: the departure and the arrival name different products; each side moved its own product\'s stock.');
  const copies = ledger.filter((row) => row.rejectReason === 'duplicate_movement_event');
  if (copies.length > 0) out.push(`${copies.length} more ${copies.length === 1 ? 'event claims' : 'events claim'} a side of this movement under another message id; rejected as duplicates.`);
  return out;
}

function MovementDetail({ movementId }: { movementId: string }) {
  const [resource, reload] = useResource(async (signal) => {
    const [movement, ledger] = await Promise.all([
      api.movement(movementId, signal).catch((error: unknown) => {
        if (error instanceof ApiError && error.status === 404) return null;
        throw error;
      }),
      api.events({ movementId, limit: 50 }, signal),
    ]);
    return { movement, ledger: ledger.items };
  }, [movementId]);
  if (resource.state === 'loading') return <Loading what="the movement" />;
  if (resource.state === 'error') return <Failure what="the movement" error={resource.error} retry={reload} />;
  const { movement, ledger } = resource.data;
  if (!movement) return <Empty>No event of movement {movementId} has been processed (yet). Check the id, or look again once its events are in.</Empty>;

  const loss = movement.quantityDifference;
  const lossText = loss === null ? 'unknown until both sides are in' : loss > 0 ? `${formatCount(loss)} lost (${((loss / (movement.quantitySent ?? 1)) * 100).toFixed(1)} % of what was sent)` : loss === 0 ? 'none: all of it arrived' : `none: ${formatCount(-loss)} more arrived than was sent`;
  const notes = callouts(movement, ledger, Date.now());
  const departureProduct = movement.departureProductId ?? (movement.departure ? movement.productId : null);
  const arrivalProduct = movement.arrivalProductId ?? (movement.arrival ? movement.productId : null);
  return (
    <>
      {notes.length > 0 && (
        <ul class="callouts" role="note">
          {notes.map((note) => (
            <li key={note}>{note}</li>
          ))}
        </ul>
      )}
      <dl class="summary" data-movement-summary>
        <div>
          <dt>State</dt>
          <dd data-state={movement.state}>{movement.state.replace('_', ' ')}</dd>
        </div>
        <div>
          <dt>Transit time</dt>
          <dd data-transit-seconds={movement.transitSeconds ?? ''}>{movement.transitSeconds === null ? 'unknown until both sides are in' : formatDuration(movement.transitSeconds)}</dd>
        </div>
        <div>
          <dt>Sent · received</dt>
          <dd>
            {movement.quantitySent === null ? '?' : formatCount(movement.quantitySent)} · {movement.quantityReceived === null ? '?' : formatCount(movement.quantityReceived)}
          </dd>
        </div>
        <div>
          <dt>Loss</dt>
          <dd data-loss={loss ?? ''}>{lossText}</dd>
        </div>
      </dl>
      <div class="sides">
        <Side
          title="Departure"
          productId={departureProduct}
          side={movement.departure && { warehouseId: movement.departure.warehouseId, at: movement.departure.departedAt, quantity: movement.departure.quantitySent, stock: movement.departure.stock, messageId: movement.departure.messageId }}
        />
        <Side
          title="Arrival"
          productId={arrivalProduct}
          side={movement.arrival && { warehouseId: movement.arrival.warehouseId, at: movement.arrival.arrivedAt, quantity: movement.arrival.quantityReceived, stock: movement.arrival.stock, messageId: movement.arrival.messageId }}
        />
      </div>
    </>
  );
}

export function MovementView({ params }: { params: URLSearchParams }) {
  const movementId = (params.get('movementId') ?? '').toLowerCase();
  return (
    <>
      <IdForm key={movementId} view="movement" submit="Show movement" fields={[{ name: 'movementId', label: 'Movement id', value: movementId }]} />
      {isUuid(movementId) ? (
        <MovementDetail key={movementId} movementId={movementId} />
      ) : movementId ? (
        <p class="state error" role="alert">
          The movement id in this link is not a UUID; correct it above.
        </p>
      ) : (
        <Empty>Paste a movement id to see both of its sides.</Empty>
      )}
    </>
  );
}
