import type { AuditInTx } from '../audit/auditLog';
import type { SuppressionView } from '../contract/suppression';
import type { Suppressions } from './suppressionList';
import { ERASED, type SubscriberView } from '../contract/subscriber';
import type { SqlClient, TransactionalSqlClient } from '../db/sqlClient';
import { eraseRecipient } from '../delivery/eraseRecipient';
import { eraseInbox } from '../inbox/eraseInbox';
import { findSubscriberRow, toView } from './subscriberStore';
import { membershipsOf } from './topicStore';

export interface Erasure {
  userId: string;
  subscriber: boolean;
  memberships: number;
  inboxItems: number;
  messages: number;
  deliveries: number;
  attempts: number;
  /** Suppression entries of their addresses, now kept by a keyed hash alone. */
  suppressions: number;
}

/**
 * Erases a person everywhere Herald holds them, in one transaction: the directory entry and topic
 * memberships go, the inbox goes, and the delivery log keeps its rows (and so its counts) with the user
 * id, addresses and name replaced by `[erased]`. Their addresses' suppression entries stay, so an unsubscribe
 * or a bounce still holds, but keep only a keyed hash of each address.
 */
export async function eraseSubscriber(
  sql: TransactionalSqlClient,
  suppressions: Suppressions,
  userId: string,
  audit?: AuditInTx<Erasure>,
): Promise<Erasure> {
  return sql.transaction(async (tx) => {
    const row = await findSubscriberRow(tx, userId);
    const view = row ? toView(row) : undefined;
    const memberships = await tx.query<{ n: number }>(
      `WITH gone AS (DELETE FROM "TopicMember" WHERE "userId" = $1 RETURNING 1) SELECT count(*)::int AS n FROM gone`,
      [userId],
    );
    await tx.query(`DELETE FROM "Subscriber" WHERE "userId" = $1`, [userId]);
    const inboxItems = await eraseInbox(tx, userId);
    // Every address they were sent to under their user id, read before the delivery log forgets them.
    const { rows: sentTo } = await tx.query<{ email: string }>(
      `SELECT DISTINCT lower(email) AS email FROM "Delivery" WHERE "userId" = $1 AND email IS NOT NULL`,
      [userId],
    );
    const hashed = await suppressions.forget(tx, [
      ...(view?.email ? [view.email] : []),
      ...sentTo.map((r) => r.email),
    ]);
    const log = await eraseRecipient(
      tx,
      { userId, emails: view?.email ? [view.email] : [], names: view?.name ? [view.name] : [] },
      ERASED,
    );
    const erasure = {
      userId,
      subscriber: Boolean(row),
      memberships: Number(memberships.rows[0]?.n ?? 0),
      inboxItems,
      ...log,
      suppressions: hashed,
    };
    await audit?.({ sql: tx }, erasure);
    return erasure;
  });
}

export interface SubscriberExport {
  userId: string;
  exportedAt: string;
  subscriber: SubscriberView | null;
  topics: Awaited<ReturnType<typeof membershipsOf>>;
  inbox: Array<Record<string, unknown>>;
  deliveries: Array<Record<string, unknown>>;
  /** Whether their stored address is on the suppression list, and why. */
  suppression: SuppressionView | null;
}

/** Everything Herald holds about one person (the directory, topics, inbox, delivery log), as JSON. */
export async function exportSubscriber(
  sql: SqlClient,
  suppressions: Suppressions,
  userId: string,
): Promise<SubscriberExport> {
  const row = await findSubscriberRow(sql, userId);
  const subscriber = row ? toView(row) : null;
  const inbox = await sql.query(
    `SELECT id, seq::text AS seq, "deliveryId", "messageId", title, body, url, category, data, "createdAt", "readAt"
       FROM "InboxItem" WHERE "userId" = $1 ORDER BY seq`,
    [userId],
  );
  const deliveries = await sql.query(
    `SELECT d.id, d."messageId", d.channel, d."userId", d.email, d."templateCode", d.status, d.reason, d.attempts,
            d."createdAt", d."updatedAt",
            COALESCE((SELECT jsonb_agg(jsonb_build_object('attempt', a.attempt, 'outcome', a.outcome,
                       'providerId', a."providerId", 'errorCode', a."errorCode", 'errorText', a."errorText",
                       'createdAt', a."createdAt") ORDER BY a.id)
                      FROM "DeliveryAttempt" a WHERE a."deliveryId" = d.id), '[]'::jsonb) AS "attemptLog"
       FROM "Delivery" d WHERE d."userId" = $1 OR ($2::text IS NOT NULL AND lower(d.email) = $2)
      ORDER BY d."createdAt", d.id`,
    [userId, subscriber?.email?.toLowerCase() ?? null],
  );
  return {
    userId,
    exportedAt: new Date().toISOString(),
    subscriber,
    topics: await membershipsOf(sql, userId),
    inbox: inbox.rows,
    deliveries: deliveries.rows,
    suppression: (subscriber?.email && (await suppressions.find(sql, subscriber.email))) || null,
  };
}
