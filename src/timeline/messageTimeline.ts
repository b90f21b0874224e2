import type { MessageTimeline, TimelineEntry } from '../contract/messageTimeline';
import type { SqlClient } from '../db/sqlClient';

interface Row extends Omit<TimelineEntry, 'at'> {
  at: Date | string;
}

interface MessageRow {
  id: string;
  status: string;
  templateCode: string | null;
  templateVersion: number | null;
  reason: string | null;
  traceId: string | null;
  sendAt: Date | string | null;
  createdAt: Date | string;
}

const iso = (d: Date | string) => new Date(d).toISOString();

// Every record of one message, one row shape, in time order; at equal times the order of the pipeline
// (planned, attempted, announced, notified).
const ENTRIES = `
  SELECT d."createdAt" AS at, 1 AS ord, 'delivery' AS source, 'delivery.planned' AS type, d.id::text AS "deliveryId",
         d.channel::text AS channel, d."userId",
         'planned ' || d.channel || ' to ' || coalesce(d."userId", 'recipient #' || d."recipientIndex") ||
           '; now ' || d.status || coalesce(' (' || d.reason || ')', '') AS summary,
         NULL::int AS "durationMs", NULL::jsonb AS detail
    FROM "Delivery" d WHERE d."messageId" = $1
  UNION ALL
  SELECT a."createdAt", 2, 'attempt', 'attempt.' || a.outcome, a."deliveryId"::text, d.channel::text, d."userId",
         'attempt ' || a.attempt || ' ' || a.outcome || coalesce(' id ' || a."providerId", '') ||
           coalesce(' [' || a."errorCode" || ']', '') || coalesce(': ' || left(a."errorText", 300), ''),
         a."durationMs", NULL::jsonb
    FROM "DeliveryAttempt" a JOIN "Delivery" d ON d.id = a."deliveryId" WHERE d."messageId" = $1
  UNION ALL
  SELECT e."occurredAt", 3, 'event', e.type, e."deliveryId"::text, e.payload->>'channel', e.payload->>'userId',
         e.type || coalesce(': ' || (e.payload->>'reason'), '') || coalesce(' until ' || (e.payload->>'until'), ''), NULL::int,
         jsonb_build_object('eventId', e.id, 'seq', e.seq) || e.payload
    FROM "StatusEvent" e WHERE e."messageId" = $1
  UNION ALL
  SELECT w."createdAt", 4, 'webhook', 'webhook.' || w.outcome, NULL, NULL, NULL,
         w."eventType" || ' to webhook ' || w."webhookId" || ', attempt ' || w.attempt || ': ' ||
           coalesce(w.error, 'HTTP ' || w."statusCode"),
         w."durationMs", jsonb_build_object('webhookId', w."webhookId", 'eventId', w."eventId", 'statusCode', w."statusCode")
    FROM "StatusWebhookAttempt" w WHERE w."messageId" = $1
  UNION ALL
  SELECT s."updatedAt", 2, 'suppression', 'suppression.' || s.reason, s."deliveryId"::text, d.channel::text,
         d."userId", 'address suppressed (' || s.reason || ')' || coalesce(': ' || left(s.detail, 300), ''),
         NULL::int, NULL::jsonb
    FROM "Suppression" s LEFT JOIN "Delivery" d ON d.id = s."deliveryId" WHERE s."messageId" = $1
  UNION ALL
  SELECT x."createdAt", 0, 'dead_letter', 'dead_letter.' || x.code, NULL, NULL, NULL,
         'dead-lettered [' || x.code || ']: ' || left(x.reason, 300) ||
           CASE WHEN x."replayedAt" IS NULL THEN '' ELSE ' (replayed ' || x."replayedAt" || ')' END,
         NULL::int, jsonb_build_object('deadLetterId', x.id)
    FROM "DeadLetter" x WHERE x."messageId" = $1
  ORDER BY at, ord`;

/**
 * What happened to one message, from every record Herald keeps of it: deliveries planned, each attempt
 * with its outcome and duration, status events (accepted or rejected and why, scheduled, pushed to a
 * socket, read, ...), status-webhook requests and dead letters. Undefined when nothing knows the id.
 */
export async function messageTimeline(sql: SqlClient, id: string): Promise<MessageTimeline | undefined> {
  const [message, entries] = await Promise.all([
    sql.query<MessageRow>(
      `SELECT id, status, "templateCode", "templateVersion", reason, "traceId", "sendAt", "createdAt"
         FROM "Message" WHERE id = $1`,
      [id],
    ),
    sql.query<Row>(ENTRIES, [id]),
  ]);
  const m = message.rows[0];
  if (!m && !entries.rows.length) return undefined;
  return {
    message: m ? { ...m, sendAt: m.sendAt ? iso(m.sendAt) : null, createdAt: iso(m.createdAt) } : null,
    entries: entries.rows.map(({ ord: _ord, ...r }: Row & { ord?: number }) => ({ ...r, at: iso(r.at) })),
  };
}
