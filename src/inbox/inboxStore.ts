import { randomUUID } from 'node:crypto';
import type { SqlClient, TransactionalSqlClient } from '../db/sqlClient';
import {
  markDelivered as markDeliveriesDelivered,
  markRead as markDeliveriesRead,
  recordSendsInTransaction,
} from '../delivery/deliveryState';
import type { InboxItem, NewInboxItem, ReadSelection } from './inboxItem';

export interface InsertedItem {
  item: InboxItem;
  /** false when an item for this delivery already existed (a redelivered envelope). */
  created: boolean;
}

export interface InsertResult {
  /** One entry per input, in input order. */
  items: InsertedItem[];
  /** Unread count of every user in the batch, as of the commit. */
  unread: Record<string, number>;
}

export interface ListOptions {
  unreadOnly?: boolean;
  /** Items with seq > afterSeq, oldest first (resume). Without it: newest first. */
  afterSeq?: number;
  /** Newest-first paging: items with seq < beforeSeq. */
  beforeSeq?: number;
  /** Never return items with seq > upToSeq (a consistent snapshot for `hello`). */
  upToSeq?: number;
  limit: number;
}

export interface ItemPage {
  items: InboxItem[];
  /** More items match beyond this page. */
  more: boolean;
}

export interface InboxSnapshot extends ItemPage {
  lastSeq: number;
  unread: number;
}

export interface InboxStore {
  insertItems(items: NewInboxItem[]): Promise<InsertResult>;
  listItems(userId: string, opts: ListOptions): Promise<ItemPage>;
  unreadCount(userId: string): Promise<number>;
  /** Last seq, unread count and items read in one consistent snapshot (for a socket's `hello`). */
  snapshot(userId: string, opts: { afterSeq?: number; limit: number }): Promise<InboxSnapshot>;
  markRead(userId: string, selection: ReadSelection): Promise<{ updated: number; unread: number }>;
  /** Deliveries whose item reached a live socket: `sent` → `delivered`. */
  markDelivered(deliveryIds: string[]): Promise<number>;
}

const COLUMNS = `id, "userId", seq, "deliveryId", title, body, url, category, data, "createdAt", "readAt"`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface ItemRow {
  id: string;
  userId: string;
  seq: string | number | bigint;
  deliveryId: string | null;
  title: string;
  body: string;
  url: string | null;
  category: string | null;
  data: unknown;
  createdAt: Date | string;
  readAt: Date | string | null;
}

const iso = (d: Date | string): string => (d instanceof Date ? d : new Date(d)).toISOString();

function toItem(r: ItemRow): InboxItem {
  return {
    id: r.id,
    userId: r.userId,
    seq: Number(r.seq),
    deliveryId: r.deliveryId,
    title: r.title,
    body: r.body,
    url: r.url,
    category: r.category,
    data: r.data ?? null,
    createdAt: iso(r.createdAt),
    readAt: r.readAt === null ? null : iso(r.readAt),
  };
}

/** Inbox on raw SQL: the send path writes whole batches in one transaction. */
export function createInboxStore(sql: TransactionalSqlClient): InboxStore {
  async function unreadOf(tx: SqlClient, userIds: string[]): Promise<Record<string, number>> {
    const { rows } = await tx.query<{ userId: string; n: number }>(
      `SELECT "userId", count(*)::int AS n FROM "InboxItem"
        WHERE "userId" = ANY($1::text[]) AND "readAt" IS NULL GROUP BY "userId"`,
      [userIds],
    );
    const out: Record<string, number> = Object.fromEntries(userIds.map((u) => [u, 0]));
    for (const r of rows) out[r.userId] = Number(r.n);
    return out;
  }

  async function list(tx: SqlClient, userId: string, opts: ListOptions): Promise<ItemPage> {
    const where = [`"userId" = $1`];
    const params: unknown[] = [userId];
    const add = (cond: string, value: unknown) => {
      params.push(value);
      where.push(cond.replace('?', `$${params.length}`));
    };
    if (opts.unreadOnly) where.push(`"readAt" IS NULL`);
    if (opts.afterSeq !== undefined) add('seq > ?', opts.afterSeq);
    if (opts.beforeSeq !== undefined) add('seq < ?', opts.beforeSeq);
    if (opts.upToSeq !== undefined) add('seq <= ?', opts.upToSeq);
    params.push(opts.limit + 1);
    const order = opts.afterSeq !== undefined ? 'ASC' : 'DESC';
    const { rows } = await tx.query<ItemRow>(
      `SELECT ${COLUMNS} FROM "InboxItem" WHERE ${where.join(' AND ')}
        ORDER BY seq ${order} LIMIT $${params.length}`,
      params,
    );
    return { items: rows.slice(0, opts.limit).map(toItem), more: rows.length > opts.limit };
  }

  return {
    async insertItems(input) {
      if (input.length === 0) return { items: [], unread: {} };
      return sql.transaction(async (tx) => {
        // One statement takes the seqs and inserts the items that do not exist yet: this runs once per
        // envelope on the send path, so round trips count. Users are locked in sorted order, so
        // concurrent batches cannot deadlock on the counter rows.
        const inserted = await tx.query<ItemRow>(
          `WITH input AS (
             SELECT DISTINCT ON (u.did) u.*
               FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::text[], $6::text[],
                           $7::text[], $8::text[], $9::jsonb[]) WITH ORDINALITY
                 AS u(id, uid, did, mid, title, body, url, category, data, ord)
              WHERE NOT EXISTS (SELECT 1 FROM "InboxItem" x WHERE x."deliveryId" = u.did)
              ORDER BY u.did, u.ord
           ), numbered AS (
             SELECT i.*, row_number() OVER (PARTITION BY i.uid ORDER BY i.ord) AS rn,
                    count(*) OVER (PARTITION BY i.uid) AS cnt
               FROM input i
           ), counters AS (
             INSERT INTO "InboxCounter" ("userId", "lastSeq")
             SELECT uid, count(*) FROM input GROUP BY uid ORDER BY uid
             ON CONFLICT ("userId") DO UPDATE SET "lastSeq" = "InboxCounter"."lastSeq" + EXCLUDED."lastSeq"
             RETURNING "userId", "lastSeq"
           )
           INSERT INTO "InboxItem" (id, "userId", seq, "deliveryId", "messageId", title, body, url, category, data)
           SELECT n.id, n.uid, c."lastSeq" - n.cnt + n.rn, n.did, n.mid, n.title, n.body, n.url, n.category, n.data
             FROM numbered n JOIN counters c ON c."userId" = n.uid
            ORDER BY n.ord
           ON CONFLICT ("deliveryId") DO NOTHING
           RETURNING ${COLUMNS}`,
          [
            input.map(() => randomUUID()),
            input.map((i) => i.userId),
            input.map((i) => i.deliveryId),
            input.map((i) => i.messageId),
            input.map((i) => i.title),
            input.map((i) => i.body),
            input.map((i) => i.url ?? null),
            input.map((i) => i.category ?? null),
            input.map((i) => (i.data === undefined ? null : JSON.stringify(i.data))),
          ],
        );
        const byDelivery = new Map<string, InboxItem>();
        const created = new Set<string>();
        for (const r of inserted.rows) {
          byDelivery.set(r.deliveryId as string, toItem(r));
          created.add(r.deliveryId as string);
        }
        // Items that existed (a redelivered envelope), or that a concurrent transaction inserted first
        // (the seq taken for it stays a gap).
        const missing = [...new Set(input.map((i) => i.deliveryId))].filter((d) => !byDelivery.has(d));
        if (missing.length > 0) {
          const again = await tx.query<ItemRow>(
            `SELECT ${COLUMNS} FROM "InboxItem" WHERE "deliveryId" = ANY($1::uuid[])`,
            [missing],
          );
          for (const r of again.rows) byDelivery.set(r.deliveryId as string, toItem(r));
        }
        // The item is the send: its attempt row and `sent` commit with it (see recordSendsInTransaction).
        const attemptOf = new Map(input.map((i) => [i.deliveryId, i.attempt]));
        await recordSendsInTransaction(
          tx,
          inserted.rows.flatMap((r) => {
            const attempt = r.deliveryId === null ? undefined : attemptOf.get(r.deliveryId);
            return r.deliveryId !== null && attempt !== undefined
              ? [{ deliveryId: r.deliveryId, attempt, providerId: r.id }]
              : [];
          }),
        );
        const unread = await unreadOf(tx, [...new Set(input.map((i) => i.userId))]);
        const firstUse = new Set<string>();
        const items = input.map((i) => {
          const item = byDelivery.get(i.deliveryId) as InboxItem;
          const isNew = created.has(i.deliveryId) && !firstUse.has(i.deliveryId);
          firstUse.add(i.deliveryId);
          return { item, created: isNew };
        });
        return { items, unread };
      });
    },

    listItems: (userId, opts) => list(sql, userId, opts),

    async unreadCount(userId) {
      return (await unreadOf(sql, [userId]))[userId] ?? 0;
    },

    snapshot(userId, opts) {
      return sql.transaction(async (tx) => {
        await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
        const c = await tx.query<{ lastSeq: string | number }>(
          `SELECT "lastSeq" FROM "InboxCounter" WHERE "userId" = $1`,
          [userId],
        );
        const lastSeq = c.rows[0] ? Number(c.rows[0].lastSeq) : 0;
        const unread = (await unreadOf(tx, [userId]))[userId] ?? 0;
        if (opts.afterSeq !== undefined) {
          const page = await list(tx, userId, {
            afterSeq: opts.afterSeq,
            upToSeq: lastSeq,
            limit: opts.limit,
          });
          return { ...page, lastSeq, unread };
        }
        // The newest unread items, handed over oldest first like every other item stream.
        const page = await list(tx, userId, { unreadOnly: true, upToSeq: lastSeq, limit: opts.limit });
        return { items: page.items.reverse(), more: page.more, lastSeq, unread };
      });
    },

    markRead(userId, selection) {
      let filter: string;
      let value: unknown;
      if ('ids' in selection) {
        filter = 'id = ANY($2::uuid[])';
        value = selection.ids.filter((id) => UUID.test(id));
      } else if ('upToSeq' in selection) {
        filter = 'seq <= $2';
        value = selection.upToSeq;
      } else {
        filter = '$2::boolean';
        value = true;
      }
      return sql.transaction(async (tx) => {
        // The counter row is the per-user lock inserts also take, so the unread count we return is exact.
        await tx.query(`SELECT 1 FROM "InboxCounter" WHERE "userId" = $1 FOR UPDATE`, [userId]);
        const { rows } = await tx.query<{ deliveryId: string | null }>(
          `UPDATE "InboxItem" SET "readAt" = now()
            WHERE "userId" = $1 AND "readAt" IS NULL AND ${filter}
          RETURNING "deliveryId"`,
          [userId, value],
        );
        const deliveryIds = rows.map((r) => r.deliveryId).filter((d): d is string => d !== null);
        await markDeliveriesRead(tx, deliveryIds);
        const unread = (await unreadOf(tx, [userId]))[userId] ?? 0;
        return { updated: rows.length, unread };
      });
    },

    // The item was stored with its delivery `sent` (insertItems), so a pushed item's delivery is sent.
    markDelivered: (deliveryIds) => markDeliveriesDelivered(sql, deliveryIds),
  };
}
