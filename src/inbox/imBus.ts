import { EventEmitter } from 'node:events';
import { z } from 'zod';
import { CHANGE_NAMES } from './inboxChange';
import { inboxCountsSchema } from './inboxCounts';
import { inboxItemSchema } from './inboxItem';

/** What travels between the IM sender, the HTTP inbox, the inbox jobs and every gateway instance. */
export const imEventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('item'),
    userId: z.string(),
    item: inboxItemSchema.extend({ deliveryId: z.string().nullable() }),
    /** The user's counts as of the commit that stored (or woke) the item. */
    counts: inboxCountsSchema,
  }),
  z.object({
    type: z.literal('changed'),
    userId: z.string(),
    change: z.enum(CHANGE_NAMES),
    /** null: more items changed than a frame lists. */
    ids: z.array(z.string()).nullable(),
    counts: inboxCountsSchema,
    until: z.string().optional(),
    id: z.string().optional(),
    action: z.string().optional(),
  }),
  z.object({ type: z.literal('counts'), userId: z.string(), counts: inboxCountsSchema }),
]);

export type ImEvent = z.infer<typeof imEventSchema>;
export type ImEventHandler = (event: ImEvent) => void;

/**
 * A gateway's subscription: it receives the events of the users it holds. `hold` once per socket
 * (resolves once that user's events are routed here, so a snapshot read after it misses nothing),
 * `release` once per socket gone.
 */
export interface ImSubscription {
  hold(userId: string): Promise<void>;
  release(userId: string): void;
  close(): Promise<void>;
}

/** IM events to the gateway instances holding each user; publish only after the database commit. */
export interface ImBus {
  publish(event: ImEvent): Promise<void>;
  publishMany(events: ImEvent[]): Promise<void>;
  /**
   * Resolves once the subscription is live. `onResubscribed` runs each time it is live again after a
   * gap (a broker reconnect), in which events were missed.
   */
  subscribe(handler: ImEventHandler, opts?: { onResubscribed?: () => void }): Promise<ImSubscription>;
}

/** In-process bus for the embedded default (no AMQP_URL): one process holds every socket. */
export function createLocalImBus(): ImBus {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  const publish = async (event: ImEvent) => {
    emitter.emit('event', event);
  };
  return {
    publish,
    async publishMany(events) {
      for (const e of events) await publish(e);
    },
    async subscribe(handler) {
      const listener = (e: ImEvent) => {
        try {
          handler(e);
        } catch {
          // A failing subscriber must not fail the publisher; the gateway logs its own errors.
        }
      };
      emitter.on('event', listener);
      // One process holds every socket: nothing to route.
      return {
        hold: async () => undefined,
        release: () => undefined,
        async close() {
          emitter.off('event', listener);
        },
      };
    },
  };
}
