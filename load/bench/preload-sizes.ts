/**
 * `--preload 0,5M,20M`: the ledger sizes `make profile-merge` measures, in order. A size is a
 * whole number of rows, optionally with a k or M suffix (thousands, millions).
 */
export function parsePreloadSizes(text: string | undefined): number[] {
  if (!text) throw new Error('--preload needs a size: --preload N[,N...] (e.g. 0,5M,20M)');
  return text.split(',').map((part) => {
    const match = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(part.trim());
    const rows = match ? Number(match[1]) * ({ k: 1e3, m: 1e6 }[match[2]!.toLowerCase()] ?? 1) : NaN;
    if (!Number.isInteger(rows)) throw new Error(`--preload: not a row count: '${part}' (use e.g. 5000000 or 5M)`);
    return rows;
  });
}
