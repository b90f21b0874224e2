import type { SqlClient } from '../db/sqlClient';
import type { EventType, NewStatusEvent, StatusEvent } from './eventTypes';

/**
 * The INSERT that appends events, over any SELECT yielding the columns `type, "messageId", "deliveryId",
 * "templateCode", payload, key`. The state owner (src/delivery) uses it as a data-modifying CTE fed by
 * the rows its UPDATE returned, so an event commits in the same statement as the change it announces and
 * a batch of changes appends its events in one go.
 */
export function insertEventsFrom(select: string): string {
  return `INSERT INTO "StatusEvent" (id, type, "messageId", "deliveryId", "templateCode", payload, key, "occurredAt")
    SELECT gen_random_uuid(), e.type, e."messageId", e."deliveryId", e."templateCode", jsonb_strip_nulls(e.payload), e.key, now()
    FROM (${select}) e
    ON CONFLICT (key) DO NOTHING`;
}

/**
 * Appends events in the caller's transaction (pass the `tx` of `sql.transaction`): they commit or roll
 * back with the change they describe. One statement whatever the number of events.
 */
export async function appendEvents(sql: SqlClient, events: readonly NewStatusEvent[]): Promise<void> {
  if (!events.length) return;
  await sql.query(
    insertEventsFrom(
      `SELECT * FROM unnest($1::text[], $2::text[], $3::uuid[], $4::text[], $5::text[]::jsonb[], $6::text[])
         AS u(type, "messageId", "deliveryId", "templateCode", payload, key)`,
    ),
    [
      events.map((e) => e.type),
      events.map((e) => e.messageId ?? null),
      events.map((e) => e.deliveryId ?? null),
      events.map((e) => e.templateCode ?? null),
      events.map((e) => JSON.stringify(e.payload)),
      events.map((e) => e.key ?? null),
    ],
  );
}

interface EventRow extends Omit<StatusEvent, 'seq' | 'occurredAt'> {
  seq: string | null;
  occurredAt: Date | string;
}

const COLUMNS = `id, seq::text AS seq, type, "messageId", "deliveryId", "templateCode", payload, "occurredAt"`;

function toEvent(r: EventRow): StatusEvent {
  return { ...r, seq: r.seq === null ? null : Number(r.seq), occurredAt: new Date(r.occurredAt) };
}

/**
 * Numbered events after `afterSeq` (and up to `upToSeq` when given), in order: what a consumer with a
 * cursor reads next; `types` and `templates` filter (absent or empty templates: every template).
 */
export async function readEventsAfter(
  sql: SqlClient,
  opts: {
    afterSeq: number;
    limit: number;
    upToSeq?: number;
    types?: readonly EventType[];
    templates?: readonly string[];
  },
): Promise<StatusEvent[]> {
  const { rows } = await sql.query<EventRow>(
    `SELECT ${COLUMNS} FROM "StatusEvent"
      WHERE seq > $1 AND ($4::bigint IS NULL OR seq <= $4)
        AND ($3::text[] IS NULL OR type = ANY($3::text[]))
        AND (cardinality($5::text[]) = 0 OR "templateCode" = ANY($5::text[]))
      ORDER BY seq LIMIT $2`,
    [opts.afterSeq, opts.limit, opts.types ?? null, opts.upToSeq ?? null, opts.templates ?? []],
  );
  return rows.map(toEvent);
}

/** Every event of one message, oldest first (numbered or not yet). */
export async function eventsOfMessage(sql: SqlClient, messageId: string): Promise<StatusEvent[]> {
  const { rows } = await sql.query<EventRow>(
    `SELECT ${COLUMNS} FROM "StatusEvent" WHERE "messageId" = $1
      ORDER BY "occurredAt", "appendOrder"`,
    [messageId],
  );
  return rows.map(toEvent);
}

/** The highest sequence number given so far (0 when none): where a new consumer starting "from now" begins. */
export async function latestSeq(sql: SqlClient): Promise<number> {
  const { rows } = await sql.query<{ top: string | null }>(`SELECT MAX(seq)::text AS top FROM "StatusEvent"`);
  return Number(rows[0]?.top ?? 0);
}
