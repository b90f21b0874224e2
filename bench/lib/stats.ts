/** The p-th percentile (0..100) of the samples, nearest-rank; NaN when there are none. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

export const round = (n: number, digits = 0): number => {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
};

/** Throws (the scenario fails loudly) when what arrived is not what was sent. */
export function expectCount(what: string, got: number, expected: number): void {
  if (got !== expected) throw new Error(`${what}: expected ${expected}, counted ${got}`);
}

/** Polls `check` every `everyMs` until it returns a value or `timeoutMs` runs out; then throws with `describe()`. */
export async function waitUntil<T>(
  check: () => Promise<T | undefined>,
  opts: { timeoutMs: number; everyMs?: number; describe: () => Promise<string> | string },
): Promise<T> {
  const until = Date.now() + opts.timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out after ${opts.timeoutMs} ms: ${await opts.describe()}`);
    await new Promise((r) => setTimeout(r, opts.everyMs ?? 100));
  }
}
