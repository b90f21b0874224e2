import type { SqlClient } from '../db/sqlClient';
import { insertEventsFrom } from '../events/eventLog';
import { CHANGED_DELIVERY_COLUMNS } from './deliveryEvents';

/** The reason a delivery waits for the end of its person's quiet hours. */
export const QUIET_HOURS_REASON = 'quiet_hours';

/**
 * Queued deliveries become `deferred` until their time (nextAttemptAt), with a `delivery.deferred` event
 * carrying it, in the caller's transaction; a delivery no longer queued is left alone. Returns the ids
 * changed.
 */
export async function deferDeliveries(
  tx: SqlClient,
  deferrals: ReadonlyArray<{ deliveryId: string; until: Date }>,
  reason: string,
): Promise<string[]> {
  if (!deferrals.length) return [];
  const { rows } = await tx.query<{ id: string }>(
    `WITH changed AS (
       UPDATE "Delivery" d SET status = 'deferred', "nextAttemptAt" = u.until, reason = $3, "updatedAt" = now()
         FROM unnest($1::uuid[], $2::timestamptz[]) AS u(id, until)
        WHERE d.id = u.id AND d.status = 'queued'
       RETURNING ${CHANGED_DELIVERY_COLUMNS}, d."nextAttemptAt"
     ), events AS (${insertEventsFrom(
       `SELECT 'delivery.deferred' AS type, c."messageId", c.id AS "deliveryId", c."templateCode",
               jsonb_build_object('status', c.status, 'channel', c.channel, 'userId', c."userId",
                                  'reason', c.reason, 'until', c."nextAttemptAt") AS payload,
               'delivery:' || c.id || ':deferred' AS key
          FROM changed c`,
     )})
     SELECT id FROM changed`,
    [deferrals.map((d) => d.deliveryId), deferrals.map((d) => d.until.toISOString()), reason],
  );
  return rows.map((r) => r.id);
}
