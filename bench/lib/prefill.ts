import { createInboxStore } from '../../src/inbox/inboxStore';
import type { Database } from '../../src/db/database';

/** Rows per INSERT … SELECT generate_series: big enough to be quick, small enough to keep WAL bursts short. */
const CHUNK = 250_000;

/**
 * Old history for the cost curves: `rows` messages of another template, each with one sent delivery and
 * its attempt row, as months of traffic would leave them. Returns the seconds it took.
 */
export async function prefillDeliveries(db: Database, rows: number, tag: string): Promise<number> {
  const t0 = Date.now();
  for (let from = 0; from < rows; from += CHUNK) {
    const to = Math.min(rows, from + CHUNK) - 1;
    await db.sql.query(
      `INSERT INTO "Message" (id, "templateCode", "templateVersion", status, "recipientCount", "createdAt", "updatedAt")
       SELECT $1 || '-' || g, $1, 1, 'completed', 1, now() - interval '30 days', now() - interval '30 days'
       FROM generate_series($2::int, $3::int) g`,
      [tag, from, to],
    );
    await db.sql.query(
      `INSERT INTO "Delivery" (id, "messageId", channel, "recipientIndex", "recipientKey", "userId", "templateCode", status, attempts, "createdAt", "updatedAt")
       SELECT gen_random_uuid(), $1 || '-' || g, 'im', 0, 'user:' || $1 || '-u' || (g % 1000), $1 || '-u' || (g % 1000), $1, 'sent', 1,
              now() - interval '30 days', now() - interval '30 days'
       FROM generate_series($2::int, $3::int) g`,
      [tag, from, to],
    );
  }
  await db.sql.query(
    `INSERT INTO "DeliveryAttempt" ("deliveryId", attempt, outcome, "durationMs", "createdAt")
     SELECT id, 1, 'sent', 1, "createdAt" FROM "Delivery" WHERE "templateCode" = $1`,
    [tag],
  );
  for (const table of ['Message', 'Delivery', 'DeliveryAttempt']) await db.sql.query(`ANALYZE "${table}"`);
  return (Date.now() - t0) / 1000;
}

/**
 * `items` inbox items for one user, every other one read (and so seen), in three categories, two tags and
 * four severities, as a long-lived account would hold; the counts (and every declared tab's) are then
 * recomputed from them, as `herald inbox recount` does.
 */
export async function prefillInbox(db: Database, userId: string, items: number): Promise<void> {
  for (let from = 1; from <= items; from += CHUNK) {
    const to = Math.min(items, from + CHUNK - 1);
    await db.sql.query(
      `INSERT INTO "InboxItem" (id, "userId", seq, title, body, category, tags, severity, "createdAt",
                                "readAt", "seenAt")
       SELECT gen_random_uuid(), $1, g, 'old ' || g, 'body ' || g,
              (ARRAY['orders', 'billing', 'security'])[g % 3 + 1], ARRAY[(ARRAY['eu', 'us'])[g % 2 + 1]],
              (ARRAY['low', 'normal', 'high', 'critical'])[g % 4 + 1], now(),
              CASE WHEN g % 2 = 0 THEN now() END, CASE WHEN g % 2 = 0 THEN now() END
       FROM generate_series($2::int, $3::int) g`,
      [userId, from, to],
    );
  }
  await db.sql.query(
    `INSERT INTO "InboxCounter" ("userId", "lastSeq") VALUES ($1, $2)
     ON CONFLICT ("userId") DO UPDATE SET "lastSeq" = EXCLUDED."lastSeq"`,
    [userId, items],
  );
  await db.sql.query(`ANALYZE "InboxItem"`);
  await createInboxStore(db.sql).recount(userId);
}
