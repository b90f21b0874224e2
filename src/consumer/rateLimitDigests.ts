import type { ChannelName, Envelope, Recipient } from '../contract/envelope';
import type { SqlClient, TransactionalSqlClient } from '../db/sqlClient';
import type { AttemptResult, DeliveryRow } from '../delivery/deliveryState';
import { collectIntoDigests, isDigestMessage, type FlushAt } from '../delivery/digestState';
import { channelByName } from '../senders/registry';

/**
 * digest.onRateLimit (issue 14, send windows for robots): a robot post that finds its robot's rate budget
 * spent does not wait for a slot of its own. It joins the open rate-limit digest of its template and
 * channel (a DigestBucket like a window digest's, apart from them by its recipient key), which flushes
 * when the budget said a slot frees, into one post listing every event it collected. The bucket, the
 * deliveries (`digested`, naming the digest message) and the flush's scheduler row commit together, and
 * the digest message's id is derived from the bucket, so a crash loses no post and sends none twice.
 */

/** The recipient key of rate-limit buckets: a window digest of a group post has ''. */
export const RATE_LIMIT_RECIPIENT_KEY = 'rate-limit';

/** A channel whose posts may be merged: a group post under a shared rate budget (the robots). */
const mergeable = (channel: ChannelName | undefined): boolean => {
  const spec = channel === undefined ? undefined : channelByName.get(channel);
  return spec?.fanOut === 'group' && spec.budget !== undefined;
};

export interface MergedPosts {
  /** The results to record as usual: those not merged. */
  results: AttemptResult[];
  /** The deliveries merged (recorded here, with their attempt rows), by the digest message each went into. */
  merged: Map<string, string>;
}

export interface WaitingPosts {
  env: Envelope;
  claimed: readonly DeliveryRow[];
  results: readonly AttemptResult[];
  /** Who the group post mentions: the digest post mentions everyone its events did. */
  mentions: readonly Recipient[];
  now: number;
}

/**
 * Merges the claimed robot posts that the budget answered `waiting` into their rate-limit digests, in one
 * transaction with an attempt row each saying where they went. A digest message is never merged again: its
 * post waits for a slot like any other.
 */
export async function mergeWaitingPosts(
  sql: TransactionalSqlClient,
  flushAt: FlushAt,
  w: WaitingPosts,
): Promise<MergedPosts> {
  const channelOf = new Map(w.claimed.map((d) => [d.id, d.channel]));
  const waiting = w.results.filter(
    (r) => r.outcome === 'waiting' && r.status === 'retrying' && mergeable(channelOf.get(r.deliveryId)),
  );
  // Without anyone named (topics only) the digest message goes to the topics (createDigestFlushHandler).
  if (!waiting.length || (await isDigestMessage(sql, w.env.id)))
    return { results: [...w.results], merged: new Map() };
  const byChannel = new Map<ChannelName, AttemptResult[]>();
  for (const r of waiting) {
    const channel = channelOf.get(r.deliveryId) as ChannelName;
    byChannel.set(channel, [...(byChannel.get(channel) ?? []), r]);
  }
  const merged = await sql.transaction(async (tx) => {
    const into = new Map<string, string>();
    for (const [channel, rs] of byChannel) {
      // The bucket opened now flushes when the budget frees a slot; one already open keeps its time.
      const waitMs = Math.min(...rs.map((r) => (r.nextAttemptAt?.getTime() ?? w.now) - w.now));
      const collected = await collectIntoDigests(
        tx,
        {
          messageId: w.env.id,
          templateCode: w.env.template,
          key: '',
          windowMs: Math.max(1, waitMs),
          from: 'sending',
          targets: [
            {
              scope: channel,
              recipientKey: RATE_LIMIT_RECIPIENT_KEY,
              recipients: [...w.mentions],
              deliveries: rs.map((r) => ({ id: r.deliveryId, channel })),
            },
          ],
        },
        flushAt,
      );
      for (const [id, digest] of collected) into.set(id, digest);
    }
    await recordMergeAttempts(
      tx,
      waiting.filter((r) => into.has(r.deliveryId)),
      into,
    );
    return into;
  });
  return { results: w.results.filter((r) => !merged.has(r.deliveryId)), merged };
}

/** The attempt row of each merged post: it waited, and went into a digest message. */
async function recordMergeAttempts(
  tx: SqlClient,
  results: readonly AttemptResult[],
  into: ReadonlyMap<string, string>,
): Promise<void> {
  if (!results.length) return;
  await tx.query(
    `INSERT INTO "DeliveryAttempt" ("deliveryId", attempt, outcome, "errorCode", "errorText", "durationMs", "createdAt")
     SELECT u.did, u.attempt, 'waiting', 'merged', u.text, u.ms, now()
       FROM unnest($1::uuid[], $2::int[], $3::text[], $4::int[]) AS u(did, attempt, text, ms)`,
    [
      results.map((r) => r.deliveryId),
      results.map((r) => r.attempt),
      results.map((r) => `${r.errorText ?? 'robot budget spent'}; merged into ${into.get(r.deliveryId)}`),
      results.map((r) => Math.round(r.durationMs)),
    ],
  );
}
