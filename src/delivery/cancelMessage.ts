import type { SqlClient, TransactionalSqlClient } from '../db/sqlClient';

export interface CancelOutcome {
  id: string;
  /** The message's status after the cancellation. */
  status: string;
  /** True when the message was waiting for its sendAt and will now never be dispatched. */
  scheduleCancelled: boolean;
  cancelled: Array<{ deliveryId: string; channel: string; previousStatus: string }>;
  /** Deliveries that had already gone out (or ended otherwise) before the cancellation. */
  alreadyDone: Array<{ deliveryId: string; channel: string; status: string }>;
  /** Deliveries being sent at this instant: they finish as they would have. */
  inFlight: Array<{ deliveryId: string; channel: string }>;
}

const PENDING = ['queued', 'retrying'];
const SENT = new Set(['sent', 'delivered', 'read']);

/**
 * Cancels whatever of a message has not been sent: its scheduled send, and each queued or retrying
 * delivery (cancelled, with an attempt row saying who and when). One transaction, the message row locked,
 * so a dispatch cannot claim a delivery between the look and the change. Undefined when the id is unknown;
 * `nothingPending` when there was nothing left to cancel.
 *
 * `dropWaitingSend` removes the envelope's row on the scheduler (in `tx`), true when there was one; it is
 * called only for a message still waiting for its time or not recorded yet (accepted over the embedded
 * queue): a queued envelope's row dispatches and finds its deliveries or its message cancelled.
 */
export async function cancelMessage(
  sql: TransactionalSqlClient,
  id: string,
  by: string,
  dropWaitingSend: (tx: SqlClient) => Promise<boolean>,
): Promise<CancelOutcome | 'nothingPending' | undefined> {
  return sql.transaction(async (tx) => {
    const msg = (
      await tx.query<{ status: string }>(`SELECT status FROM "Message" WHERE id = $1 FOR UPDATE`, [id])
    ).rows[0];
    const dropped = msg === undefined || msg.status === 'scheduled' ? await dropWaitingSend(tx) : false;
    if (!msg && !dropped) return undefined;
    const note = `cancelled by ${by} at ${new Date().toISOString()}`;
    if (!msg || msg.status === 'scheduled') {
      // Accepted over the embedded queue but not dispatched yet, or waiting for its time: nothing was sent.
      await tx.query(
        `INSERT INTO "Message" (id, status, reason, "createdAt", "updatedAt") VALUES ($1, 'cancelled', $2, now(), now())
         ON CONFLICT (id) DO UPDATE SET status = 'cancelled', reason = EXCLUDED.reason, "updatedAt" = now()`,
        [id, note],
      );
      return {
        id,
        status: 'cancelled',
        scheduleCancelled: true,
        cancelled: [],
        alreadyDone: [],
        inFlight: [],
      };
    }
    const deliveries = (
      await tx.query<{ id: string; channel: string; status: string }>(
        `SELECT id, channel, status FROM "Delivery" WHERE "messageId" = $1 ORDER BY channel, "recipientIndex" FOR UPDATE`,
        [id],
      )
    ).rows;
    const pending = deliveries.filter((d) => PENDING.includes(d.status));
    if (!pending.length && !['accepted', 'dispatched'].includes(msg.status)) return 'nothingPending';
    if (!pending.length && deliveries.length) return 'nothingPending';
    if (pending.length) {
      await tx.query(
        `WITH changed AS (
           UPDATE "Delivery" SET status = 'cancelled', reason = $2, "nextAttemptAt" = NULL, "updatedAt" = now()
           WHERE id = ANY($1::uuid[]) RETURNING id, attempts
         )
         INSERT INTO "DeliveryAttempt" ("deliveryId", attempt, outcome, "errorCode", "errorText", "durationMs", "createdAt")
         SELECT id, attempts, 'cancelled', 'cancelled', $2, 0, now() FROM changed`,
        [pending.map((d) => d.id), note],
      );
    }
    const sentAny = deliveries.some((d) => SENT.has(d.status) || d.status === 'sending');
    const failedAny = deliveries.some((d) => d.status === 'failed');
    const status = !sentAny ? 'cancelled' : failedAny ? 'partially_failed' : 'completed';
    const stillSending = deliveries.some((d) => d.status === 'sending');
    await tx.query(`UPDATE "Message" SET status = $2, reason = $3, "updatedAt" = now() WHERE id = $1`, [
      id,
      stillSending ? 'dispatched' : status,
      note,
    ]);
    return {
      id,
      status: stillSending ? 'dispatched' : status,
      scheduleCancelled: false,
      cancelled: pending.map((d) => ({ deliveryId: d.id, channel: d.channel, previousStatus: d.status })),
      alreadyDone: deliveries
        .filter((d) => !PENDING.includes(d.status) && d.status !== 'sending')
        .map((d) => ({ deliveryId: d.id, channel: d.channel, status: d.status })),
      inFlight: deliveries
        .filter((d) => d.status === 'sending')
        .map((d) => ({ deliveryId: d.id, channel: d.channel })),
    };
  });
}
