import type { FastifyBaseLogger } from 'fastify';
import type { InboxStore } from '../inbox/inboxStore';

export interface DeliveredMarker {
  add(deliveryId: string): void;
  flush(): Promise<void>;
}

/** Batches `delivered` updates: one UPDATE per short window instead of one per pushed item. */
export function createDeliveredMarker(
  inbox: InboxStore,
  log: FastifyBaseLogger,
  opts: { delayMs?: number; maxBatch?: number } = {},
): DeliveredMarker {
  const delayMs = opts.delayMs ?? 100;
  const maxBatch = opts.maxBatch ?? 500;
  let batch = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();

  function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const ids = [...batch];
    batch = new Set();
    if (ids.length > 0) {
      inFlight = inFlight
        .then(() => inbox.markDelivered(ids))
        .then(
          () => undefined,
          (err: unknown) =>
            log.warn({ err, count: ids.length }, 'gateway: marking deliveries delivered failed'),
        );
    }
    return inFlight;
  }

  return {
    add(deliveryId) {
      batch.add(deliveryId);
      if (batch.size >= maxBatch) void flush();
      else if (!timer) {
        timer = setTimeout(() => void flush(), delayMs);
        timer.unref();
      }
    },
    flush,
  };
}
