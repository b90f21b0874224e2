import type { AuditInTx } from '../audit/auditLog';
import type { SqlClient, TransactionalSqlClient } from '../db/sqlClient';
// The database enum, which src/senders/registry.ts checks equals the registered channel names.
import type { Channel as ChannelName } from '../generated/prisma/enums';
import {
  CHANGED_DELIVERY_COLUMNS,
  deliveryEventsFrom,
  deliveryStateEventsFrom,
  messageEventsFrom,
} from './deliveryEvents';
import {
  needsAdmission,
  plannedInsertCtes,
  plannedParams,
  type PlannedDelivery,
  type PlannedRow,
} from './plannedInsert';
import { TERMINAL, type AttemptOutcome, type DeliveryStatus, type MessageStatus } from './statuses';

export { TERMINAL, type DeliveryStatus, type MessageStatus, type PlannedDelivery };

/**
 * The hot-path writes of the pipeline (Message, Delivery, DeliveryAttempt) as set-based SQL over a batch
 * of envelopes: one statement per step whatever the number of envelopes and recipients (see
 * deliveryStore.ts, which gathers the batches). Column names follow prisma/schema.prisma.
 */

export interface DeliveryRow {
  id: string;
  channel: ChannelName;
  recipientIndex: number | null;
  recipientKey: string;
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
  /** Its attempt row was written with the send (sendsRecordedWith): recordResults writes only the state. */
  attemptRecorded?: boolean;
}

export interface AcceptedMessage {
  status: MessageStatus;
  templateVersion: number | null;
  /** The id belongs to a message that retention removed: a duplicate, with the final status it had. */
  purged?: boolean;
  /** When it was first accepted for sending: its topics are expanded as they stood then. */
  acceptedAt: Date;
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
 * again, and the id of a message that retention removed (a PurgedMessage record) is not recorded again
 * but answered with its final status. One statement for the whole batch; outputs in input order.
 */
export async function acceptMessages(
  sql: SqlClient,
  ms: readonly MessageToAccept[],
): Promise<AcceptedMessage[]> {
  const { rows } = await sql.query<AcceptedMessage & { id: string }>(
    `WITH u AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::int[], $7::text[]::jsonb[])
         AS u(id, code, version, source, trace, recipients, envelope)
     ), purged AS (
       SELECT p.id, p.status FROM "PurgedMessage" p WHERE p.id IN (SELECT id FROM u)
     ), recorded AS (
     INSERT INTO "Message" (id, "templateCode", "templateVersion", status, source, "traceId", "recipientCount", envelope, "acceptedAt", "createdAt", "updatedAt")
     SELECT u.id, u.code, u.version, 'accepted', u.source, u.trace, u.recipients, u.envelope, now(), now(), now()
     FROM u WHERE u.id NOT IN (SELECT id FROM purged)
     ON CONFLICT (id) DO UPDATE SET
       status = CASE WHEN "Message".status IN ('rejected', 'scheduled') THEN 'accepted'::"MessageStatus" ELSE "Message".status END,
       reason = CASE WHEN "Message".status = 'rejected' THEN NULL ELSE "Message".reason END,
       "templateVersion" = CASE WHEN "Message".status IN ('rejected', 'scheduled') THEN EXCLUDED."templateVersion" ELSE "Message"."templateVersion" END,
       -- A cancellation tombstone (cancelled before its envelope arrived) learns what it cancelled.
       envelope = CASE WHEN "Message".status = 'rejected' OR "Message".envelope IS NULL THEN EXCLUDED.envelope ELSE "Message".envelope END,
       "recipientCount" = CASE WHEN "Message".status = 'rejected' OR "Message".envelope IS NULL THEN EXCLUDED."recipientCount" ELSE "Message"."recipientCount" END,
       "templateCode" = CASE WHEN "Message".status = 'rejected' OR "Message".envelope IS NULL THEN EXCLUDED."templateCode" ELSE "Message"."templateCode" END,
       source = CASE WHEN "Message".status = 'rejected' THEN EXCLUDED.source ELSE "Message".source END,
       "traceId" = CASE WHEN "Message".status = 'rejected' THEN EXCLUDED."traceId" ELSE "Message"."traceId" END,
       "acceptedAt" = CASE WHEN "Message".status IN ('rejected', 'scheduled') THEN now() ELSE COALESCE("Message"."acceptedAt", now()) END,
       "updatedAt" = now()
     RETURNING id, status, "templateVersion", "templateCode", reason, "acceptedAt", false AS purged
     ), events AS (${messageEventsFrom('recorded', `c.status = 'accepted'`, `'message:' || c.id || ':accepted'`)})
     SELECT id, status, "templateVersion", "acceptedAt", purged FROM recorded
     UNION ALL SELECT id, status, NULL::int, now(), true FROM purged`,
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
  const byId = new Map(
    rows.map((r) => [
      r.id,
      {
        status: r.status,
        templateVersion: r.templateVersion,
        acceptedAt: new Date(r.acceptedAt),
        ...(r.purged ? { purged: true } : {}),
      },
    ]),
  );
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
    `WITH up AS (
       INSERT INTO "Message" (id, "templateCode", status, reason, "createdAt", "updatedAt")
       VALUES ($1, $2, 'rejected', $3, now(), now())
       ON CONFLICT (id) DO UPDATE SET reason = EXCLUDED.reason, "updatedAt" = now() WHERE "Message".status = 'rejected'
       RETURNING id, "templateCode", status, reason
     )
     ${messageEventsFrom('up', 'true', 'NULL::text')}`,
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
    `WITH up AS (
     INSERT INTO "Message" (id, "templateCode", status, source, "traceId", "recipientCount", envelope, "sendAt", "createdAt", "updatedAt")
     SELECT $1, $2, 'scheduled', $3, $4, $5, $6::jsonb, $7::timestamptz, now(), now()
     WHERE NOT EXISTS (SELECT 1 FROM "PurgedMessage" WHERE id = $1)
     ON CONFLICT (id) DO UPDATE SET
       status = CASE WHEN "Message".status = 'rejected' THEN 'scheduled'::"MessageStatus" ELSE "Message".status END,
       envelope = CASE WHEN "Message".status = 'rejected' THEN EXCLUDED.envelope ELSE "Message".envelope END,
       "sendAt" = COALESCE("Message"."sendAt", EXCLUDED."sendAt"),
       reason = CASE WHEN "Message".status = 'rejected' THEN NULL ELSE "Message".reason END,
       "updatedAt" = now()
     RETURNING id, "templateCode", status, reason
     ), events AS (${messageEventsFrom('up', `c.status = 'scheduled'`, `'message:' || c.id || ':scheduled'`)})
     SELECT status FROM up`,
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
  if (rows[0]) return rows[0].status;
  // Nothing written: retention removed a message of this id; it is a duplicate with that final status.
  const purged = await tx.query<{ status: MessageStatus }>(
    `SELECT status FROM "PurgedMessage" WHERE id = $1`,
    [m.id],
  );
  return purged.rows[0]?.status ?? 'scheduled';
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

/**
 * How early a retry may be claimed (a wake-up a little early is no harm); a deferred delivery waits for
 * the end of quiet hours exactly, never before.
 */
const DUE_SLACK = `CASE WHEN status = 'deferred' THEN interval '0' ELSE interval '200 milliseconds' END`;

const DELIVERY_COLUMNS = `id, "messageId", channel, "recipientIndex", "recipientKey", status, attempts, "nextAttemptAt"`;
const QUALIFIED_COLUMNS = DELIVERY_COLUMNS.split(', ')
  .map((c) => `d.${c}`)
  .join(', ');
type DeliveryRowOf = DeliveryRow & { messageId: string };

function groupByMessage<R extends DeliveryRow>(
  rows: ReadonlyArray<R & { messageId: string }>,
): Map<string, R[]> {
  const out = new Map<string, R[]>();
  for (const { messageId, ...rest } of rows) {
    const row = rest as unknown as R;
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

/** A delivery as ensure returns it: `skippedNow` is the reason when this very call added it skipped. */
export type EnsuredDelivery = DeliveryRow & { skippedNow?: string | null };

/** The rows a statement added (and why, when skipped), then `existing`: one result. */
const addedThenExisting = (admit: boolean, existing: string) => `WITH ${plannedInsertCtes(admit)},
     events AS (${deliveryEventsFrom('added', `c.status = 'skipped'`)})
     SELECT ${DELIVERY_COLUMNS}, CASE WHEN status = 'skipped' THEN reason END AS "skippedNow" FROM added
     UNION ALL SELECT ${DELIVERY_COLUMNS}, NULL FROM (${existing}) x`;

/** A re-read (after a race) keeps what the first statement said about the rows it added. */
function keepSkippedNow(first: readonly EnsuredDelivery[], again: EnsuredDelivery[]): EnsuredDelivery[] {
  const why = new Map(first.flatMap((r) => (r.skippedNow ? [[r.id, r.skippedNow] as const] : [])));
  return why.size ? again.map((r) => ({ ...r, skippedNow: why.get(r.id) ?? null })) : again;
}

/**
 * Inserts the planned deliveries (ignoring ones that exist; throttled and duplicated ones as skipped,
 * see plannedInsert.ts) and returns every delivery of each message, in one round trip for the batch: the
 * statement's snapshot shows the rows that existed, RETURNING the ones it added.
 */
export async function ensureDeliveries(
  sql: SqlClient,
  reqs: readonly DeliveriesToEnsure[],
): Promise<EnsuredDelivery[][]> {
  const ids = reqs.map((r) => r.messageId);
  const existing = `SELECT ${DELIVERY_COLUMNS} FROM "Delivery" WHERE "messageId" = ANY($1::text[])`;
  const planned: PlannedRow[] = reqs.flatMap((r) =>
    r.planned.map((p) => ({ ...p, messageId: r.messageId, templateCode: r.templateCode })),
  );
  const admit = needsAdmission(planned);
  const { rows } = await sql.query<EnsuredDelivery & { messageId: string }>(
    addedThenExisting(admit, existing),
    [ids, ...plannedParams(planned, admit)],
  );
  let grouped = groupByMessage(rows);
  // A consumer racing on the same id committed rows after this statement's snapshot: read them now.
  if (reqs.some((r) => (grouped.get(r.messageId)?.length ?? 0) < r.planned.length)) {
    const again = (await sql.query<EnsuredDelivery & { messageId: string }>(existing, [ids])).rows;
    grouped = groupByMessage(keepSkippedNow(rows, again) as typeof rows);
  }
  return reqs.map((r) => grouped.get(r.messageId) ?? []);
}

/**
 * One page of a large audience (a topic's members): inserts its planned deliveries and returns the rows
 * of exactly those (message, channel, key), existing or new, so no step holds the whole audience.
 */
export async function ensureDeliveryPage(
  sql: SqlClient,
  req: DeliveriesToEnsure,
): Promise<EnsuredDelivery[]> {
  if (req.planned.length === 0) return [];
  const p: PlannedRow[] = req.planned.map((d) => ({
    ...d,
    messageId: req.messageId,
    templateCode: req.templateCode,
  }));
  const admit = needsAdmission(p);
  // One probe of the unique index per key. As a plain join PostgreSQL hashed every delivery of the message
  // for each page, so a topic's pages grew slower as it went (24 ms a page at 60,000 rows, against 2 ms);
  // LIMIT 1 (there is at most one row per key) keeps the lateral from being flattened into that join.
  const existing = (id: string, channels: string, keys: string) =>
    `SELECT ${QUALIFIED_COLUMNS} FROM unnest(${channels}::text[]::"Channel"[], ${keys}::text[]) AS k(channel, rkey)
       CROSS JOIN LATERAL (SELECT ${DELIVERY_COLUMNS} FROM "Delivery" x
         WHERE x."messageId" = ${id} AND x.channel = k.channel AND x."recipientKey" = k.rkey LIMIT 1) d`;
  let { rows } = await sql.query<EnsuredDelivery & { messageId: string }>(
    addedThenExisting(admit, existing('$1', '$4', '$11')),
    [req.messageId, ...plannedParams(p, admit)],
  );
  // A consumer racing on the same page committed rows after this statement's snapshot: read them now.
  if (rows.length < p.length) {
    const again = await sql.query<EnsuredDelivery & { messageId: string }>(existing('$1', '$2', '$3'), [
      req.messageId,
      p.map((d) => d.channel),
      p.map((d) => d.recipientKey),
    ]);
    rows = keepSkippedNow(rows, again.rows) as typeof rows;
  }
  return rows.map(({ messageId: _m, ...row }) => row);
}

/** claimDue for the given deliveries of one message only (a page of a large audience). */
export async function claimDueByIds(
  sql: SqlClient,
  messageId: string,
  ids: readonly string[],
  leaseMs: number,
): Promise<DeliveryRow[]> {
  if (ids.length === 0) return [];
  const { rows } = await sql.query<DeliveryRowOf>(
    `UPDATE "Delivery" SET status = 'sending', "nextAttemptAt" = now() + make_interval(secs => $3::double precision / 1000),
       "updatedAt" = now()
     WHERE "messageId" = $1 AND id = ANY($2::uuid[])
       AND status IN ('queued', 'retrying', 'sending', 'deferred')
       AND ("nextAttemptAt" IS NULL OR "nextAttemptAt" <= now() + ${DUE_SLACK})
     RETURNING ${DELIVERY_COLUMNS}`,
    [messageId, ids, leaseMs],
  );
  return rows.map(({ messageId: _m, ...row }) => row);
}

/** A message's deliveries counted by status, with the earliest time one still pending (not deferred) is due. */
export async function tallyDeliveries(
  sql: SqlClient,
  messageId: string,
): Promise<{ counts: Map<DeliveryStatus, number>; nextDue?: Date; sendingDue?: Date; total: number }> {
  const { rows } = await sql.query<{ status: DeliveryStatus; n: number; next: Date | string | null }>(
    `SELECT status, count(*)::int AS n, min("nextAttemptAt") AS next FROM "Delivery" WHERE "messageId" = $1 GROUP BY status`,
    [messageId],
  );
  const counts = new Map<DeliveryStatus, number>();
  let nextDue: Date | undefined;
  let sendingDue: Date | undefined;
  let total = 0;
  for (const r of rows) {
    counts.set(r.status, Number(r.n));
    total += Number(r.n);
    // A deferred delivery has its own scheduler row (consumer/quietHours.ts) to wake its message.
    if (TERMINAL.has(r.status) || r.status === 'deferred') continue;
    const next = r.next === null ? new Date(0) : new Date(r.next);
    if (r.status === 'sending') sendingDue = next;
    else if (!nextDue || next < nextDue) nextDue = next;
  }
  return { counts, nextDue, sendingDue, total };
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
    // `status::text`: the status index must not be used here. Its dead entries (every status change leaves
    // one until vacuum) were ANDed in and read by the hundred thousand per claim, while its statistics,
    // lagging a table that grew fast, said a few thousand; by message the deliveries are a handful.
    `UPDATE "Delivery" d SET status = 'sending', "nextAttemptAt" = now() + make_interval(secs => $2::double precision / 1000),
       "updatedAt" = now()
     WHERE d."messageId" = ANY($1::text[])
       AND d.status::text IN ('queued', 'retrying', 'sending', 'deferred')
       AND (d."nextAttemptAt" IS NULL OR d."nextAttemptAt" <= now() + ${DUE_SLACK})
     RETURNING ${QUALIFIED_COLUMNS}`,
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
  // A send recorded with its item (sendsRecordedWith) already has its attempt row and its `sent`
  // state: writing the delivery again would only cost another update of a heavily indexed row.
  const results = batch.flatMap((b) => b.results.filter((r) => !r.attemptRecorded));
  const attempts = results.filter((r) => r.outcome !== undefined);
  await sql.query(
    `WITH attempts AS (
       INSERT INTO "DeliveryAttempt" ("deliveryId", attempt, outcome, "providerId", "errorCode", "errorText", "durationMs", "createdAt")
       SELECT u.*, now() FROM unnest($3::uuid[], $4::int[], $5::text[]::"AttemptOutcome"[], $6::text[], $7::text[], $8::text[], $9::int[])
         AS u(did, attempt, outcome, provider, code, text, ms)
     ), deliveries AS (
       UPDATE "Delivery" d SET status = CASE WHEN d.status IN ('delivered', 'read') THEN d.status ELSE u.status END, attempts = GREATEST(d.attempts, u.attempt), "nextAttemptAt" = u.next,
         reason = u.reason, "updatedAt" = now()
       FROM unnest($10::uuid[], $11::text[]::"DeliveryStatus"[], $12::int[], $13::timestamptz[], $14::text[]) AS u(id, status, attempt, next, reason),
         "Delivery" o -- the row before this statement, to tell a change from a repeat
       WHERE d.id = u.id AND o.id = u.id
       RETURNING ${CHANGED_DELIVERY_COLUMNS}, o.status AS previous
     ), events AS (${deliveryEventsFrom('deliveries', `c.status <> c.previous AND c.status IN ('sent', 'failed', 'skipped')`)})
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
 * reached anyone (skips send nothing), partially_failed when some failed and some went out; cancelled when
 * a delivery was cancelled and nothing went out (so cancelMessage and a later redispatch agree).
 */
export function messageStatusOf(statuses: readonly DeliveryStatus[]): MessageStatus {
  if (statuses.some((s) => !TERMINAL.has(s))) return 'dispatched';
  const reached = statuses.some((s) => REACHED.has(s));
  if (!reached && statuses.includes('cancelled')) return 'cancelled';
  // Collected into digests: the digest messages send it (and carry the outcome).
  if (!reached && statuses.includes('digested') && !statuses.includes('failed')) return 'digested';
  if (!statuses.some((s) => s === 'failed')) return 'completed';
  return reached ? 'partially_failed' : 'failed';
}

/**
 * The CTEs that record in-site sends with their items, for the statement that inserts the items: an
 * attempt row and `sent` (with its event) for each item the statement created, so that nothing that
 * observes the item (a socket's ack marking it delivered, a user reading it) can find its delivery without
 * the attempt of its send, whatever crashes. `created` names a CTE of the items the statement inserted
 * (its ON CONFLICT DO NOTHING … RETURNING, with "deliveryId" and the item's id), `attempts` one with `did`
 * and `attempt` per delivery: no row of that attempt can exist yet, so no anti-join over the attempt log,
 * whose plan turned into a sequential scan of the whole table while the table grew faster than its
 * statistics.
 */
export function sendsRecordedWith(created: string, attempts: string): string {
  return `sent_items AS (
       SELECT i.id AS provider, i."deliveryId" AS did, a.attempt
         FROM ${created} i JOIN ${attempts} a ON a.did = i."deliveryId"
         JOIN "Delivery" d ON d.id = i."deliveryId"
        WHERE a.attempt IS NOT NULL
     ), sent_attempts AS (
       INSERT INTO "DeliveryAttempt" ("deliveryId", attempt, outcome, "providerId", "durationMs", "createdAt")
       SELECT s.did, s.attempt, 'sent', s.provider, 0, now() FROM sent_items s
     ), sent_changed AS (
       UPDATE "Delivery" d SET status = 'sent', attempts = GREATEST(d.attempts, s.attempt), "nextAttemptAt" = NULL,
         reason = NULL, "updatedAt" = now()
         FROM sent_items s WHERE d.id = s.did AND d.status IN ('queued', 'sending', 'retrying')
       RETURNING ${CHANGED_DELIVERY_COLUMNS}
     ), sent_events AS (${deliveryEventsFrom('sent_changed')})`;
}

/** Deliveries whose item reached a live socket: `sent` → `delivered`. */
export async function markDelivered(sql: SqlClient, deliveryIds: readonly string[]): Promise<number> {
  if (deliveryIds.length === 0) return 0;
  const { rows } = await sql.query<{ id: string }>(
    `WITH changed AS (
       UPDATE "Delivery" d SET status = 'delivered', "updatedAt" = now()
        WHERE d.id = ANY($1::uuid[]) AND d.status = 'sent'
       RETURNING ${CHANGED_DELIVERY_COLUMNS}
     ), events AS (${deliveryEventsFrom('changed')})
     SELECT id FROM changed`,
    [deliveryIds],
  );
  return rows.length;
}

/**
 * Deliveries whose item the user read: `sent` or `delivered` → `read` (with its event), and the first read
 * (and seen) time recorded, in the caller's transaction.
 */
export async function markRead(tx: SqlClient, deliveryIds: readonly string[]): Promise<void> {
  if (deliveryIds.length === 0) return;
  await tx.query(
    `WITH changed AS (
       UPDATE "Delivery" d SET status = CASE WHEN d.status IN ('sent', 'delivered') THEN 'read' ELSE d.status END,
              "readAt" = COALESCE(d."readAt", now()), "seenAt" = COALESCE(d."seenAt", now()), "updatedAt" = now()
        WHERE d.id = ANY($1::uuid[]) AND (d.status IN ('sent', 'delivered') OR d."readAt" IS NULL)
       RETURNING ${CHANGED_DELIVERY_COLUMNS}
     )
     ${deliveryEventsFrom('changed', `c.status = 'read'`)}`,
    [deliveryIds],
  );
}

/** Deliveries whose item the user saw in a list: the first time is recorded, with a `delivery.seen` event. */
export async function markSeen(tx: SqlClient, deliveryIds: readonly string[]): Promise<void> {
  if (deliveryIds.length === 0) return;
  await tx.query(
    `WITH changed AS (
       UPDATE "Delivery" d SET "seenAt" = now(), "updatedAt" = now()
        WHERE d.id = ANY($1::uuid[]) AND d."seenAt" IS NULL
       RETURNING ${CHANGED_DELIVERY_COLUMNS}
     )
     ${deliveryStateEventsFrom('changed', 'seen')}`,
    [deliveryIds],
  );
}

/**
 * The user took an action on the delivery's item: recorded once with its key and one `delivery.actioned`
 * event; the item counts as read.
 */
export async function markActioned(tx: SqlClient, deliveryId: string, action: string): Promise<void> {
  await markRead(tx, [deliveryId]);
  await tx.query(
    `WITH changed AS (
       UPDATE "Delivery" d SET "actionedAt" = now(), action = $2, "updatedAt" = now()
        WHERE d.id = $1::uuid AND d."actionedAt" IS NULL
       RETURNING ${CHANGED_DELIVERY_COLUMNS}, d.action
     )
     ${deliveryStateEventsFrom('changed', 'actioned')}`,
    [deliveryId, action],
  );
}

export type RequeueResult =
  | { kind: 'requeued'; delivery: Record<string, unknown>; envelope: unknown; templateCode: string }
  | { kind: 'not_found' }
  | { kind: 'not_failed'; status: DeliveryStatus }
  | { kind: 'no_envelope' };

/** An admin's "send again": a failed delivery back to `queued`, its message to `dispatched`. */
/** `audit`, the change's audit row, is written with the requeued row in the requeue's transaction. */
export async function requeueFailed(
  sql: TransactionalSqlClient,
  deliveryId: string,
  audit?: AuditInTx<Record<string, unknown>>,
): Promise<RequeueResult> {
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
    await audit?.({ sql: tx }, row);
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
           RETURNING ${CHANGED_DELIVERY_COLUMNS}, u.code
         ), events AS (${deliveryEventsFrom('changed')}), attempts AS (
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
