export interface BackoffOptions {
  /** The first wait after a connection is lost. */
  initialMs: number;
  /** The longest wait between attempts. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000 };

/**
 * The wait before reconnect attempt `attempt` (0 first): doubling up to `maxMs`, with "equal jitter" (half
 * fixed, half random) so the tabs of a restarted gateway do not all come back in the same instant.
 */
export function backoffDelay(attempt: number, opts: BackoffOptions, random = Math.random): number {
  const ceiling = Math.min(opts.maxMs, opts.initialMs * 2 ** Math.min(attempt, 30));
  return ceiling / 2 + (random() * ceiling) / 2;
}
