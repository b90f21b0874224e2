export interface SlotOptions {
  /** Critical work: served before any other waiter, and may use the reserved slots. */
  critical?: boolean;
}

/**
 * A counting semaphore: at most `limit` calls of `run` are in progress at once, plus `reserved` more that
 * only critical calls may take (issue 15, urgent first). Critical waiters are served before the others,
 * each kind in arrival order, so a topic page queued for a channel cannot hold back an alert's send.
 */
export function createConcurrencyLimit(limit: number, reserved = 0) {
  let active = 0;
  const urgent: Array<() => void> = [];
  const normal: Array<() => void> = [];
  const release = () => {
    active--;
    const next = urgent.length ? urgent.shift() : active < limit ? normal.shift() : undefined;
    if (next) {
      active++;
      next();
    }
  };
  return async function run<T>(fn: () => Promise<T>, opts?: SlotOptions): Promise<T> {
    const critical = opts?.critical === true;
    if (active < (critical ? limit + reserved : limit)) active++;
    else await new Promise<void>((resolve) => (critical ? urgent : normal).push(resolve));
    try {
      return await fn();
    } finally {
      release();
    }
  };
}

/** The slots HERALD_CONCURRENCY_<CHANNEL> gets on top for critical sends: an eighth, at least one. */
export const reservedSlotsFor = (limit: number): number => Math.max(1, Math.ceil(limit / 8));

export type ConcurrencyLimit = ReturnType<typeof createConcurrencyLimit>;
