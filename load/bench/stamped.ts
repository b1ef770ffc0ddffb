import type { PlannedMessage } from '../generator/plan.js';

/**
 * Planned messages serialised once, before the measured run, each with the place of its envelope
 * `time` digits, so sending one costs a 13-digit write instead of a copy of the envelope, a
 * JSON.stringify and a Buffer (`make bench`'s process spent about 32 µs per message, issue 11).
 */

/** Written where the send time goes: 13 digits, like every epoch millisecond from 2001 to 2286. */
const PLACEHOLDER_MS = 1_000_000_000_000;
const TIME_DIGITS = String(PLACEHOLDER_MS).length;

export interface StampedMessage {
  /** The message as sent; `value` is rewritten in place by {@link stamp}. */
  message: PlannedMessage;
  /** The envelope's message id (for freshness samples), when the message is stamped. */
  id: string | undefined;
  /** Byte offset of the `time` digits in `message.value`, or -1: sent as planned (invalid messages, producer duplicates). */
  timeAt: number;
}

/** Serialises the valid messages with a placeholder time; the others keep their planned bytes. */
export function prepareStamped(messages: readonly PlannedMessage[]): StampedMessage[] {
  return messages.map((m) => {
    if (m.kind === 'invalid' || m.kind === 'duplicate' || !m.envelope) return { message: m, id: undefined, timeAt: -1 };
    const json = JSON.stringify({ ...m.envelope, time: PLACEHOLDER_MS });
    const field = `"time":${PLACEHOLDER_MS}`;
    const at = json.indexOf(field);
    if (at < 0 || json.indexOf(field, at + 1) >= 0) throw new Error(`no single time field in ${json}`);
    // The envelope is ASCII except where a field holds other text; the offset must count bytes.
    const timeAt = Buffer.byteLength(json.slice(0, at + field.length - TIME_DIGITS));
    return { message: { ...m, value: Buffer.from(json) }, id: m.envelope.id, timeAt };
  });
}

/** Writes `nowMs` as the message's envelope time (a no-op for messages sent as planned). */
export function stamp(stamped: StampedMessage, nowMs: number): void {
  if (stamped.timeAt < 0) return;
  if (!(nowMs >= PLACEHOLDER_MS && nowMs < PLACEHOLDER_MS * 10)) throw new Error(`cannot stamp ${nowMs}: not ${TIME_DIGITS} digits`);
  // Digit by digit from the right: 13 byte stores cost less than a call into Buffer.write.
  const bytes = stamped.message.value;
  let rest = nowMs;
  for (let i = stamped.timeAt + TIME_DIGITS - 1; i >= stamped.timeAt; i--) {
    bytes[i] = 48 + (rest % 10); // '0' + digit
    rest = Math.floor(rest / 10);
  }
}
