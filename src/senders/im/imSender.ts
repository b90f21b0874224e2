import type { FastifyBaseLogger } from 'fastify';
import type { ImBus, ImEvent } from '../../inbox/imBus';
import { createCallBatcher } from '../../db/callBatcher';
import type { NewInboxItem } from '../../inbox/inboxItem';
import type { InboxStore } from '../../inbox/inboxStore';
import type { Sender, SendOutcome } from '../sender';
import type { ImJob } from './imJob';

export interface ImSender extends Sender<ImJob> {
  /**
   * Stores the jobs (with those of other envelopes in flight) in one transaction, then publishes each
   * item; one outcome per job, in order.
   */
  sendMany(jobs: ImJob[]): Promise<SendOutcome[]>;
}

/**
 * IM: the stored InboxItem is the send. Publishing to the gateways happens after the commit and is best
 * effort: a socket that misses the push gets the item from the database on (re)connect.
 */
export function createImSender(deps: { inbox: InboxStore; bus: ImBus; log: FastifyBaseLogger }): ImSender {
  const { inbox, bus, log } = deps;
  // The items of every envelope in flight at once go into one transaction: the inbox insert is the
  // costliest step of an IM send, and its cost is per round trip, not per row.
  const insertItems = createCallBatcher(async (batches: NewInboxItem[][]) => {
    const result = await inbox.insertItems(batches.flat());
    let offset = 0;
    return batches.map((b) => {
      const items = result.items.slice(offset, offset + b.length);
      offset += b.length;
      return { items, unread: result.unread };
    });
  });

  async function sendMany(jobs: ImJob[]): Promise<SendOutcome[]> {
    if (jobs.length === 0) return [];
    let result: Awaited<ReturnType<InboxStore['insertItems']>>;
    try {
      result = await insertItems(
        jobs.map((j) => ({
          userId: j.userId,
          deliveryId: j.deliveryId,
          attempt: j.attempt,
          messageId: j.messageId,
          title: j.title,
          body: j.body,
          url: j.url,
          category: j.category,
          data: j.data,
        })),
      );
    } catch (err) {
      log.warn({ err, jobs: jobs.length }, 'im: storing inbox items failed');
      const message = err instanceof Error ? err.message : String(err);
      return jobs.map(() => ({ kind: 'retryable', code: 'inbox_store_failed', message }));
    }

    // A redelivered job whose item is still unread is pushed again (clients dedupe on id), since the
    // first run may have died between commit and publish.
    const pushed = new Set<string>();
    const events: ImEvent[] = [];
    for (const { item, created } of result.items) {
      if ((!created && item.readAt !== null) || pushed.has(item.id)) continue;
      pushed.add(item.id);
      events.push({ type: 'item', userId: item.userId, item, unread: result.unread[item.userId] ?? 0 });
    }
    try {
      await bus.publishMany(events);
    } catch (err) {
      log.warn(
        { err, events: events.length },
        'im: publishing to the gateways failed; clients catch up on reconnect',
      );
    }
    return result.items.map(({ item }) => ({ kind: 'sent', providerId: item.id }));
  }

  return {
    channel: 'im',
    sendMany,
    async send(job) {
      const [outcome] = await sendMany([job]);
      return outcome as SendOutcome;
    },
  };
}
