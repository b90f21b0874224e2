import { createHash } from 'node:crypto';
import type { SqlClient } from '../db/sqlClient';
import { CHANGED_DELIVERY_COLUMNS, deliveryEventsFrom } from './deliveryEvents';

/**
 * Digests as rows: a DigestBucket per template, scope (a recipient, or a group channel's post), recipient
 * and key, open from its first event until its window closes or it is full. A collected delivery becomes
 * `digested` and names the bucket, whose id is the digest message's id; the events are the collected
 * messages' data, oldest first.
 */

export interface DigestTarget {
  /** 'recipient', or the group channel whose one post this is. */
  scope: string;
  /** Who the digest is for within the scope ('' for a group post). */
  recipientKey: string;
  /** The recipients it goes to: the one recipient, or those a group post mentions. */
  recipients: readonly unknown[];
  deliveries: ReadonlyArray<{ id: string; channel: string }>;
}

export interface DigestCollection {
  messageId: string;
  templateCode: string;
  key: string;
  windowMs: number;
  maxEvents?: number;
  targets: readonly DigestTarget[];
  /**
   * The status the deliveries are collected from: `queued` (a window digest, before sending), or `sending`
   * (a robot post this consumer claimed and found the rate budget spent for: digest.onRateLimit).
   */
  from?: 'queued' | 'sending';
}

/** The scheduler's job kind of a bucket's flush (its window's end, or at once when it is full), keyed by its id. */
export const DIGEST_JOB = 'digest';

/** When a bucket must be flushed: at its window's end when it opens, now when it is full. */
export type FlushAt = (tx: SqlClient, bucketId: string, at: Date, early: boolean) => Promise<void>;

const MAX_GROUP_RECIPIENTS = 1000;
const hash = (parts: readonly string[]) => createHash('sha256').update(parts.join('\u0000')).digest('hex');

/**
 * The digest message's id: a function of template, scope and recipient, key and window start only, so a
 * flush run twice (a crash in between) addresses the one message, which dispatch sends once.
 */
export function digestMessageId(
  templateCode: string,
  scope: string,
  recipientKey: string,
  key: string,
  windowStart: Date,
): string {
  return `digest-${hash([templateCode, scope, recipientKey, key, windowStart.toISOString()]).slice(0, 40)}`;
}

interface OpenBucket {
  id: string;
  events: number;
  recipients: unknown[];
}

async function openBucket(tx: SqlClient, c: DigestCollection, t: DigestTarget, flushAt: FlushAt) {
  const openKey = hash([c.templateCode, t.scope, t.recipientKey, c.key]);
  // A bucket closed between our insert and our lock is gone from openKey: open the next one.
  for (let tries = 0; tries < 5; tries++) {
    const windowStart = new Date();
    const id = digestMessageId(c.templateCode, t.scope, t.recipientKey, c.key, windowStart);
    const closesAt = new Date(windowStart.getTime() + c.windowMs);
    const created = await tx.query(
      `INSERT INTO "DigestBucket" (id, "openKey", "templateCode", scope, "recipientKey", key, "windowStart", "closesAt", recipients, channels)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, '[]'::jsonb, '{}') ON CONFLICT DO NOTHING RETURNING id`,
      [
        id,
        openKey,
        c.templateCode,
        t.scope,
        t.recipientKey,
        c.key,
        windowStart.toISOString(),
        closesAt.toISOString(),
      ],
    );
    if (created.rows.length) await flushAt(tx, id, closesAt, false);
    const { rows } = await tx.query<OpenBucket>(
      `SELECT id, events, recipients FROM "DigestBucket" WHERE "openKey" = $1 FOR UPDATE`,
      [openKey],
    );
    if (rows[0]) return rows[0];
  }
  throw new Error(`digest of ${c.templateCode}: no open bucket after five tries`);
}

/** Recipients compared field by field: jsonb keeps an object's keys in its own order, not the writer's. */
const canonical = (r: unknown): string =>
  r && typeof r === 'object'
    ? JSON.stringify(Object.entries(r as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
    : JSON.stringify(r);
const sameRecipient = (a: unknown, b: unknown) => canonical(a) === canonical(b);

/**
 * Collects a message's queued deliveries into the open buckets of their targets (opening them), in the
 * caller's transaction; a bucket reaching maxEvents closes at once and is flushed now. Returns the digest
 * message id of each delivery collected (a delivery no longer in the `from` status is left alone).
 */
export async function collectIntoDigests(
  tx: SqlClient,
  c: DigestCollection,
  flushAt: FlushAt,
): Promise<Map<string, string>> {
  const collected = new Map<string, string>();
  // One lock order for every transaction, so two envelopes with the same recipients never deadlock.
  const order = (t: DigestTarget) => `${t.scope}\u0000${t.recipientKey}`;
  const targets = [...c.targets].sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
  for (const t of targets) {
    if (!t.deliveries.length) continue;
    const bucket = await openBucket(tx, c, t, flushAt);
    const { rows } = await tx.query<{ id: string; channel: string }>(
      `WITH changed AS (
         UPDATE "Delivery" d SET status = 'digested', "digestMessageId" = $2, reason = 'digested into ' || $2,
           "nextAttemptAt" = NULL, "updatedAt" = now()
         WHERE d.id = ANY($1::uuid[]) AND d.status = $3::"DeliveryStatus" RETURNING ${CHANGED_DELIVERY_COLUMNS}
       ), events AS (${deliveryEventsFrom('changed')})
       SELECT id, channel::text AS channel FROM changed`,
      [t.deliveries.map((d) => d.id), bucket.id, c.from ?? 'queued'],
    );
    if (!rows.length) continue;
    for (const r of rows) collected.set(r.id, bucket.id);
    const recipients = [...bucket.recipients];
    for (const r of t.recipients)
      if (recipients.length < MAX_GROUP_RECIPIENTS && !recipients.some((x) => sameRecipient(x, r)))
        recipients.push(r);
    const full = c.maxEvents !== undefined && bucket.events + 1 >= c.maxEvents;
    await tx.query(
      `UPDATE "DigestBucket" SET events = events + 1, recipients = $2::jsonb,
         channels = ARRAY(SELECT DISTINCT unnest(channels || $3::text[]) ORDER BY 1),
         "openKey" = CASE WHEN $4 THEN NULL ELSE "openKey" END,
         "closedAt" = CASE WHEN $4 THEN now() ELSE "closedAt" END
       WHERE id = $1`,
      [bucket.id, JSON.stringify(recipients), rows.map((r) => r.channel), full],
    );
    if (full) await flushAt(tx, bucket.id, new Date(), true);
  }
  return collected;
}

/**
 * Messages (as `m`) oldest first, in the order Herald took them: envelopes accepted in one batched
 * statement share one createdAt (one now(), kept to the millisecond), and their accepted events' append
 * order is the order within the batch; the id only breaks what is left (text order would put "a-10"
 * before "a-2"). Use with ACCEPTED_EVENT_OF_M joined as `e`.
 */
export const TAKEN_ORDER_OF_M = `m."createdAt", e."appendOrder", m.id`;
export const ACCEPTED_EVENT_OF_M = `LEFT JOIN "StatusEvent" e ON e.key = 'message:' || m.id || ':accepted'`;

export interface ClosedDigest {
  id: string;
  templateCode: string;
  scope: string;
  recipients: unknown[];
  channels: string[];
  /** The collected messages' data, oldest first. */
  events: Array<Record<string, unknown>>;
  /** Each collected message's `to`, in the same order. */
  sentTo: unknown[];
}

/**
 * Closes a bucket (no event joins it after this; the next opens a new one) and reads what it collected, in
 * the caller's transaction. Closing a closed bucket reads it again. Undefined when there is no such bucket.
 */
export async function closeDigest(tx: SqlClient, id: string): Promise<ClosedDigest | undefined> {
  const { rows } = await tx.query<Omit<ClosedDigest, 'events' | 'sentTo'>>(
    `UPDATE "DigestBucket" SET "openKey" = NULL, "closedAt" = COALESCE("closedAt", now()) WHERE id = $1
     RETURNING id, "templateCode", scope, recipients, channels`,
    [id],
  );
  const bucket = rows[0];
  if (!bucket) return undefined;
  const events = await tx.query<{ data: Record<string, unknown> | null; to: unknown }>(
    `SELECT m.envelope->'data' AS data, m.envelope->'to' AS to FROM "Message" m ${ACCEPTED_EVENT_OF_M}
     WHERE m.id IN (SELECT "messageId" FROM "Delivery" WHERE "digestMessageId" = $1 AND status = 'digested')
     ORDER BY ${TAKEN_ORDER_OF_M}`,
    [id],
  );
  return { ...bucket, events: events.rows.map((r) => r.data ?? {}), sentTo: events.rows.map((r) => r.to) };
}

/** True when the id is a digest message's (which sends, rather than collecting again). */
export async function isDigestMessage(sql: SqlClient, id: string): Promise<boolean> {
  if (!id.startsWith('digest-')) return false;
  const { rows } = await sql.query(`SELECT 1 FROM "DigestBucket" WHERE id = $1`, [id]);
  return rows.length > 0;
}
