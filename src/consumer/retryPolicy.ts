/** Pure backoff decisions; the delays come from HERALD_RETRY_DELAYS. */

/** Delay before attempt `failedAttempts + 1`, or undefined when the attempts are used up. */
export function retryDelayAfter(
  failedAttempts: number,
  delays: readonly number[],
  random = Math.random,
): number | undefined {
  const base = delays[failedAttempts - 1];
  if (base === undefined) return undefined;
  // Jitter downwards only (80-100 %), so a step never waits longer than its queue's TTL.
  return Math.round(base * (0.8 + 0.2 * random()));
}

/** Total number of send attempts a delivery gets. */
export const maxAttempts = (delays: readonly number[]): number => delays.length + 1;

/**
 * Delays of the retry queues: every backoff step plus a few short ones for waits that are not failures
 * (a robot's per-minute budget). A wait uses the smallest queue at least as long as it.
 */
export function retryQueueDelays(delays: readonly number[]): number[] {
  return [...new Set([1000, 5000, 15_000, 60_000, ...delays])].sort((a, b) => a - b);
}

export function queueDelayFor(waitMs: number, queueDelays: readonly number[]): number {
  return queueDelays.find((d) => d >= waitMs) ?? queueDelays[queueDelays.length - 1] ?? waitMs;
}
