/**
 * A progress line on stderr: rewritten in place on a terminal, a plain line every `everyMs` when
 * stderr is a file or a pipe (CI logs), so that every long run shows it is alive.
 */
export interface Progress {
  /** Reports `done` units (of `total`, when known) and an optional trailing note. */
  update(done: number, note?: string): void;
  /** Prints the final state (`done` units) and ends the line. */
  finish(done: number, note?: string): void;
}

export interface ProgressOptions {
  label: string;
  total?: number;
  unit?: string;
  everyMs?: number;
  stream?: NodeJS.WriteStream;
}

export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const tty = stream.isTTY === true;
  const everyMs = options.everyMs ?? (tty ? 200 : 5000);
  const unit = options.unit ?? 'msg';
  const started = performance.now();
  let lastPrint = 0;
  let lastDone = 0;
  let lastAt = started;
  let rate = 0;

  const render = (done: number, note: string | undefined, now: number): string => {
    const elapsed = (now - started) / 1000;
    const parts = [options.label];
    if (options.total) {
      const share = Math.min(1, done / options.total);
      const width = 24;
      const filled = Math.round(share * width);
      parts.push(`[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(share * 100).toFixed(0).padStart(3)}%`);
      parts.push(`${formatCount(done)}/${formatCount(options.total)} ${unit}`);
    } else {
      parts.push(`${formatCount(done)} ${unit}`);
    }
    parts.push(`${formatCount(rate)} ${unit}/s`, `${elapsed.toFixed(1)} s`);
    if (note) parts.push(note);
    return parts.join('  ');
  };

  return {
    update(done, note) {
      const now = performance.now();
      if (now - lastPrint < everyMs) return;
      // Rate over the last interval, so a stall shows at once rather than averaged away.
      rate = ((done - lastDone) * 1000) / Math.max(1, now - lastAt);
      lastDone = done;
      lastAt = now;
      lastPrint = now;
      const line = render(done, note, now);
      stream.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
    },
    finish(done, note) {
      const now = performance.now();
      // The final figure is the average over the whole run.
      rate = (done * 1000) / Math.max(1, now - started);
      const line = render(done, note, now);
      stream.write(tty ? `\r\x1b[2K${line}\n` : `${line}\n`);
    },
  };
}

/** 1234567 → "1.23M", 12345 → "12.3k". */
export function formatCount(n: number): string {
  const abs = Math.abs(n);
  if (abs >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (abs >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return Math.round(n).toString();
}
