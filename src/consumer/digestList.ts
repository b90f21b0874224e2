import type { SqlClient } from '../db/sqlClient';
import type { ChannelName } from '../contract/envelope';
import { ACCEPTED_EVENT_OF_M, DIGEST_JOB, TAKEN_ORDER_OF_M } from '../delivery/digestState';
import type { DeliveryStatus, DigestState, MessageStatus } from '../delivery/statuses';
import { ENVELOPE_JOB } from '../scheduler/envelopeJobs';
import { RATE_LIMIT_RECIPIENT_KEY } from './rateLimitDigests';

/**
 * What GET /v1/digests reads: each DigestBucket (src/delivery/digestState.ts) with where it is. A bucket
 * is open while its openKey is set; its flush is a `digest` job due at the window's end (or now, when it
 * filled up); the flush queues the digest message as an `envelope` job keyed by the bucket id, and once
 * dispatch has taken that, the digest message is a Message with the same id.
 */

export interface DigestFilters {
  template?: string;
  /** A recipient digest for this user, or a group post that mentions them. */
  userId?: string;
  channel?: string;
  state?: DigestState;
  /** Keyset position: the (createdAt, id) of the last row of the page before. */
  after?: { at: Date; id: string };
  limit: number;
}

export interface DigestRow {
  id: string;
  kind: 'window' | 'rate_limit';
  templateCode: string;
  scope: string;
  userId: string | null;
  email: string | null;
  recipients: number;
  key: string;
  channels: string[];
  windowStart: Date;
  closesAt: Date;
  dueAt: Date | null;
  closedAt: Date | null;
  events: number;
  state: DigestState;
  message: {
    id: string;
    status: MessageStatus;
    deliveries: Array<{ channel: ChannelName; status: DeliveryStatus; count: number }>;
  } | null;
  createdAt: Date;
}

interface BucketRow extends Omit<DigestRow, 'kind' | 'userId' | 'email' | 'message'> {
  recipientKey: string;
  messageStatus: MessageStatus | null;
}

/** The person a recipient digest is keyed by (src/consumer/digests.ts recipientKeyOf). */
const keyPart = (recipientKey: string, prefix: string): string | null =>
  recipientKey.startsWith(prefix) ? recipientKey.slice(prefix.length) : null;

const BUCKETS = `
  SELECT b.id, b."templateCode", b.scope, b."recipientKey", b.key, b.channels, b."windowStart", b."closesAt",
         b."closedAt", b.events, jsonb_array_length(b.recipients)::int AS recipients, b."createdAt",
         jd."dueAt", m.status::text AS "messageStatus",
         CASE WHEN b."openKey" IS NOT NULL THEN 'open'
              WHEN m.id IS NOT NULL THEN 'flushed'
              WHEN jd.id IS NOT NULL OR je.id IS NOT NULL THEN 'flushing'
              ELSE 'empty' END AS state
    FROM "DigestBucket" b
    LEFT JOIN "Message" m ON m.id = b.id
    LEFT JOIN "ScheduledJob" jd ON jd.kind = '${DIGEST_JOB}' AND jd.key = b.id
    LEFT JOIN "ScheduledJob" je ON je.kind = '${ENVELOPE_JOB}' AND je.key = b.id`;

/** The page of buckets the filters select, newest first, each with its digest message's outcome. */
export async function listDigests(sql: SqlClient, f: DigestFilters): Promise<DigestRow[]> {
  const { rows } = await sql.query<BucketRow>(
    `SELECT * FROM (${BUCKETS}
       WHERE ($1::text IS NULL OR b."templateCode" = $1)
         AND ($2::text IS NULL OR b."recipientKey" = 'user:' || $2
              OR b.recipients @> jsonb_build_array(jsonb_build_object('userId', $2::text)))
         AND ($3::text IS NULL OR $3 = ANY(b.channels))
         AND ($5::timestamptz IS NULL OR (b."createdAt", b.id) < ($5, $6::text))
     ) s
     WHERE $4::text IS NULL OR s.state = $4
     ORDER BY s."createdAt" DESC, s.id DESC
     LIMIT $7`,
    [
      f.template ?? null,
      f.userId ?? null,
      f.channel ?? null,
      f.state ?? null,
      f.after?.at.toISOString() ?? null,
      f.after?.id ?? null,
      f.limit,
    ],
  );
  return withMessages(sql, rows);
}

/** One bucket, or undefined. */
export async function findDigest(sql: SqlClient, id: string): Promise<DigestRow | undefined> {
  const { rows } = await sql.query<BucketRow>(`${BUCKETS} WHERE b.id = $1`, [id]);
  return (await withMessages(sql, rows))[0];
}

/** How far the collected deliveries are listed in one answer (the count is `events`). */
export const COLLECTED_LIMIT = 500;

/**
 * The deliveries a bucket collected, in the order of the digest message's events (the order Herald took
 * their messages; deliveries planned in one batch share a createdAt, and their uuids are random): each
 * names the message it came from.
 */
export async function collectedDeliveries(sql: SqlClient, id: string) {
  const { rows } = await sql.query<{
    id: string;
    messageId: string;
    channel: ChannelName;
    userId: string | null;
    status: DeliveryStatus;
    createdAt: Date;
  }>(
    `SELECT d.id::text, d."messageId", d.channel::text AS channel, d."userId", d.status::text AS status,
            d."createdAt"
       FROM "Delivery" d JOIN "Message" m ON m.id = d."messageId" ${ACCEPTED_EVENT_OF_M}
      WHERE d."digestMessageId" = $1 ORDER BY ${TAKEN_ORDER_OF_M}, d.channel, d.id LIMIT ${COLLECTED_LIMIT}`,
    [id],
  );
  return rows;
}

async function withMessages(sql: SqlClient, rows: readonly BucketRow[]): Promise<DigestRow[]> {
  const flushed = rows.filter((r) => r.messageStatus !== null).map((r) => r.id);
  const { rows: counts } = flushed.length
    ? await sql.query<{ messageId: string; channel: ChannelName; status: DeliveryStatus; count: number }>(
        `SELECT "messageId", channel::text AS channel, status::text AS status, count(*)::int AS count
           FROM "Delivery" WHERE "messageId" = ANY($1::text[])
          GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
        [flushed],
      )
    : { rows: [] };
  return rows.map(({ recipientKey, messageStatus, ...b }) => ({
    ...b,
    kind: recipientKey === RATE_LIMIT_RECIPIENT_KEY ? 'rate_limit' : 'window',
    userId: b.scope === 'recipient' ? keyPart(recipientKey, 'user:') : null,
    email: b.scope === 'recipient' ? keyPart(recipientKey, 'email:') : null,
    message:
      messageStatus === null
        ? null
        : {
            id: b.id,
            status: messageStatus,
            deliveries: counts
              .filter((c) => c.messageId === b.id)
              .map(({ channel, status, count }) => ({ channel, status, count })),
          },
  }));
}
