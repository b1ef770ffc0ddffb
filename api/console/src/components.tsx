import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError } from './api.js';
import type { StockStatus } from './api-types.js';
import { formatInstant, isUuid, shortId, STATUS_LABELS } from './format.js';
import { navigate } from './navigation.js';
import { href } from './route.js';

/** The pieces every view is made of: the three states, ids, times, statuses, forms. */

export function Loading({ what }: { what: string }) {
  return (
    <p class="state loading" role="status">
      Loading {what}…
    </p>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="state empty">{children}</p>;
}

/** What went wrong, in words a person can act on. */
export function describeError(error: Error): string {
  if (!(error instanceof ApiError)) return error.message;
  if (error.status === 0) return 'the API did not answer: it may be down or restarting, or the network is out.';
  if (error.status === 503) return `the API is unavailable (${error.detail}).`;
  if (error.status >= 500) return `the API failed (${error.status}); its log has the cause.`;
  return `${error.detail} (${error.status}).`;
}

export function Failure({ what, error, retry }: { what: string; error: Error; retry?: () => void }) {
  return (
    <div class="state error" role="alert">
      <p>
        Could not load {what}: {describeError(error)}
      </p>
      {retry && (
        <button type="button" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function StatusBadge({ status }: { status: StockStatus }) {
  return <span class={`badge ${status}`}>{STATUS_LABELS[status]}</span>;
}

/** An instant in local time, its exact UTC value on hover and to assistive technology. */
export function Time({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span class="muted">never</span>;
  return (
    <time dateTime={iso} title={iso}>
      {formatInstant(iso)}
    </time>
  );
}

/** An id as a link to its view; `short` shows its first block (the full id is the link's label). */
export function IdLink({ id, to, short = true }: { id: string; to: string; short?: boolean }) {
  return (
    <a class="id" href={to} title={id} aria-label={short ? id : undefined}>
      {short ? `${shortId(id)}…` : id}
    </a>
  );
}

export const warehouseHref = (warehouseId: string) => href('warehouse', { warehouseId });
export const productHref = (productId: string) => href('product', { productId });
export const stockHref = (warehouseId: string, productId: string) => href('stock', { warehouseId, productId });
export const movementHref = (movementId: string) => href('movement', { movementId });

export interface IdFieldSpec {
  name: string;
  label: string;
  value: string | null;
  /** An optional field may stay empty (a filter). */
  optional?: boolean;
}

/**
 * A form of id inputs (pasted UUIDs) that navigates to `view` with them, so the result has its
 * own URL. Each id is checked like the API checks it before anything is requested.
 */
export function IdForm({ view, fields, submit, extra = {} }: { view: Parameters<typeof href>[0]; fields: IdFieldSpec[]; submit: string; extra?: Record<string, string | null> }) {
  const [values, setValues] = useState<Record<string, string>>(() => Object.fromEntries(fields.map((f) => [f.name, f.value ?? ''])));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const onSubmit = (event: Event) => {
    event.preventDefault();
    const found: Record<string, string> = {};
    const cleaned: Record<string, string> = {};
    for (const field of fields) {
      const value = (values[field.name] ?? '').trim().toLowerCase();
      cleaned[field.name] = value;
      if (!value) {
        if (!field.optional) found[field.name] = `${field.label} is required.`;
      }
      else if (!isUuid(value)) found[field.name] = `${field.label} must be a UUID (8-4-4-4-12 hex digits), e.g. c1d70455-7e14-11e9-812a-70106f431230.`;
    }
    setErrors(found);
    if (Object.keys(found).length === 0) navigate(href(view, { ...extra, ...cleaned }));
  };
  return (
    <form class="ids" onSubmit={onSubmit} noValidate>
      {fields.map((field) => {
        const id = `field-${field.name}`;
        const error = errors[field.name];
        return (
          <div class="field" key={field.name}>
            <label for={id}>{field.label}</label>
            <input
              id={id}
              name={field.name}
              class="mono"
              value={values[field.name]}
              onInput={(event) => setValues({ ...values, [field.name]: event.currentTarget.value })}
              placeholder="00000000-0000-0000-0000-000000000000"
              autocomplete="off"
              spellcheck={false}
              aria-invalid={error ? true : undefined}
              aria-required={field.optional ? undefined : true}
              aria-describedby={error ? `${id}-error` : undefined}
            />
            {error && (
              <p class="field-error" id={`${id}-error`}>
                {error}
              </p>
            )}
          </div>
        );
      })}
      <button type="submit">{submit}</button>
    </form>
  );
}

/** A wide table that scrolls sideways on its own and can be reached by keyboard to do so. */
export function TableRegion({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div class="table-region" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}

/** "Load more" under a paged list, or its loading and error line. */
export function MoreButton({ more, loading, error, onClick, what }: { more: boolean; loading: boolean; error?: Error | undefined; onClick: () => void; what: string }) {
  if (error) return <Failure what={`more ${what}`} error={error} retry={onClick} />;
  if (!more) return null;
  return (
    <p>
      <button type="button" onClick={onClick} disabled={loading}>
        {loading ? `Loading more ${what}…` : `Load more ${what}`}
      </button>
    </p>
  );
}

/** A choice among a few filter values, as a row of radio buttons with one label. */
export function Choice<T extends string>({ legend, name, options, value, onChange }: { legend: string; name: string; options: [T, string][]; value: T; onChange: (value: T) => void }) {
  return (
    <fieldset class="choice">
      <legend>{legend}</legend>
      {options.map(([option, label]) => (
        <label key={option}>
          <input type="radio" name={name} value={option} checked={value === option} onChange={() => onChange(option)} />
          {label}
        </label>
      ))}
    </fieldset>
  );
}
