import { randomUUID } from 'node:crypto';
import type { Channel as ChannelName } from '../generated/prisma/enums';
import { CHANGED_DELIVERY_COLUMNS } from './deliveryEvents';

/** What a delivery is checked against when it is added: the template's throttle and deduplication. */
export interface Admission {
  /** The throttle's budget: per template, channel, recipient and `key` (the key's value, '' without one). */
  throttle?: { key: string; limit: number; windowMs: number };
  /** The delivery's rendered content, hashed: the same again to the same recipient is a duplicate. */
  dedupe?: { contentHash: string; windowMs: number };
}

export interface PlannedDelivery extends Admission {
  channel: ChannelName;
  /** Index into envelope.to; -1 for the one post of a group channel; null for a topic member. */
  recipientIndex: number | null;
  /** Unique per message and channel: `user:<id>`, `address:<address>`, `group` or `index:<n>`. */
  recipientKey: string;
  userId?: string;
  email?: string;
  status: 'queued' | 'skipped';
  reason?: string;
}

export type PlannedRow = PlannedDelivery & { messageId: string; templateCode: string };

export const needsAdmission = (rows: readonly Admission[]): boolean =>
  rows.some((r) => r.throttle !== undefined || r.dedupe !== undefined);

/** The statement's parameters from $2 on, in the order plannedInsertCtes reads them. */
export function plannedParams(rows: readonly PlannedRow[], admit: boolean): unknown[] {
  const base = [
    rows.map(() => randomUUID()),
    rows.map((p) => p.messageId),
    rows.map((p) => p.channel),
    rows.map((p) => p.recipientIndex),
    rows.map((p) => p.userId ?? null),
    rows.map((p) => p.email ?? null),
    rows.map((p) => p.templateCode),
    rows.map((p) => p.status),
    rows.map((p) => p.reason ?? null),
    rows.map((p) => p.recipientKey),
  ];
  if (!admit) return base;
  return [
    ...base,
    rows.map((p) => p.throttle?.key ?? null),
    rows.map((p) => p.throttle?.limit ?? null),
    rows.map((p) => p.throttle?.windowMs ?? null),
    rows.map((p) => p.dedupe?.contentHash ?? null),
    rows.map((p) => p.dedupe?.windowMs ?? null),
  ];
}

const PLANNED_COLUMNS = `$2::uuid[], $3::text[], $4::text[]::"Channel"[], $5::int[], $6::text[], $7::text[], $8::text[],
                   $9::text[]::"DeliveryStatus"[], $10::text[], $11::text[]`;
const INSERT_INTO = `INSERT INTO "Delivery" AS d (id, "messageId", channel, "recipientIndex", "userId", email, "templateCode", status, reason, "recipientKey", "createdAt", "updatedAt")`;
const RETURNING = `RETURNING ${CHANGED_DELIVERY_COLUMNS}, d."recipientIndex", d."recipientKey", d."nextAttemptAt"`;

/**
 * The CTEs that insert planned deliveries given as $2.. (see plannedParams), skipping the (message,
 * channel, key) that exist, ending with `added` (the rows inserted, CHANGED_DELIVERY_COLUMNS and the
 * delivery's position). With `admit`, the deliveries this statement adds first pass deduplication, then
 * the throttle, on rows every instance shares (DedupeKey, ThrottleWindow), in the same statement: a
 * delivery that fails either is added `skipped` with reason `deduplicated` or `throttled`. A redelivered
 * envelope finds its deliveries and is not counted again.
 */
export function plannedInsertCtes(admit: boolean): string {
  if (!admit)
    return `added AS (
       ${INSERT_INTO}
       SELECT u.id, u.mid, u.channel, u.idx, u.uid, u.email, u.code, u.status, u.reason, u.rkey, now(), now()
       FROM unnest(${PLANNED_COLUMNS}) AS u(id, mid, channel, idx, uid, email, code, status, reason, rkey)
       ON CONFLICT ("messageId", channel, "recipientKey") DO NOTHING
       ${RETURNING}
     )`;
  const secs = (ms: string) => `make_interval(secs => ${ms}::double precision / 1000)`;
  return `u AS (
       SELECT * FROM unnest(${PLANNED_COLUMNS}, $12::text[], $13::int[], $14::int[], $15::text[], $16::int[])
         WITH ORDINALITY AS u(id, mid, channel, idx, uid, email, code, status, reason, rkey, tkey, tlimit, twindow, dhash, dwindow, ord)
     ), fresh AS (
       -- Only what this statement adds is counted; the same delivery twice in the batch counts once.
       SELECT DISTINCT ON (u.mid, u.channel, u.rkey) u.* FROM u
        WHERE u.status <> 'skipped' AND (u.tkey IS NOT NULL OR u.dhash IS NOT NULL)
          AND NOT EXISTS (SELECT 1 FROM "Delivery" e
                           WHERE e."messageId" = u.mid AND e.channel = u.channel AND e."recipientKey" = u.rkey)
        ORDER BY u.mid, u.channel, u.rkey, u.ord
     ), firsts AS (
       -- The same content to one recipient twice in the batch: the first goes on.
       SELECT DISTINCT ON (f.code, f.channel, f.rkey, f.dhash) f.* FROM fresh f WHERE f.dhash IS NOT NULL
        ORDER BY f.code, f.channel, f.rkey, f.dhash, f.ord
     ), kept AS (
       -- A key still live (another instance's, whose insert this one waits for) makes a duplicate; the same
       -- message again (consumed twice at once) is not its own duplicate.
       INSERT INTO "DedupeKey" AS k ("templateCode", channel, "recipientKey", "contentHash", "messageId", "expiresAt")
       SELECT f.code, f.channel, f.rkey, f.dhash, f.mid, now() + ${secs('f.dwindow')} FROM firsts f
       ON CONFLICT ("templateCode", channel, "recipientKey", "contentHash") DO UPDATE
         SET "messageId" = EXCLUDED."messageId",
             "expiresAt" = CASE WHEN k."messageId" = EXCLUDED."messageId" THEN k."expiresAt" ELSE EXCLUDED."expiresAt" END
         WHERE k."expiresAt" <= now() OR k."messageId" = EXCLUDED."messageId"
       RETURNING k."messageId", k.channel, k."recipientKey"
     ), passed AS (
       SELECT f.* FROM fresh f
        WHERE f.dhash IS NULL OR EXISTS (SELECT 1 FROM kept k
                WHERE k."messageId" = f.mid AND k.channel = f.channel AND k."recipientKey" = f.rkey)
     ), asks AS (
       SELECT p.code, p.channel, p.rkey, p.tkey, min(p.tlimit) AS tlimit, max(p.twindow) AS twindow,
              (array_agg(p.mid ORDER BY p.ord))[1:min(p.tlimit)] AS mids
         FROM passed p WHERE p.tkey IS NOT NULL GROUP BY p.code, p.channel, p.rkey, p.tkey
     ), windows AS (
       -- The messages let through in the window, oldest first; the row lock orders instances, and the
       -- update reads the row as the last of them left it.
       INSERT INTO "ThrottleWindow" AS w ("templateCode", channel, "recipientKey", key, "limit", "windowMs", "sentAt", "messageIds", "expiresAt")
       SELECT a.code, a.channel, a.rkey, a.tkey, a.tlimit, a.twindow, array_fill(now(), ARRAY[cardinality(a.mids)]),
              a.mids, now() + ${secs('a.twindow')}
         FROM asks a
       ON CONFLICT ("templateCode", channel, "recipientKey", key) DO UPDATE
         SET ("sentAt", "messageIds", "expiresAt") = (
               SELECT COALESCE(array_agg(e.at ORDER BY e.n), '{}'), COALESCE(array_agg(e.mid ORDER BY e.n), '{}'),
                      COALESCE(max(e.at), now()) + ${secs('EXCLUDED."windowMs"')}
                 FROM (
                   SELECT x.*, row_number() OVER (ORDER BY x.n) AS rank FROM (
                     SELECT l.at, l.mid, l.n FROM unnest(w."sentAt", w."messageIds") WITH ORDINALITY AS l(at, mid, n)
                      WHERE l.at > now() - ${secs('EXCLUDED."windowMs"')}
                     UNION ALL
                     SELECT now(), c.mid, 1000000 + c.n FROM unnest(EXCLUDED."messageIds") WITH ORDINALITY AS c(mid, n)
                      WHERE c.mid <> ALL (w."messageIds")
                   ) x
                 ) e
                WHERE e.n < 1000000 OR e.rank <= EXCLUDED."limit"),
             "limit" = EXCLUDED."limit", "windowMs" = EXCLUDED."windowMs"
       RETURNING w."templateCode", w.channel, w."recipientKey", w.key, w."messageIds"
     ), verdicts AS (
       SELECT f.mid, f.channel, f.rkey, CASE
                WHEN f.dhash IS NOT NULL AND NOT EXISTS (SELECT 1 FROM passed p
                       WHERE p.mid = f.mid AND p.channel = f.channel AND p.rkey = f.rkey) THEN 'deduplicated'
                WHEN f.tkey IS NOT NULL AND NOT EXISTS (SELECT 1 FROM windows w
                       WHERE w."templateCode" = f.code AND w.channel = f.channel AND w."recipientKey" = f.rkey
                         AND w.key = f.tkey AND f.mid = ANY (w."messageIds")) THEN 'throttled'
              END AS verdict
         FROM fresh f
     ), added AS (
       ${INSERT_INTO}
       SELECT u.id, u.mid, u.channel, u.idx, u.uid, u.email, u.code,
              CASE WHEN v.verdict IS NULL THEN u.status ELSE 'skipped'::"DeliveryStatus" END,
              COALESCE(v.verdict, u.reason), u.rkey, now(), now()
         FROM u LEFT JOIN verdicts v ON v.mid = u.mid AND v.channel = u.channel AND v.rkey = u.rkey
       ON CONFLICT ("messageId", channel, "recipientKey") DO NOTHING
       ${RETURNING}
     )`;
}
