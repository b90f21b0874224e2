import type { AuditInTx } from '../audit/auditLog';
import type { SqlClient, TransactionalSqlClient } from '../db/sqlClient';
import { appendEvents } from '../events/eventLog';
import { CHANGED_DELIVERY_COLUMNS, deliveryEventsFrom } from './deliveryEvents';
import { messageStatusOf, type DeliveryStatus } from './deliveryState';

export interface CancelOutcome {
  id: string;
  /** The message's status after the cancellation. */
  status: string;
  /** True when the message was waiting for its sendAt and will now never be dispatched. */
  scheduleCancelled: boolean;
  /**
   * True when Herald had not seen the id yet (an envelope still in RabbitMQ, or never published): the id
   * is recorded `cancelled`, so the envelope stays cancelled whenever it arrives.
   */
  notArrived: boolean;
  cancelled: Array<{ deliveryId: string; channel: string; previousStatus: string }>;
  /** Deliveries that had already gone out (or ended otherwise) before the cancellation. */
  alreadyDone: Array<{ deliveryId: string; channel: string; status: string }>;
  /** Deliveries being sent at this instant: they finish as they would have. */
  inFlight: Array<{ deliveryId: string; channel: string }>;
}

const PENDING = ['queued', 'retrying', 'deferred'];

/**
 * Cancels whatever of a message has not been sent: its scheduled send, and each queued, retrying or
 * deferred (quiet hours) delivery (cancelled, with an attempt row saying who and when). One transaction, the message row locked,
 * so a dispatch cannot claim a delivery between the look and the change. An unknown id leaves a
 * tombstone (a `cancelled` message row) for the envelope that may still be on its way; `nothingPending`
 * when there was nothing left to cancel.
 *
 * `dropWaitingSend` removes the envelope's row on the scheduler (in `tx`), true when there was one; it is
 * called only for a message still waiting for its time or not recorded yet (accepted over the embedded
 * queue): a queued envelope's row dispatches and finds its deliveries or its message cancelled.
 * `audit`, the change's audit row, is written in the same transaction when something was cancelled;
 * `dropDeferredSends` removes the scheduler rows that would send deferred deliveries, when any were.
 */
export async function cancelMessage(
  sql: TransactionalSqlClient,
  id: string,
  by: string,
  dropWaitingSend: (tx: SqlClient) => Promise<boolean>,
  audit?: AuditInTx<CancelOutcome>,
  dropDeferredSends?: (tx: SqlClient) => Promise<void>,
): Promise<CancelOutcome | 'nothingPending'> {
  return sql.transaction(async (tx) => {
    const outcome = await cancelIn(tx, id, by, dropWaitingSend);
    if (outcome === 'nothingPending') return outcome;
    // Nothing is left for the rows that would send deferred deliveries when quiet hours end.
    if (outcome.cancelled.some((c) => c.previousStatus === 'deferred')) await dropDeferredSends?.(tx);
    await audit?.({ sql: tx }, outcome);
    return outcome;
  });
}

async function cancelIn(
  tx: SqlClient,
  id: string,
  by: string,
  dropWaitingSend: (tx: SqlClient) => Promise<boolean>,
): Promise<CancelOutcome | 'nothingPending'> {
  const msg = (
    await tx.query<{ status: string; templateCode: string | null }>(
      `SELECT status, "templateCode" FROM "Message" WHERE id = $1 FOR UPDATE`,
      [id],
    )
  ).rows[0];
  const dropped = msg === undefined || msg.status === 'scheduled' ? await dropWaitingSend(tx) : false;
  const notArrived = !msg && !dropped;
  const note = `cancelled by ${by} at ${new Date().toISOString()}${notArrived ? ', before it arrived' : ''}`;
  if (!msg || msg.status === 'scheduled') {
    // Not seen yet, accepted over the embedded queue but not dispatched yet, or waiting for its time:
    // nothing was sent. acceptMessages and holdMessage keep a cancelled row cancelled.
    await tx.query(
      `INSERT INTO "Message" (id, status, reason, "createdAt", "updatedAt") VALUES ($1, 'cancelled', $2, now(), now())
         ON CONFLICT (id) DO UPDATE SET status = 'cancelled', reason = EXCLUDED.reason, "updatedAt" = now()`,
      [id, note],
    );
    await appendCancelled(tx, id, msg?.templateCode, note);
    return {
      id,
      status: 'cancelled',
      scheduleCancelled: !notArrived,
      notArrived,
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
  // A delivery waiting in a digest that has not closed yet leaves it (a closed one is being sent).
  const inOpenDigest = new Set(
    (
      await tx.query<{ id: string }>(
        `SELECT d.id FROM "Delivery" d JOIN "DigestBucket" b ON b.id = d."digestMessageId"
           WHERE d."messageId" = $1 AND d.status = 'digested' AND b."openKey" IS NOT NULL
           FOR UPDATE OF b`,
        [id],
      )
    ).rows.map((r) => r.id),
  );
  const pending = deliveries.filter((d) => PENDING.includes(d.status) || inOpenDigest.has(d.id));
  if (!pending.length && !['accepted', 'dispatched'].includes(msg.status)) return 'nothingPending';
  if (inOpenDigest.size)
    await tx.query(
      `UPDATE "DigestBucket" b SET events = GREATEST(0, b.events - 1)
         WHERE b.id IN (SELECT DISTINCT "digestMessageId" FROM "Delivery" WHERE id = ANY($1::uuid[]))`,
      [[...inOpenDigest]],
    );
  if (!pending.length && deliveries.length) return 'nothingPending';
  if (pending.length) {
    await tx.query(
      `WITH changed AS (
           UPDATE "Delivery" d SET status = 'cancelled', reason = $2, "nextAttemptAt" = NULL, "updatedAt" = now()
           WHERE d.id = ANY($1::uuid[]) RETURNING ${CHANGED_DELIVERY_COLUMNS}
         ), events AS (${deliveryEventsFrom('changed')})
         INSERT INTO "DeliveryAttempt" ("deliveryId", attempt, outcome, "errorCode", "errorText", "durationMs", "createdAt")
         SELECT id, attempts, 'cancelled', 'cancelled', $2, 0, now() FROM changed`,
      [pending.map((d) => d.id), note],
    );
  }
  // A delivery still sending keeps the message dispatched; its outcome decides the rest.
  const status = messageStatusOf(
    deliveries.map((d) => (pending.includes(d) ? 'cancelled' : (d.status as DeliveryStatus))),
  );
  await tx.query(`UPDATE "Message" SET status = $2, reason = $3, "updatedAt" = now() WHERE id = $1`, [
    id,
    status,
    note,
  ]);
  if (status === 'cancelled') await appendCancelled(tx, id, msg.templateCode, note);
  return {
    id,
    status,
    scheduleCancelled: false,
    notArrived: false,
    cancelled: pending.map((d) => ({ deliveryId: d.id, channel: d.channel, previousStatus: d.status })),
    alreadyDone: deliveries
      .filter((d) => !pending.includes(d) && d.status !== 'sending')
      .map((d) => ({ deliveryId: d.id, channel: d.channel, status: d.status })),
    inFlight: deliveries
      .filter((d) => d.status === 'sending')
      .map((d) => ({ deliveryId: d.id, channel: d.channel })),
  };
}

function appendCancelled(
  tx: SqlClient,
  id: string,
  templateCode: string | null | undefined,
  note: string,
): Promise<void> {
  return appendEvents(tx, [
    {
      type: 'message.cancelled',
      messageId: id,
      templateCode: templateCode ?? undefined,
      payload: { status: 'cancelled', reason: note },
      key: `message:${id}:cancelled`,
    },
  ]);
}
