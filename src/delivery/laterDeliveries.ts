import type { SqlClient } from '../db/sqlClient';
import { ensureDeliveries, type PlannedDelivery } from './deliveryState';

/**
 * Adds deliveries a message gains after its first dispatch (an escalation, a fallback), each with its
 * cause (kept, where the reason changes with each attempt), and marks the message dispatched again so it reads as pending until they are done. A delivery
 * that exists already is kept as it is. Returns how many were added.
 */
export async function addLaterDeliveries(
  sql: SqlClient,
  m: { messageId: string; templateCode: string; planned: ReadonlyArray<PlannedDelivery & { cause: string }> },
): Promise<number> {
  if (!m.planned.length) return 0;
  const { rows: before } = await sql.query<{ n: string }>(
    `SELECT count(*)::text AS n FROM "Delivery" WHERE "messageId" = $1`,
    [m.messageId],
  );
  const [all] = await ensureDeliveries(sql, [m]);
  const added = (all?.length ?? 0) - Number(before[0]?.n ?? 0);
  // The cause stays when the send overwrites the reason.
  await sql.query(
    `UPDATE "Delivery" d SET cause = u.cause
     FROM unnest($2::text[], $3::text[], $4::text[]) AS u(channel, rkey, cause)
     WHERE d."messageId" = $1 AND d.channel::text = u.channel AND d."recipientKey" = u.rkey AND d.cause IS NULL`,
    [
      m.messageId,
      m.planned.map((p) => p.channel),
      m.planned.map((p) => p.recipientKey),
      m.planned.map((p) => p.cause),
    ],
  );
  if (added > 0)
    await sql.query(
      `UPDATE "Message" SET status = 'dispatched', "updatedAt" = now() WHERE id = $1 AND status <> 'cancelled'`,
      [m.messageId],
    );
  return added;
}
