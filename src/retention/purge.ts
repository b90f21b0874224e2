import type { SqlClient, TransactionalSqlClient } from '../db/sqlClient';
import { DIGEST_JOB } from '../delivery/digestState';
import type { MessageStatus } from '../delivery/statuses';
import { ENVELOPE_JOB } from '../scheduler/envelopeJobs';
import { sequenceEvents } from '../events/sequencer';

/** Message statuses nothing moves on from; a message in any other status is never removed. */
export const FINISHED_MESSAGE_STATUSES: readonly MessageStatus[] = [
  'completed',
  'partially_failed',
  'failed',
  'rejected',
  'cancelled',
  // Collected into digests: kept, like any message, while a digest window it went into is kept.
  'digested',
];

export interface PurgeLimits {
  /** Messages looked at per batch. */
  messages: number;
  /**
   * Deliveries (estimated from each message's recipient count) one batch may take with it: a batch stops
   * early at a message of 1,000 recipients, so no single delete holds locks on a million rows.
   */
  deliveries: number;
  /**
   * Read inbox items, kept records of removed messages, status events, webhook attempts and digest windows,
   * per batch.
   */
  rows: number;
}

export const DEFAULT_PURGE_LIMITS: PurgeLimits = { messages: 500, deliveries: 5_000, rows: 5_000 };

export interface PurgeBatch {
  messages: number;
  inboxItems: number;
  purgedRecords: number;
  statusEvents: number;
  webhookAttempts: number;
  /** Finished digest windows (DigestBucket rows) whose digest message is gone or never was. */
  digestWindows: number;
  /** Throttle windows and deduplication keys past their window (they decide nothing any more). */
  expiredChecks: number;
  /** Some kind filled its batch: there is likely more to remove right away. */
  more: boolean;
}

/**
 * One batch of retention: finished messages older than `cutoff` (created and last changed before it) go,
 * their deliveries and attempts with them (ON DELETE CASCADE), each leaving a PurgedMessage record of its
 * id and final status; read inbox items read before the cutoff go; records of removed messages that were
 * themselves made before the cutoff go; status events and webhook attempts made before the cutoff go
 * (events only as `EVENTS_DONE_WITH` allows, numbered first by `numberOldEvents` when no endpoint did);
 * finished digest windows that ended before the cutoff go (as `DIGEST_WINDOWS_DONE_WITH` allows); throttle windows and deduplication keys whose window has
 * passed go (whatever the cutoff: they decide nothing any more). A message with a delivery still queued,
 * sending or retrying, or collected into a digest window still kept, is kept whatever its status says. Rows locked by a writer are skipped (SKIP LOCKED),
 * so a purge never waits on dispatch.
 */
export async function purgeBatch(
  db: TransactionalSqlClient,
  cutoff: Date,
  limits: PurgeLimits = DEFAULT_PURGE_LIMITS,
): Promise<PurgeBatch> {
  const messages = await db.transaction((tx) => purgeMessages(tx, cutoff, limits));
  const inboxItems = await deleteByIds(
    db,
    `SELECT id FROM "InboxItem" WHERE "readAt" < $1 ORDER BY "readAt" LIMIT $2 FOR UPDATE SKIP LOCKED`,
    `DELETE FROM "InboxItem" WHERE id = ANY($1::uuid[])`,
    cutoff,
    limits.rows,
  );
  const purgedRecords = await deleteByIds(
    db,
    `SELECT id FROM "PurgedMessage" WHERE "purgedAt" < $1 ORDER BY "purgedAt" LIMIT $2 FOR UPDATE SKIP LOCKED`,
    `DELETE FROM "PurgedMessage" WHERE id = ANY($1::text[])`,
    cutoff,
    limits.rows,
  );
  await numberOldEvents(db, cutoff);
  const statusEvents = await deleteByIds(
    db,
    `SELECT e.id FROM "StatusEvent" e WHERE ${EVENTS_DONE_WITH}
      ORDER BY e.seq LIMIT $2 FOR UPDATE OF e SKIP LOCKED`,
    `DELETE FROM "StatusEvent" WHERE id = ANY($1::uuid[])`,
    cutoff,
    limits.rows,
  );
  const webhookAttempts = await deleteByIds(
    db,
    `SELECT id::text AS id FROM "StatusWebhookAttempt" WHERE "createdAt" < $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`,
    `DELETE FROM "StatusWebhookAttempt" WHERE id = ANY($1::bigint[])`,
    cutoff,
    limits.rows,
  );
  const digestWindows = await deleteByIds(
    db,
    `SELECT b.id FROM "DigestBucket" b WHERE ${DIGEST_WINDOWS_DONE_WITH}
      ORDER BY b."createdAt", b.id LIMIT $2 FOR UPDATE OF b SKIP LOCKED`,
    `DELETE FROM "DigestBucket" WHERE id = ANY($1::text[])`,
    cutoff,
    limits.rows,
  );
  const expired = await deleteExpiredChecks(db, limits.rows);
  return {
    messages: messages.removed,
    inboxItems,
    purgedRecords,
    statusEvents,
    webhookAttempts,
    digestWindows,
    expiredChecks: expired.removed,
    more:
      messages.full ||
      expired.full ||
      [inboxItems, purgedRecords, statusEvents, webhookAttempts, digestWindows].some(
        (n) => n === limits.rows,
      ),
  };
}

/**
 * Numbers every event still unnumbered once the oldest of them is older than the cutoff. Nothing else
 * numbers events while no webhook endpoint exists, and only numbered events are ever removed, so without
 * this the log grew for good. All of them at once, not a batch: the sequencer finds its work by sorting
 * every unnumbered event, so leaving the retention window's worth unnumbered would make each batch sort
 * all of it; after the first run only the events since the last one are left. Numbering is the
 * sequencer's own step, under its lock, so it keeps what startFromNow counts on (highest number plus the
 * unnumbered) for an endpoint created meanwhile; deleting unnumbered events instead would shrink that
 * count under it and hide the endpoint's first events.
 */
async function numberOldEvents(db: TransactionalSqlClient, cutoff: Date): Promise<void> {
  const { rows } = await db.query<{ old: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM "StatusEvent" WHERE seq IS NULL AND "occurredAt" < $1) AS old`,
    [cutoff],
  );
  if (rows[0]?.old) await sequenceEvents(db, Number.MAX_SAFE_INTEGER);
}

/**
 * The status events (`e`) retention may remove, made before the cutoff (`$1`): numbered, and so handed
 * to every status-webhook endpoint that reads the log, or skipped by its filters: at or below the lowest
 * endpoint cursor, a disabled endpoint's too, since it resumes from its cursor when re-enabled (delete an
 * endpoint that will not come back, or it holds the log). Never the highest number, which the sequencer
 * continues from: numbering again from a lower one would hide the next events from every cursor past it.
 * Never an event of a message still kept, whose timeline shows it.
 */
const EVENTS_DONE_WITH = `e."occurredAt" < $1 AND e.seq IS NOT NULL
  AND e.seq < (SELECT max(seq) FROM "StatusEvent")
  AND NOT EXISTS (SELECT 1 FROM "StatusWebhook" w WHERE w.cursor < e.seq)
  AND (e."messageId" IS NULL OR NOT EXISTS (SELECT 1 FROM "Message" m WHERE m.id = e."messageId"))`;

/**
 * The digest windows (`b`) retention may remove, ended before the cutoff (`$1`): closed, with no flush
 * pending and no digest message queued or kept (GET /v1/digests reads the message's outcome through the
 * window, so the window outlives it), and either flushed (the message was removed: its record says so) or
 * with nothing collected left to send. A window whose flush was lost keeps its collected deliveries
 * `digested` with no message: it stays for the digest sweep (src/consumer/digestSweep.ts) to flush.
 */
const DIGEST_WINDOWS_DONE_WITH = `b."createdAt" < $1 AND b."closesAt" < $1 AND b."openKey" IS NULL
  AND NOT EXISTS (SELECT 1 FROM "Message" m WHERE m.id = b.id)
  AND NOT EXISTS (SELECT 1 FROM "ScheduledJob" j WHERE j.kind IN ('${DIGEST_JOB}', '${ENVELOPE_JOB}') AND j.key = b.id)
  AND (EXISTS (SELECT 1 FROM "PurgedMessage" p WHERE p.id = b.id)
       OR NOT EXISTS (SELECT 1 FROM "Delivery" d WHERE d."digestMessageId" = b.id AND d.status = 'digested'))`;

async function purgeMessages(
  tx: SqlClient,
  cutoff: Date,
  limits: PurgeLimits,
): Promise<{ removed: number; full: boolean }> {
  const { rows } = await tx.query<{ removed: number; looked: number }>(
    `WITH candidate AS (
       SELECT m.id, m.status, m."updatedAt", m."createdAt", GREATEST(m."recipientCount", 1) AS weight
       FROM "Message" m
       WHERE m."createdAt" < $1 AND m."updatedAt" < $1 AND m.status = ANY($2::"MessageStatus"[])
         AND NOT EXISTS (
           SELECT 1 FROM "Delivery" d
           WHERE d."messageId" = m.id AND d.status IN ('queued', 'sending', 'retrying', 'deferred'))
         -- A digest window reads its events from the messages it collected until it is removed itself.
         AND NOT EXISTS (
           SELECT 1 FROM "Delivery" d JOIN "DigestBucket" b ON b.id = d."digestMessageId"
           WHERE d."messageId" = m.id AND d."digestMessageId" IS NOT NULL)
       ORDER BY m."createdAt"
       LIMIT $3
       FOR UPDATE OF m SKIP LOCKED
     ), weighed AS (
       SELECT id, status, "updatedAt", weight,
              sum(weight) OVER (ORDER BY "createdAt", id) AS running
       FROM candidate
     ), doomed AS (
       -- Always the first message, then as many as fit under the delivery budget.
       SELECT id, status, "updatedAt" FROM weighed WHERE running - weight < $4
     ), removed AS (
       DELETE FROM "Message" m USING doomed WHERE m.id = doomed.id
       RETURNING m.id, m.status, m."updatedAt"
     ), recorded AS (
       INSERT INTO "PurgedMessage" (id, status, "finishedAt", "purgedAt")
       SELECT id, status, "updatedAt", now() FROM removed
       ON CONFLICT (id) DO UPDATE
         SET status = EXCLUDED.status, "finishedAt" = EXCLUDED."finishedAt", "purgedAt" = EXCLUDED."purgedAt"
       RETURNING 1
     )
     SELECT (SELECT count(*) FROM recorded)::int AS removed, (SELECT count(*) FROM candidate)::int AS looked`,
    [cutoff.toISOString(), FINISHED_MESSAGE_STATUSES, limits.messages, limits.deliveries],
  );
  const r = rows[0] ?? { removed: 0, looked: 0 };
  // Fewer removed than looked at means the delivery budget cut the batch short: more is waiting.
  return { removed: r.removed, full: r.looked === limits.messages || r.removed < r.looked };
}

/** Up to `limit` expired rows each of ThrottleWindow and DedupeKey, whatever the retention's age. */
async function deleteExpiredChecks(
  db: SqlClient,
  limit: number,
): Promise<{ removed: number; full: boolean }> {
  const { rows } = await db.query<{ n: number; most: number }>(
    `WITH windows AS (
       DELETE FROM "ThrottleWindow" w USING (
         SELECT "templateCode", channel, "recipientKey", key FROM "ThrottleWindow"
          WHERE "expiresAt" < now() ORDER BY "expiresAt" LIMIT $1 FOR UPDATE SKIP LOCKED) x
        WHERE (w."templateCode", w.channel, w."recipientKey", w.key) = (x."templateCode", x.channel, x."recipientKey", x.key)
       RETURNING 1
     ), keys AS (
       DELETE FROM "DedupeKey" k USING (
         SELECT "templateCode", channel, "recipientKey", "contentHash" FROM "DedupeKey"
          WHERE "expiresAt" < now() ORDER BY "expiresAt" LIMIT $1 FOR UPDATE SKIP LOCKED) x
        WHERE (k."templateCode", k.channel, k."recipientKey", k."contentHash") = (x."templateCode", x.channel, x."recipientKey", x."contentHash")
       RETURNING 1
     )
     SELECT greatest((SELECT count(*) FROM windows), (SELECT count(*) FROM keys))::int AS most,
            ((SELECT count(*) FROM windows) + (SELECT count(*) FROM keys))::int AS n`,
    [limit],
  );
  return { removed: rows[0]?.n ?? 0, full: rows[0]?.most === limit };
}

async function deleteByIds(
  db: TransactionalSqlClient,
  select: string,
  remove: string,
  cutoff: Date,
  limit: number,
): Promise<number> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ id: string }>(select, [cutoff.toISOString(), limit]);
    if (!rows.length) return 0;
    await tx.query(remove, [rows.map((r) => r.id)]);
    return rows.length;
  });
}

/** The final status retention recorded for each of `ids` that it removed. */
export async function purgedStatuses(
  sql: SqlClient,
  ids: readonly string[],
): Promise<Map<string, { status: MessageStatus; finishedAt: Date; purgedAt: Date }>> {
  if (!ids.length) return new Map();
  const { rows } = await sql.query<{ id: string; status: MessageStatus; finishedAt: Date; purgedAt: Date }>(
    `SELECT id, status, "finishedAt", "purgedAt" FROM "PurgedMessage" WHERE id = ANY($1::text[])`,
    [ids],
  );
  return new Map(
    rows.map((r) => [
      r.id,
      { status: r.status, finishedAt: new Date(r.finishedAt), purgedAt: new Date(r.purgedAt) },
    ]),
  );
}
