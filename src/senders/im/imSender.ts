import { SpanKind } from '@opentelemetry/api';
import type { FastifyBaseLogger } from 'fastify';
import type { ImBus, ImEvent } from '../../inbox/imBus';
import { createCallBatcher } from '../../db/callBatcher';
import type { NewInboxItem } from '../../inbox/inboxItem';
import type { InboxStore } from '../../inbox/inboxStore';
import type { Sender, SendOutcome } from '../sender';
import type { ImJob } from './imJob';
import { MESSAGING_BATCH_COUNT } from '../../tracing/messagingAttributes';
import { inSpan } from '../../tracing/spans';

export interface ImSender extends Sender<ImJob> {
  /**
   * Stores the jobs (with those of other envelopes in flight) in one transaction, then publishes each
   * item; one outcome per job, in order.
   */
  sendMany(jobs: ImJob[]): Promise<SendOutcome[]>;
}

/** Waits between tries of a push the broker refused (its connection recovers in about 200 ms). */
const PUSH_RETRY_MS = [200, 500, 1000, 2000, 4000];

/**
 * IM: the stored InboxItem is the send (its attempt row commits with it). Publishing to the gateways
 * happens after the commit; a refused publish is tried again for a few seconds while the broker
 * connection recovers, with the envelope still unacknowledged, so a blip loses no push. Past that the
 * sockets get the items when they reconnect, or when their gateway resubscribes (it catches up then).
 */
export function createImSender(deps: {
  inbox: InboxStore;
  bus: ImBus;
  log: FastifyBaseLogger;
  pushRetryMs?: readonly number[];
}): ImSender {
  const { inbox, bus, log } = deps;
  const retryMs = deps.pushRetryMs ?? PUSH_RETRY_MS;

  async function pushToGateways(events: ImEvent[]): Promise<void> {
    for (let tried = 0; ; tried++) {
      try {
        await bus.publishMany(events);
        return;
      } catch (err) {
        const wait = retryMs[tried];
        if (wait === undefined) {
          log.error(
            { err, events: events.length, tries: tried + 1 },
            'im: publishing to the gateways failed; sockets get these items when they reconnect',
          );
          return;
        }
        log.warn({ err, events: events.length, retryInMs: wait }, 'im: publishing to the gateways failed');
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }
  // The items of every envelope in flight at once go into one transaction: the inbox insert is the
  // costliest step of an IM send, and its cost is per round trip, not per row.
  const insertMany = async (batches: NewInboxItem[][]) => {
    const result = await inbox.insertItems(batches.flat());
    let offset = 0;
    return batches.map((b) => {
      const items = result.items.slice(offset, offset + b.length);
      offset += b.length;
      return { items, counts: result.counts };
    });
  };
  // Critical jobs have a batcher of their own: an alert's item never waits for a topic page's 500.
  const ordinaryInserts = createCallBatcher(insertMany);
  const criticalInserts = createCallBatcher(insertMany);

  async function sendMany(jobs: ImJob[]): Promise<SendOutcome[]> {
    if (jobs.length === 0) return [];
    let result: Awaited<ReturnType<InboxStore['insertItems']>>;
    try {
      const insertItems = jobs[0]?.critical ? criticalInserts : ordinaryInserts;
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
          tags: j.tags,
          severity: j.severity,
          data: j.data,
          actions: j.actions,
          expiresAt: j.expiresAt === undefined ? undefined : new Date(j.expiresAt),
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
      const counts = result.counts[item.userId];
      if (counts) events.push({ type: 'item', userId: item.userId, item, counts });
    }
    if (events.length)
      await inSpan(
        'publish im',
        { kind: SpanKind.PRODUCER, attributes: { [MESSAGING_BATCH_COUNT]: events.length } },
        // The bus carries this span's context with each event: the gateway's push continues the trace.
        () => pushToGateways(events),
      );
    return result.items.map(({ item }) => ({ kind: 'sent', providerId: item.id, attemptRecorded: true }));
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
