import { randomUUID } from 'node:crypto';
import type { SqlClient } from '../db/sqlClient';
import type { ChannelName } from '../contract/envelope';
import type { PlannedDelivery } from './planDeliveries';

/**
 * The hot-path writes of the pipeline (Message, Delivery, DeliveryAttempt) as batched SQL: a handful of
 * statements per envelope whatever its number of recipients. Column names follow prisma/schema.prisma.
 */

export type DeliveryStatus =
  'queued' | 'sending' | 'sent' | 'delivered' | 'read' | 'retrying' | 'failed' | 'skipped';
export type MessageStatus = 'accepted' | 'rejected' | 'dispatched' | 'completed' | 'partially_failed';
export const TERMINAL: ReadonlySet<DeliveryStatus> = new Set([
  'sent',
  'delivered',
  'read',
  'failed',
  'skipped',
]);

export interface DeliveryRow {
  id: string;
  channel: ChannelName;
  recipientIndex: number;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: Date | null;
}

export interface AttemptResult {
  deliveryId: string;
  /** Attempt number written to the log (the delivery's attempts count after this one). */
  attempt: number;
  /** Absent when nothing was tried (a skip decided at send time): no attempt row, only the delivery's state. */
  outcome?: 'sent' | 'retryable' | 'permanent' | 'waiting';
  providerId?: string;
  errorCode?: string;
  errorText?: string;
  durationMs: number;
  status: DeliveryStatus;
  nextAttemptAt?: Date;
  reason?: string;
}

export interface AcceptedMessage {
  status: MessageStatus;
  templateVersion: number | null;
}

/** Records the envelope; a known id keeps its row (idempotency), a previously rejected one is accepted again. */
export async function acceptMessage(
  sql: SqlClient,
  m: {
    id: string;
    templateCode: string;
    templateVersion: number;
    source?: string;
    traceId?: string;
    recipientCount: number;
    envelope: unknown;
  },
): Promise<AcceptedMessage> {
  const { rows } = await sql.query<{ status: MessageStatus; templateVersion: number | null }>(
    `INSERT INTO "Message" (id, "templateCode", "templateVersion", status, source, "traceId", "recipientCount", envelope, "createdAt", "updatedAt")
     VALUES ($1, $2, $3, 'accepted', $4, $5, $6, $7, now(), now())
     ON CONFLICT (id) DO UPDATE SET
       status = CASE WHEN "Message".status = 'rejected' THEN 'accepted'::"MessageStatus" ELSE "Message".status END,
       reason = CASE WHEN "Message".status = 'rejected' THEN NULL ELSE "Message".reason END,
       "templateVersion" = CASE WHEN "Message".status = 'rejected' THEN EXCLUDED."templateVersion" ELSE "Message"."templateVersion" END,
       envelope = CASE WHEN "Message".status = 'rejected' THEN EXCLUDED.envelope ELSE "Message".envelope END,
       "updatedAt" = now()
     RETURNING status, "templateVersion"`,
    [
      m.id,
      m.templateCode,
      m.templateVersion,
      m.source ?? null,
      m.traceId ?? null,
      m.recipientCount,
      JSON.stringify(m.envelope),
    ],
  );
  return rows[0] as AcceptedMessage;
}

/** Marks a message rejected with its reason, unless an envelope with the same id was already accepted. */
export async function rejectMessage(
  sql: SqlClient,
  m: { id: string; templateCode?: string; reason: string },
): Promise<void> {
  await sql.query(
    `INSERT INTO "Message" (id, "templateCode", status, reason, "createdAt", "updatedAt")
     VALUES ($1, $2, 'rejected', $3, now(), now())
     ON CONFLICT (id) DO UPDATE SET reason = EXCLUDED.reason, "updatedAt" = now() WHERE "Message".status = 'rejected'`,
    [m.id, m.templateCode ?? null, m.reason],
  );
}

const DELIVERY_COLUMNS = `id, channel, "recipientIndex", status, attempts, "nextAttemptAt"`;

/**
 * Inserts the planned deliveries (ignoring ones that exist) and returns every delivery of the message,
 * in one round trip: the statement's snapshot shows the rows that existed, RETURNING the ones it added.
 */
export async function ensureDeliveries(
  sql: SqlClient,
  messageId: string,
  templateCode: string,
  planned: readonly PlannedDelivery[],
): Promise<DeliveryRow[]> {
  const existing = `SELECT ${DELIVERY_COLUMNS} FROM "Delivery" WHERE "messageId" = $1`;
  if (!planned.length) return (await sql.query<DeliveryRow>(existing, [messageId])).rows;
  const { rows } = await sql.query<DeliveryRow>(
    `WITH added AS (
       INSERT INTO "Delivery" (id, "messageId", channel, "recipientIndex", "userId", email, "templateCode", status, reason, "createdAt", "updatedAt")
       SELECT u.id, $1, u.channel, u.idx, u.uid, u.email, $2, u.status, u.reason, now(), now()
       FROM unnest($3::uuid[], $4::text[]::"Channel"[], $5::int[], $6::text[], $7::text[], $8::text[]::"DeliveryStatus"[], $9::text[])
         AS u(id, channel, idx, uid, email, status, reason)
       ON CONFLICT ("messageId", channel, "recipientIndex") DO NOTHING
       RETURNING ${DELIVERY_COLUMNS}
     )
     SELECT * FROM added UNION ALL ${existing}`,
    [
      messageId,
      templateCode,
      planned.map(() => randomUUID()),
      planned.map((p) => p.channel),
      planned.map((p) => p.recipientIndex),
      planned.map((p) => p.userId ?? null),
      planned.map((p) => p.email ?? null),
      planned.map((p) => p.status),
      planned.map((p) => p.reason ?? null),
    ],
  );
  // A consumer racing on the same id committed rows after this statement's snapshot: read them now.
  if (rows.length < planned.length) return (await sql.query<DeliveryRow>(existing, [messageId])).rows;
  return rows;
}

/**
 * Claims due deliveries for sending: `sending` is recorded before the send, with a lease in
 * nextAttemptAt. Two consumers holding the same envelope (published twice) cannot both claim a
 * delivery; one whose consumer died mid-send becomes claimable again when its lease runs out.
 */
export async function claimDue(sql: SqlClient, messageId: string, leaseMs: number): Promise<DeliveryRow[]> {
  const { rows } = await sql.query<DeliveryRow>(
    `UPDATE "Delivery" SET status = 'sending', "nextAttemptAt" = now() + make_interval(secs => $2::double precision / 1000),
       "updatedAt" = now()
     WHERE "messageId" = $1
       AND (status IN ('queued', 'retrying') OR status = 'sending')
       AND ("nextAttemptAt" IS NULL OR "nextAttemptAt" <= now() + interval '200 milliseconds')
     RETURNING id, channel, "recipientIndex", status, attempts, "nextAttemptAt"`,
    [messageId, leaseMs],
  );
  return rows;
}

/**
 * Writes attempt rows, delivery states and the message status as one statement (data-modifying CTEs are
 * atomic like a transaction, at one round trip instead of five: this runs once per envelope).
 */
export async function recordResults(
  db: SqlClient,
  messageId: string,
  results: readonly AttemptResult[],
  messageStatus: MessageStatus,
): Promise<void> {
  const attempts = results.filter((r) => r.outcome !== undefined);
  await db.query(
    `WITH attempts AS (
       INSERT INTO "DeliveryAttempt" ("deliveryId", attempt, outcome, "providerId", "errorCode", "errorText", "durationMs", "createdAt")
       SELECT *, now() FROM unnest($3::uuid[], $4::int[], $5::text[]::"AttemptOutcome"[], $6::text[], $7::text[], $8::text[], $9::int[])
     ), deliveries AS (
       UPDATE "Delivery" d SET status = CASE WHEN d.status IN ('delivered', 'read') THEN d.status ELSE u.status END, attempts = GREATEST(d.attempts, u.attempt), "nextAttemptAt" = u.next,
         reason = u.reason, "updatedAt" = now()
       FROM unnest($10::uuid[], $11::text[]::"DeliveryStatus"[], $12::int[], $13::timestamptz[], $14::text[]) AS u(id, status, attempt, next, reason)
       WHERE d.id = u.id
     )
     UPDATE "Message" SET status = $2, "updatedAt" = now() WHERE id = $1`,
    [
      messageId,
      messageStatus,
      attempts.map((r) => r.deliveryId),
      attempts.map((r) => r.attempt),
      attempts.map((r) => r.outcome),
      attempts.map((r) => r.providerId ?? null),
      attempts.map((r) => r.errorCode ?? null),
      attempts.map((r) => (r.errorText ? r.errorText.slice(0, 2000) : null)),
      attempts.map((r) => Math.round(r.durationMs)),
      results.map((r) => r.deliveryId),
      results.map((r) => r.status),
      results.map((r) => (r.outcome === 'waiting' ? r.attempt - 1 : r.attempt)),
      results.map((r) => r.nextAttemptAt ?? null),
      results.map((r) => r.reason ?? null),
    ],
  );
}

/** completed when every delivery ended well, partially_failed when one failed, dispatched while any is pending. */
export function messageStatusOf(statuses: readonly DeliveryStatus[]): MessageStatus {
  if (statuses.some((s) => !TERMINAL.has(s))) return 'dispatched';
  return statuses.some((s) => s === 'failed') ? 'partially_failed' : 'completed';
}
