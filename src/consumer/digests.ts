import { audienceOf, MAX_TOPICS, type Envelope, type Recipient, type TopicRef } from '../contract/envelope';
import type { TransactionalSqlClient } from '../db/sqlClient';
import type { DeliveryRow } from '../delivery/deliveryState';
import {
  closeDigest,
  collectIntoDigests,
  DIGEST_JOB,
  isDigestMessage,
  type DigestTarget,
  type FlushAt,
} from '../delivery/digestState';
import { channelByName } from '../senders/registry';
import { dueEnvelopePayload, ENVELOPE_JOB } from '../scheduler/envelopeJobs';
import type { JobHandler, Scheduler } from '../scheduler/scheduler';
import type { ResolvedTemplate } from './dispatchTypes';
import { mergeWaitingPosts, type MergedPosts, type WaitingPosts } from './rateLimitDigests';
import type { SendAudience } from './sendDeliveries';

/** Room left for the rest of the envelope under its 64 KiB data limit. */
const MAX_EVENTS_BYTES = 60_000;

/** Who a recipient is, for collecting per recipient: the user id, else the email, else all its fields. */
const recipientKeyOf = (r: Recipient): string =>
  r.userId ? `user:${r.userId}` : r.email ? `email:${r.email}` : `fields:${JSON.stringify(r)}`;

export interface DigestCollector {
  /**
   * Collects the envelope's queued deliveries into digests (they become `digested`); a digest message
   * itself is left to send. Dispatch then records the message's status as usual.
   */
  collect(
    env: Envelope,
    template: ResolvedTemplate,
    deliveries: readonly DeliveryRow[],
    audience: SendAudience,
  ): Promise<void>;
  /**
   * digest.onRateLimit: merges the claimed robot posts the rate budget made wait into their rate-limit
   * digests (src/consumer/rateLimitDigests.ts); returns the results still to record.
   */
  mergeWaiting(waiting: WaitingPosts): Promise<MergedPosts>;
}

export function createDigestCollector(deps: {
  sql: TransactionalSqlClient;
  scheduler: Scheduler;
}): DigestCollector {
  const flushAt: FlushAt = (sql, bucketId, at, early) =>
    deps.scheduler.schedule(
      { kind: DIGEST_JOB, key: bucketId, payload: { bucketId }, dueAt: at, replace: early },
      sql,
    );
  return {
    mergeWaiting: (waiting) => mergeWaitingPosts(deps.sql, flushAt, waiting),
    async collect(env, template, deliveries, audience) {
      const digest = template.digest;
      const queued = deliveries.filter((d) => d.status === 'queued');
      if (!digest || !queued.length || (await isDigestMessage(deps.sql, env.id))) return;
      const targets = new Map<
        string,
        DigestTarget & { deliveries: Array<{ id: string; channel: string }> }
      >();
      for (const d of queued) {
        const group = channelByName.get(d.channel)?.fanOut === 'group';
        const recipient = audience.recipientOf(d);
        const scope = group ? d.channel : 'recipient';
        const recipientKey = group || !recipient ? '' : recipientKeyOf(recipient);
        const id = `${scope}\u0000${recipientKey}`;
        let t = targets.get(id);
        if (!t) {
          t = {
            scope,
            recipientKey,
            recipients: group ? [...audience.mentions] : recipient ? [recipient] : [],
            deliveries: [],
          };
          targets.set(id, t);
        }
        t.deliveries.push({ id: d.id, channel: d.channel });
      }
      await deps.sql.transaction((tx) =>
        collectIntoDigests(
          tx,
          {
            messageId: env.id,
            templateCode: env.template,
            key: digest.keyOf(env.data),
            windowMs: digest.windowMs,
            maxEvents: digest.maxEvents,
            targets: [...targets.values()],
          },
          flushAt,
        ),
      );
    },
  };
}

/** The events that fit the envelope's data limit, oldest first; `count` stays the number collected. */
function fitEvents(events: Array<Record<string, unknown>>): Array<Record<string, unknown>> {
  let bytes = 2;
  const kept: Array<Record<string, unknown>> = [];
  for (const e of events) {
    bytes += Buffer.byteLength(JSON.stringify(e)) + 1;
    if (bytes > MAX_EVENTS_BYTES) break;
    kept.push(e);
  }
  return kept;
}

/** The topics envelopes were sent to (a stored envelope's `to`, validated when it came), each once. */
const topicsOf = (sentTo: readonly unknown[]): TopicRef[] =>
  [...new Set(sentTo.flatMap((to) => audienceOf({ to: to as Envelope['to'] }).topics))]
    .slice(0, MAX_TOPICS)
    .map((topic) => ({ topic }));

/**
 * Flushes a digest: closes its bucket and, in the same transaction, queues the digest message as an
 * envelope row due now, keyed by its id; a flush run twice queues (and dispatch sends) the one message.
 */
export function createDigestFlushHandler(deps: {
  sql: TransactionalSqlClient;
  scheduler: Scheduler;
}): JobHandler {
  return async (job) => {
    const bucketId = (job.payload as { bucketId?: unknown } | null)?.bucketId;
    if (typeof bucketId !== 'string') throw new Error(`digest job ${job.id} names no bucket`);
    await deps.sql.transaction(async (tx) => {
      const digest = await closeDigest(tx, bucketId);
      // A group post collected from envelopes sent to topics alone mentions no one: the digest message goes
      // to those topics, which gives it an audience without adding anyone to mention.
      if (!digest || !digest.events.length) return;
      const to = digest.recipients.length ? digest.recipients : topicsOf(digest.sentTo);
      if (!to.length) return;
      const events = fitEvents(digest.events);
      const latest = digest.events[digest.events.length - 1] ?? {};
      const envelope = {
        id: digest.id,
        template: digest.templateCode,
        to,
        channels: digest.channels,
        data: { ...latest, events, count: digest.events.length },
        meta: { source: 'digest' },
      };
      const payload = dueEnvelopePayload(envelope);
      await deps.scheduler.schedule({ kind: ENVELOPE_JOB, key: digest.id, payload, dueAt: new Date() }, tx);
    });
  };
}
