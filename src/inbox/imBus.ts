import { EventEmitter } from 'node:events';
import { z } from 'zod';
import { inboxItemSchema } from './inboxItem';

/** What travels between the IM sender, the HTTP inbox and every gateway instance. */
export const imEventSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('item'),
    userId: z.string(),
    item: inboxItemSchema.extend({ deliveryId: z.string().nullable() }),
    /** The user's unread count as of the commit that stored the item. */
    unread: z.number().int().nonnegative(),
  }),
  z.object({ type: z.literal('unread'), userId: z.string(), unread: z.number().int().nonnegative() }),
]);

export type ImEvent = z.infer<typeof imEventSchema>;
export type ImEventHandler = (event: ImEvent) => void;

/** Fan-out of IM events to every gateway instance; publish only after the database commit. */
export interface ImBus {
  publish(event: ImEvent): Promise<void>;
  publishMany(events: ImEvent[]): Promise<void>;
  /**
   * Resolves once the subscription is live; the returned function ends it. `onResubscribed` runs each
   * time the subscription is live again after a gap (a broker reconnect), in which events were missed.
   */
  subscribe(handler: ImEventHandler, opts?: { onResubscribed?: () => void }): Promise<() => Promise<void>>;
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
      return async () => {
        emitter.off('event', listener);
      };
    },
  };
}
