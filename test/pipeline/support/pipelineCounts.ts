import type { SqlClient } from '../../../src/db/sqlClient';

export interface PipelineCounts {
  messages: number;
  completed: number;
  deliveries: number;
  deliveriesSent: number;
  /** Attempt rows that record a send: more than deliveriesSent would mean something was sent twice. */
  attemptsSent: number;
  inboxItems: number;
}

/** What the database holds after a run, counted in one query. */
export async function pipelineCounts(sql: SqlClient): Promise<PipelineCounts> {
  const { rows } = await sql.query<Record<keyof PipelineCounts, string>>(
    `SELECT (SELECT count(*) FROM "Message")::text AS messages,
            (SELECT count(*) FROM "Message" WHERE status = 'completed')::text AS completed,
            (SELECT count(*) FROM "Delivery")::text AS deliveries,
            (SELECT count(*) FROM "Delivery" WHERE status = 'sent')::text AS "deliveriesSent",
            (SELECT count(*) FROM "DeliveryAttempt" WHERE outcome = 'sent')::text AS "attemptsSent",
            (SELECT count(*) FROM "InboxItem")::text AS "inboxItems"`,
  );
  const r = rows[0] as Record<keyof PipelineCounts, string>;
  return {
    messages: Number(r.messages),
    completed: Number(r.completed),
    deliveries: Number(r.deliveries),
    deliveriesSent: Number(r.deliveriesSent),
    attemptsSent: Number(r.attemptsSent),
    inboxItems: Number(r.inboxItems),
  };
}
