import { randomUUID } from 'node:crypto';
import type { SqlClient, TransactionalSqlClient } from '../db/sqlClient';
// The database enum, which src/senders/registry.ts checks equals the registered channel names.
import type { Channel as ChannelName } from '../generated/prisma/enums';
import { TERMINAL, type AttemptOutcome, type DeliveryStatus, type MessageStatus } from './statuses';

export { TERMINAL, type DeliveryStatus, type MessageStatus };

/**
 * The hot-path writes of the pipeline (Message, Delivery, DeliveryAttempt) as set-based SQL over a batch
 * of envelopes: one statement per step whatever the number of envelopes and recipients (see
 * deliveryStore.ts, which gathers the batches). Column names follow prisma/schema.prisma.
 */

export interface PlannedDelivery {
  channel: ChannelName;
  /** Index into envelope.to; -1 for the one post of a group channel. */
  recipientIndex: number;
  userId?: string;
  email?: string;
  status: 'queued' | 'skipped';
  reason?: string;
}

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
  outcome?: AttemptOutcome;
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

export interface MessageToAccept {
  id: string;
  templateCode: string;
  templateVersion: number;
  source?: string;
  traceId?: string;
  recipientCount: number;
  envelope: unknown;
}

/**
 * Records envelopes; a known id keeps its row (idempotency), a previously rejected one is accepted
 * again. One statement for the whole batch; outputs in input order.
 */
export async function acceptMessages(
  sql: SqlClient,
  ms: readonly MessageToAccept[],
): Promise<AcceptedMessage[]> {
  const { rows } = await sql.query<AcceptedMessage & { id: string }>(
    `INSERT INTO "Message" (id, "templateCode", "templateVersion", status, source, "traceId", "recipientCount", envelope, "createdAt", "updatedAt")
     SELECT u.id, u.code, u.version, 'accepted', u.source, u.trace, u.recipients, u.envelope, now(), now()
     FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::int[], $7::text[]::jsonb[])
       AS u(id, code, version, source, trace, recipients, envelope)
     ON CONFLICT (id) DO UPDATE SET
       status = CASE WHEN "Message".status IN ('rejected', 'scheduled') THEN 'accepted'::"MessageStatus" ELSE "Message".status END,
       reason = CASE WHEN "Message".status = 'rejected' THEN NULL ELSE "Message".reason END,
       "templateVersion" = CASE WHEN "Message".status IN ('rejected', 'scheduled') THEN EXCLUDED."templateVersion" ELSE "Message"."templateVersion" END,
       envelope = CASE WHEN "Message".status = 'rejected' THEN EXCLUDED.envelope ELSE "Message".envelope END,
       "recipientCount" = CASE WHEN "Message".status = 'rejected' THEN EXCLUDED."recipientCount" ELSE "Message"."recipientCount" END,
       "templateCode" = CASE WHEN "Message".status = 'rejected' THEN EXCLUDED."templateCode" ELSE "Message"."templateCode" END,
       source = CASE WHEN "Message".status = 'rejected' THEN EXCLUDED.source ELSE "Message".source END,
       "traceId" = CASE WHEN "Message".status = 'rejected' THEN EXCLUDED."traceId" ELSE "Message"."traceId" END,
       "updatedAt" = now()
     RETURNING id, status, "templateVersion"`,
    [
      ms.map((m) => m.id),
      ms.map((m) => m.templateCode),
      ms.map((m) => m.templateVersion),
      ms.map((m) => m.source ?? null),
      ms.map((m) => m.traceId ?? null),
      ms.map((m) => m.recipientCount),
      ms.map((m) => JSON.stringify(m.envelope)),
    ],
  );
  const byId = new Map(rows.map((r) => [r.id, { status: r.status, templateVersion: r.templateVersion }]));
  return ms.map((m) => {
    const r = byId.get(m.id);
    if (!r) throw new Error(`message ${m.id} was not recorded`);
    return r;
  });
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

export interface MessageToHold {
  id: string;
  templateCode: string;
  source?: string;
  traceId?: string;
  recipientCount: number;
  envelope: unknown;
  sendAt: Date;
}

/**
 * Records a message that waits for its time: `scheduled`, with no template version yet (the one current
 * at send time is taken by acceptMessages). A rejected id is scheduled again; any other known id keeps its
 * status and its first sendAt (so a delay counts from the first time Herald saw the envelope). Returns the
 * status after the write.
 */
export async function holdMessage(tx: SqlClient, m: MessageToHold): Promise<MessageStatus> {
  const { rows } = await tx.query<{ status: MessageStatus }>(
    `INSERT INTO "Message" (id, "templateCode", status, source, "traceId", "recipientCount", envelope, "sendAt", "createdAt", "updatedAt")
     VALUES ($1, $2, 'scheduled', $3, $4, $5, $6::jsonb, $7::timestamptz, now(), now())
     ON CONFLICT (id) DO UPDATE SET
       status = CASE WHEN "Message".status = 'rejected' THEN 'scheduled'::"MessageStatus" ELSE "Message".status END,
       envelope = CASE WHEN "Message".status = 'rejected' THEN EXCLUDED.envelope ELSE "Message".envelope END,
       "sendAt" = COALESCE("Message"."sendAt", EXCLUDED."sendAt"),
       reason = CASE WHEN "Message".status = 'rejected' THEN NULL ELSE "Message".reason END,
       "updatedAt" = now()
     RETURNING status`,
    [
      m.id,
      m.templateCode,
      m.source ?? null,
      m.traceId ?? null,
      m.recipientCount,
      JSON.stringify(m.envelope),
      m.sendAt.toISOString(),
    ],
  );
  return rows[0]?.status ?? 'scheduled';
}

/** The due time recorded for a message when it was first held, if it was. */
export async function storedSendAt(sql: SqlClient, id: string): Promise<Date | undefined> {
  const { rows } = await sql.query<{ sendAt: Date | string | null }>(
    `SELECT "sendAt" FROM "Message" WHERE id = $1`,
    [id],
  );
  const stored = rows[0]?.sendAt;
  return stored ? new Date(stored) : undefined;
}

const DELIVERY_COLUMNS = `id, "messageId", channel, "recipientIndex", status, attempts, "nextAttemptAt"`;
type DeliveryRowOf = DeliveryRow & { messageId: string };

function groupByMessage(rows: readonly DeliveryRowOf[]): Map<string, DeliveryRow[]> {
  const out = new Map<string, DeliveryRow[]>();
  for (const { messageId, ...row } of rows) {
    const list = out.get(messageId);
    if (list) list.push(row);
    else out.set(messageId, [row]);
  }
  return out;
}

export interface DeliveriesToEnsure {
  messageId: string;
  templateCode: string;
  planned: readonly PlannedDelivery[];
}

/**
 * Inserts the planned deliveries (ignoring ones that exist) and returns every delivery of each message,
 * in one round trip for the batch: the statement's snapshot shows the rows that existed, RETURNING the
 * ones it added.
 */
export async function ensureDeliveries(
  sql: SqlClient,
  reqs: readonly DeliveriesToEnsure[],
): Promise<DeliveryRow[][]> {
  const ids = reqs.map((r) => r.messageId);
  const existing = `SELECT ${DELIVERY_COLUMNS} FROM "Delivery" WHERE "messageId" = ANY($1::text[])`;
  const planned = reqs.flatMap((r) =>
    r.planned.map((p) => ({ ...p, messageId: r.messageId, templateCode: r.templateCode })),
  );
  const { rows } = await sql.query<DeliveryRowOf>(
    `WITH added AS (
       INSERT INTO "Delivery" (id, "messageId", channel, "recipientIndex", "userId", email, "templateCode", status, reason, "createdAt", "updatedAt")
       SELECT u.id, u.mid, u.channel, u.idx, u.uid, u.email, u.code, u.status, u.reason, now(), now()
       FROM unnest($2::uuid[], $3::text[], $4::text[]::"Channel"[], $5::int[], $6::text[], $7::text[], $8::text[],
                   $9::text[]::"DeliveryStatus"[], $10::text[])
         AS u(id, mid, channel, idx, uid, email, code, status, reason)
       ON CONFLICT ("messageId", channel, "recipientIndex") DO NOTHING
       RETURNING ${DELIVERY_COLUMNS}
     )
     SELECT * FROM added UNION ALL ${existing}`,
    [
      ids,
      planned.map(() => randomUUID()),
      planned.map((p) => p.messageId),
      planned.map((p) => p.channel),
      planned.map((p) => p.recipientIndex),
      planned.map((p) => p.userId ?? null),
      planned.map((p) => p.email ?? null),
      planned.map((p) => p.templateCode),
      planned.map((p) => p.status),
      planned.map((p) => p.reason ?? null),
    ],
  );
  let grouped = groupByMessage(rows);
  // A consumer racing on the same id committed rows after this statement's snapshot: read them now.
  if (reqs.some((r) => (grouped.get(r.messageId)?.length ?? 0) < r.planned.length)) {
    grouped = groupByMessage((await sql.query<DeliveryRowOf>(existing, [ids])).rows);
  }
  return reqs.map((r) => grouped.get(r.messageId) ?? []);
}

/**
 * Claims due deliveries for sending: `sending` is recorded before the send, with a lease in
 * nextAttemptAt. Two consumers holding the same envelope (published twice) cannot both claim a
 * delivery; one whose consumer died mid-send becomes claimable again when its lease runs out.
 */
export async function claimDue(
  sql: SqlClient,
  messageIds: readonly string[],
  leaseMs: number,
): Promise<DeliveryRow[][]> {
  const { rows } = await sql.query<DeliveryRowOf>(
    `UPDATE "Delivery" SET status = 'sending', "nextAttemptAt" = now() + make_interval(secs => $2::double precision / 1000),
       "updatedAt" = now()
     WHERE "messageId" = ANY($1::text[])
       AND status IN ('queued', 'retrying', 'sending')
       AND ("nextAttemptAt" IS NULL OR "nextAttemptAt" <= now() + interval '200 milliseconds')
     RETURNING ${DELIVERY_COLUMNS}`,
    [messageIds, leaseMs],
  );
  const grouped = groupByMessage(rows);
  // The same id twice in one batch (published twice): only the first caller sends what was claimed.
  return messageIds.map((id) => {
    const claimed = grouped.get(id) ?? [];
    grouped.delete(id);
    return claimed;
  });
}

export interface ResultsToRecord {
  messageId: string;
  results: readonly AttemptResult[];
  messageStatus: MessageStatus;
}

/**
 * Writes attempt rows, delivery states and message statuses as one statement (data-modifying CTEs are
 * atomic like a transaction) for a whole batch of envelopes.
 */
export async function recordResults(sql: SqlClient, batch: readonly ResultsToRecord[]): Promise<void> {
  const results = batch.flatMap((b) => b.results);
  const attempts = results.filter((r) => r.outcome !== undefined);
  await sql.query(
    `WITH attempts AS (
       INSERT INTO "DeliveryAttempt" ("deliveryId", attempt, outcome, "providerId", "errorCode", "errorText", "durationMs", "createdAt")
       SELECT u.*, now() FROM unnest($3::uuid[], $4::int[], $5::text[]::"AttemptOutcome"[], $6::text[], $7::text[], $8::text[], $9::int[])
         AS u(did, attempt, outcome, provider, code, text, ms)
        -- a send recorded in its own transaction (recordSendsInTransaction) already has its row
        WHERE u.outcome <> 'sent' OR NOT EXISTS (
          SELECT 1 FROM "DeliveryAttempt" a WHERE a."deliveryId" = u.did AND a.attempt = u.attempt AND a.outcome = 'sent')
     ), deliveries AS (
       UPDATE "Delivery" d SET status = CASE WHEN d.status IN ('delivered', 'read') THEN d.status ELSE u.status END, attempts = GREATEST(d.attempts, u.attempt), "nextAttemptAt" = u.next,
         reason = u.reason, "updatedAt" = now()
       FROM unnest($10::uuid[], $11::text[]::"DeliveryStatus"[], $12::int[], $13::timestamptz[], $14::text[]) AS u(id, status, attempt, next, reason)
       WHERE d.id = u.id
     )
     UPDATE "Message" m SET status = u.status, "updatedAt" = now()
     FROM unnest($1::text[], $2::text[]::"MessageStatus"[]) AS u(id, status)
     WHERE m.id = u.id`,
    [
      batch.map((b) => b.messageId),
      batch.map((b) => b.messageStatus),
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

const REACHED: ReadonlySet<DeliveryStatus> = new Set(['sent', 'delivered', 'read']);

/**
 * dispatched while any delivery is pending; then completed when none failed, failed when one failed and none
 * reached anyone (skips send nothing), partially_failed when some failed and some went out.
 */
export function messageStatusOf(statuses: readonly DeliveryStatus[]): MessageStatus {
  if (statuses.some((s) => !TERMINAL.has(s))) return 'dispatched';
  if (!statuses.some((s) => s === 'failed')) return 'completed';
  return statuses.some((s) => REACHED.has(s)) ? 'partially_failed' : 'failed';
}

/**
 * Records sends whose send *is* a write in the same transaction (an IM item stored in the inbox): the
 * attempt row and `sent` commit with the item, so nothing that can see the item (a gateway marking it
 * delivered, a user reading it) can find its delivery without the attempt of its send, whatever crashes.
 */
export async function recordSendsInTransaction(
  tx: SqlClient,
  sends: ReadonlyArray<{ deliveryId: string; attempt: number; providerId: string }>,
): Promise<void> {
  if (sends.length === 0) return;
  await tx.query(
    `WITH u AS (
       SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[]) AS u(id, attempt, provider)
     ), attempts AS (
       INSERT INTO "DeliveryAttempt" ("deliveryId", attempt, outcome, "providerId", "durationMs", "createdAt")
       SELECT u.id, u.attempt, 'sent', u.provider, 0, now() FROM u JOIN "Delivery" d ON d.id = u.id
        WHERE NOT EXISTS (SELECT 1 FROM "DeliveryAttempt" a WHERE a."deliveryId" = u.id AND a.attempt = u.attempt)
     )
     UPDATE "Delivery" d SET status = 'sent', attempts = GREATEST(d.attempts, u.attempt), "nextAttemptAt" = NULL,
       reason = NULL, "updatedAt" = now()
       FROM u WHERE d.id = u.id AND d.status IN ('queued', 'sending', 'retrying')`,
    [sends.map((s) => s.deliveryId), sends.map((s) => s.attempt), sends.map((s) => s.providerId)],
  );
}

/** Deliveries whose item reached a live socket: `sent` → `delivered`. */
export async function markDelivered(sql: SqlClient, deliveryIds: readonly string[]): Promise<number> {
  if (deliveryIds.length === 0) return 0;
  const { rows } = await sql.query<{ id: string }>(
    `UPDATE "Delivery" SET status = 'delivered', "updatedAt" = now()
      WHERE id = ANY($1::uuid[]) AND status = 'sent'
    RETURNING id`,
    [deliveryIds],
  );
  return rows.length;
}

/** Deliveries whose item the user read: `sent` or `delivered` → `read` (in the caller's transaction). */
export async function markRead(tx: SqlClient, deliveryIds: readonly string[]): Promise<void> {
  if (deliveryIds.length === 0) return;
  await tx.query(
    `UPDATE "Delivery" SET status = 'read', "updatedAt" = now()
      WHERE id = ANY($1::uuid[]) AND status IN ('sent', 'delivered')`,
    [deliveryIds],
  );
}

export type RequeueResult =
  | { kind: 'requeued'; delivery: Record<string, unknown>; envelope: unknown; templateCode: string }
  | { kind: 'not_found' }
  | { kind: 'not_failed'; status: DeliveryStatus }
  | { kind: 'no_envelope' };

/** An admin's "send again": a failed delivery back to `queued`, its message to `dispatched`. */
export async function requeueFailed(sql: TransactionalSqlClient, deliveryId: string): Promise<RequeueResult> {
  return sql.transaction(async (tx) => {
    const found = await tx.query<{ status: DeliveryStatus; messageId: string; envelope: unknown }>(
      `SELECT d.status, d."messageId", m.envelope FROM "Delivery" d JOIN "Message" m ON m.id = d."messageId"
        WHERE d.id = $1 FOR UPDATE OF d`,
      [deliveryId],
    );
    const d = found.rows[0];
    if (!d) return { kind: 'not_found' };
    if (d.status !== 'failed') return { kind: 'not_failed', status: d.status };
    if (d.envelope === null || d.envelope === undefined) return { kind: 'no_envelope' };
    await tx.query(`UPDATE "Message" SET status = 'dispatched', "updatedAt" = now() WHERE id = $1`, [
      d.messageId,
    ]);
    const updated = await tx.query<Record<string, unknown> & { templateCode: string }>(
      `UPDATE "Delivery" SET status = 'queued', "nextAttemptAt" = NULL, reason = 'retry requested', "updatedAt" = now()
        WHERE id = $1 RETURNING *`,
      [deliveryId],
    );
    const row = updated.rows[0];
    if (!row) return { kind: 'not_found' };
    return { kind: 'requeued', delivery: row, envelope: d.envelope, templateCode: row.templateCode };
  });
}

/** What a later check (a follow-up) found out about a send the vendor had accepted. */
export type FollowUpFinding =
  | { deliveryId: string; action: 'delivered'; read: boolean }
  | { deliveryId: string; action: 'failed'; code: string; reason: string }
  /** Out of rounds without an answer: stays `sent`, with the reason noted. */
  | { deliveryId: string; action: 'unconfirmed'; reason: string };

/**
 * Records a later check's findings in one transaction: a `sent` delivery the vendor did not deliver
 * becomes `failed` with an attempt row (the checked attempt's number, the vendor's code and reason) and
 * its message's status follows; a delivered one becomes `delivered` or `read`; an unconfirmed one stays
 * `sent` with the reason noted. Deliveries no longer `sent` (checked already, retried by hand) are left
 * alone, so a check that runs twice records once.
 */
export async function recordFollowUpFindings(
  sql: TransactionalSqlClient,
  findings: readonly FollowUpFinding[],
): Promise<void> {
  if (findings.length === 0) return;
  const failed = findings.filter((f) => f.action === 'failed');
  await sql.transaction(async (tx) => {
    if (failed.length) {
      const { rows } = await tx.query<{ messageId: string }>(
        `WITH u AS (
           SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[]) AS u(id, code, reason)
         ), changed AS (
           UPDATE "Delivery" d SET status = 'failed', reason = u.reason, "updatedAt" = now()
             FROM u WHERE d.id = u.id AND d.status = 'sent'
           RETURNING d.id, d.attempts, d."messageId", u.code, u.reason
         ), attempts AS (
           INSERT INTO "DeliveryAttempt" ("deliveryId", attempt, outcome, "errorCode", "errorText", "durationMs", "createdAt")
           SELECT id, attempts, 'permanent', code, left(reason, 2000), 0, now() FROM changed
         )
         SELECT DISTINCT "messageId" FROM changed`,
        [failed.map((f) => f.deliveryId), failed.map((f) => f.code), failed.map((f) => f.reason)],
      );
      for (const { messageId } of rows) {
        const statuses = await tx.query<{ status: DeliveryStatus }>(
          `SELECT status FROM "Delivery" WHERE "messageId" = $1`,
          [messageId],
        );
        await tx.query(
          `UPDATE "Message" SET status = $2::"MessageStatus", "updatedAt" = now() WHERE id = $1`,
          [messageId, messageStatusOf(statuses.rows.map((s) => s.status))],
        );
      }
    }
    const ids = (pick: (f: FollowUpFinding) => boolean) => findings.filter(pick).map((f) => f.deliveryId);
    await markDelivered(
      tx,
      ids((f) => f.action === 'delivered' && !f.read),
    );
    await markRead(
      tx,
      ids((f) => f.action === 'delivered' && f.read),
    );
    const unconfirmed = findings.filter((f) => f.action === 'unconfirmed');
    if (unconfirmed.length)
      await tx.query(
        `UPDATE "Delivery" d SET reason = u.reason, "updatedAt" = now()
           FROM unnest($1::uuid[], $2::text[]) AS u(id, reason) WHERE d.id = u.id AND d.status = 'sent'`,
        [unconfirmed.map((f) => f.deliveryId), unconfirmed.map((f) => `unconfirmed: ${f.reason}`)],
      );
  });
}
