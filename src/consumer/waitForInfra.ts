import { isTransientInfraError } from '../db/transientErrors';

/**
 * Runs `fn`; while it fails because the database is away, waits (1 s doubling to 15 s) and runs it again.
 * Gives up only when `stopping()` turns true, rethrowing so the caller leaves its message unacked.
 */
export async function retryWhileInfraDown<T>(
  fn: () => Promise<T>,
  opts: { stopping: () => boolean; onWait?: (err: unknown, delayMs: number) => void },
): Promise<T> {
  let delay = 1000;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!isTransientInfraError(err) || opts.stopping()) throw err;
      opts.onWait?.(err, delay);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 15_000);
    }
  }
}
