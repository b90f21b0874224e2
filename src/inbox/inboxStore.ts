import { randomUUID } from 'node:crypto';
import type { AuditInTx } from '../audit/auditLog';
import type { SqlClient, TransactionalSqlClient } from '../db/sqlClient';
import {
  markActioned,
  markDelivered as markDeliveriesDelivered,
  markRead as markDeliveriesRead,
  markSeen as markDeliveriesSeen,
  sendsRecordedWith,
} from '../delivery/deliveryState';
import { HeraldError, NotFoundError } from '../errors';
import { scheduleInTransaction } from '../scheduler/scheduler';
import {
  applyDeltas,
  ensureTabCounts,
  live,
  lockUsers,
  readCounts,
  recountUser,
  toTab,
  unreadExpr,
  unseenExpr,
  type CountDifference,
  type InboxCounts,
  type ItemDelta,
  type Tab,
} from './inboxCounts';
import { changeName, changeSql, type ChangeResult, type InboxChange, type Selection } from './inboxChange';
import { filterSql, type FilterRef, type InboxFilter } from './inboxFilter';
import { actionKey, type ActionSlot, type InboxItem, type ItemActions, type NewInboxItem } from './inboxItem';
import { INBOX_EXPIRE_JOB, INBOX_WAKE_JOB, inboxJob } from './inboxJobKinds';

export interface InsertedItem {
  item: InboxItem;
  /** false when an item for this delivery already existed (a redelivered envelope). */
  created: boolean;
}

export interface InsertResult {
  /** One entry per input, in input order. */
  items: InsertedItem[];
  /** Counts of every user in the batch, as of the commit. */
  counts: Record<string, InboxCounts>;
}

export const LIST_STATUSES = ['live', 'unread', 'unseen', 'archived', 'snoozed', 'any'] as const;
export type ListStatus = (typeof LIST_STATUSES)[number];

export interface ListOptions {
  /** Default `live`. */
  status?: ListStatus;
  filter?: FilterRef;
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
  counts: InboxCounts;
}

export interface FilterCount {
  total: number;
  unread: number;
  unseen: number;
}

/** A taken action, for the event log and the frames. */
export interface TakenAction {
  result: ChangeResult;
  item: InboxItem;
}

export interface InboxStore {
  insertItems(items: NewInboxItem[]): Promise<InsertResult>;
  listItems(userId: string, opts: ListOptions): Promise<ItemPage>;
  /** The user's counts from the count rows (a declared tab's row is made first if missing). */
  counts(userId: string): Promise<InboxCounts>;
  /** Counts any filter from the items, on request. */
  countFilter(userId: string, filter: FilterRef): Promise<FilterCount>;
  /** Last seq, counts and items read in one consistent snapshot (for a socket's `hello`). */
  snapshot(userId: string, opts: { afterSeq?: number; limit: number }): Promise<InboxSnapshot>;
  change(userId: string, change: InboxChange, selection: Selection): Promise<ChangeResult>;
  /** Records an action once; undefined when the item has no such action or already has one recorded. */
  act(userId: string, itemId: string, slot: ActionSlot): Promise<TakenAction | undefined>;
  /** Snoozed items whose time has come return unread and unseen; `retryAt` when some are not due yet. */
  wake(
    userId: string,
    dueAt: Date,
  ): Promise<{ items: InboxItem[]; changed: boolean; counts: InboxCounts; retryAt?: Date }>;
  /** Items whose expiresAt has passed leave lists and counts. */
  expire(userId: string, dueAt: Date): Promise<{ result: ChangeResult; retryAt?: Date }>;
  /** Recomputes counts from the items and fixes what differs: one user, or every user with counts. */
  recount(userId?: string): Promise<CountDifference[]>;
  declareTab(name: string, filter: InboxFilter, audit?: AuditInTx<Tab>): Promise<Tab>;
  listTabs(): Promise<Tab[]>;
  deleteTab(name: string, audit?: AuditInTx<void>): Promise<boolean>;
  /** Deliveries whose item reached a live socket: `sent` → `delivered`. */
  markDelivered(deliveryIds: string[]): Promise<number>;
}

const COLUMNS = [
  'id',
  '"userId"',
  'seq',
  '"deliveryId"',
  'title',
  'body',
  'url',
  'category',
  'tags',
  'severity',
  'data',
  'actions',
  '"createdAt"',
  '"seenAt"',
  '"readAt"',
  '"archivedAt"',
  '"snoozedUntil"',
  '"expiresAt"',
  '"actionedAt"',
  'action',
];
const cols = (alias?: string) => COLUMNS.map((c) => (alias ? `${alias}.${c}` : c)).join(', ');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A change frame lists at most this many ids; beyond, clients refetch. */
export const MAX_CHANGED_IDS = 500;

type Time = Date | string | null;
interface ItemRow {
  id: string;
  userId: string;
  seq: string | number | bigint;
  deliveryId: string | null;
  title: string;
  body: string;
  url: string | null;
  category: string | null;
  tags: string[] | null;
  severity: string;
  data: unknown;
  actions: unknown;
  createdAt: Date | string;
  seenAt: Time;
  readAt: Time;
  archivedAt: Time;
  snoozedUntil: Time;
  expiresAt: Time;
  actionedAt: Time;
  action: string | null;
}

const iso = (d: Time): string | null =>
  d === null ? null : (d instanceof Date ? d : new Date(d)).toISOString();

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
    tags: r.tags ?? [],
    severity: r.severity as InboxItem['severity'],
    data: r.data ?? null,
    actions: (r.actions ?? null) as ItemActions | null,
    createdAt: iso(r.createdAt) as string,
    seenAt: iso(r.seenAt),
    readAt: iso(r.readAt),
    archivedAt: iso(r.archivedAt),
    snoozedUntil: iso(r.snoozedUntil),
    expiresAt: iso(r.expiresAt),
    actionedAt: iso(r.actionedAt),
    action: r.action,
  };
}

const STATUS_SQL: Record<ListStatus, string> = {
  live: live('i'),
  unread: unreadExpr('i'),
  unseen: unseenExpr('i'),
  archived: `(i."deletedAt" IS NULL AND i."expiredAt" IS NULL AND i."archivedAt" IS NOT NULL)`,
  snoozed: `(i."deletedAt" IS NULL AND i."expiredAt" IS NULL AND i."snoozedUntil" IS NOT NULL)`,
  any: `(i."deletedAt" IS NULL AND i."expiredAt" IS NULL)`,
};

/** Rows an item change returns: the item's filter fields and its contribution before and after. */
interface ChangedRow {
  id: string;
  deliveryId: string | null;
  category: string | null;
  tags: string[] | null;
  severity: string;
  u0: boolean;
  s0: boolean;
  u1: boolean;
  s1: boolean;
}

const deltaOf = (r: ChangedRow): ItemDelta => ({
  category: r.category,
  tags: r.tags ?? [],
  severity: r.severity,
  unread: Number(r.u1) - Number(r.u0),
  unseen: Number(r.s1) - Number(r.s0),
});

/** Inbox on raw SQL: the send path writes whole batches in one transaction. */
export function createInboxStore(
  sql: TransactionalSqlClient,
  opts: { schedulerChannel?: string } = {},
): InboxStore {
  const notifyChannel = opts.schedulerChannel ?? 'herald_scheduler_public';

  async function resolveFilter(tx: SqlClient, ref: FilterRef): Promise<InboxFilter> {
    if (!('tab' in ref)) return ref;
    const { rows } = await tx.query<Parameters<typeof toTab>[0]>(
      `SELECT id, name, category, tags, severities FROM "InboxTab" WHERE name = $1`,
      [ref.tab],
    );
    const row = rows[0];
    if (!row) throw new HeraldError('unknown_tab', `no tab "${ref.tab}" is declared`, 404);
    return toTab(row).filter;
  }

  async function list(tx: SqlClient, userId: string, o: ListOptions): Promise<ItemPage> {
    const params: unknown[] = [userId];
    const where = [`i."userId" = $1`, STATUS_SQL[o.status ?? 'live']];
    const add = (cond: string, value: unknown) => {
      params.push(value);
      where.push(cond.replace('?', `$${params.length}`));
    };
    if (o.filter) where.push(filterSql(await resolveFilter(tx, o.filter), params, 'i'));
    if (o.afterSeq !== undefined) add('i.seq > ?', o.afterSeq);
    if (o.beforeSeq !== undefined) add('i.seq < ?', o.beforeSeq);
    if (o.upToSeq !== undefined) add('i.seq <= ?', o.upToSeq);
    params.push(o.limit + 1);
    const order = o.afterSeq !== undefined ? 'ASC' : 'DESC';
    const { rows } = await tx.query<ItemRow>(
      `SELECT ${cols('i')} FROM "InboxItem" i WHERE ${where.join(' AND ')}
        ORDER BY i.seq ${order} LIMIT $${params.length}`,
      params,
    );
    return { items: rows.slice(0, o.limit).map(toItem), more: rows.length > o.limit };
  }

  /** Makes a missing tab row of this user (a tab declared since their counts were last touched). */
  async function ensureCountsReady(userId: string): Promise<void> {
    const { rows } = await sql.query<{ missing: number }>(
      `SELECT ((SELECT count(*) FROM "InboxTab")
               - (SELECT count(*) FROM "InboxTabCount" WHERE "userId" = $1))::int AS missing`,
      [userId],
    );
    if (Number(rows[0]?.missing ?? 0) <= 0) return;
    await sql.transaction(async (tx) => {
      await lockUsers(tx, [userId]);
      await ensureTabCounts(tx, [userId]);
    });
  }

  /**
   * One change of one user's items, with the counts, in one transaction: lock, make missing tab rows from
   * the items as they were, change the items, add the deltas.
   */
  async function changeIn(
    tx: SqlClient,
    userId: string,
    change: { set: string; when: string; value?: unknown },
    scope: { sql: string; params: unknown[] },
  ): Promise<{ rows: ChangedRow[]; counts: InboxCounts }> {
    await lockUsers(tx, [userId]);
    const tabs = await ensureTabCounts(tx, [userId]);
    const params: unknown[] = [userId, change.value ?? null, ...scope.params];
    const { rows } = await tx.query<ChangedRow>(
      `WITH target AS (
         SELECT i.id, ${unreadExpr('i')} AS u0, ${unseenExpr('i')} AS s0
           FROM "InboxItem" i
          WHERE i."userId" = $1 AND i."deletedAt" IS NULL AND ${change.when} AND ${scope.sql}
            AND ($2::text IS NULL OR TRUE) -- $2 is typed even for changes that take no value
          FOR UPDATE
       )
       UPDATE "InboxItem" i SET ${change.set} FROM target t WHERE i.id = t.id
       RETURNING i.id, i."deliveryId", i.category, i.tags, i.severity, t.u0, t.s0,
                 ${unreadExpr('i')} AS u1, ${unseenExpr('i')} AS s1`,
      params,
    );
    const counts = (await applyDeltas(tx, tabs, new Map([[userId, rows.map(deltaOf)]])))[
      userId
    ] as InboxCounts;
    return { rows, counts };
  }

  /** The SQL of a selection; parameters are numbered after the change's $1 (user) and $2 (value). */
  async function selectionSql(
    tx: SqlClient,
    change: InboxChange,
    selection: Selection,
  ): Promise<{ sql: string; params: unknown[] }> {
    // Bulk selections act on what the user sees: live items (archived ones, for unarchive).
    const bulk =
      change.kind === 'unarchive' ? `(i."expiredAt" IS NULL AND i."snoozedUntil" IS NULL)` : live('i');
    if ('ids' in selection)
      return { sql: 'i.id = ANY($3::uuid[])', params: [selection.ids.filter((id) => UUID.test(id))] };
    if ('upToSeq' in selection) return { sql: `${bulk} AND i.seq <= $3`, params: [selection.upToSeq] };
    if ('all' in selection) return { sql: bulk, params: [] };
    const params: unknown[] = [];
    const filter = await resolveFilter(tx, selection.filter);
    // filterSql numbers from 1; shift past $1 and $2.
    const cond = filterSql(filter, params, 'i').replace(/\$(\d+)/g, (_m, n: string) => `$${Number(n) + 2}`);
    return { sql: `${bulk} AND ${cond}`, params };
  }

  async function recordOnDeliveries(tx: SqlClient, change: InboxChange, rows: ChangedRow[]) {
    const ids = rows.map((r) => r.deliveryId).filter((d): d is string => d !== null);
    if (change.kind === 'read') await markDeliveriesRead(tx, ids);
    else if (change.kind === 'seen') await markDeliveriesSeen(tx, ids);
  }

  return {
    async insertItems(input) {
      if (input.length === 0) return { items: [], counts: {} };
      const userIds = [...new Set(input.map((i) => i.userId))].sort();
      return sql.transaction(async (tx) => {
        await lockUsers(tx, userIds);
        const tabs = await ensureTabCounts(tx, userIds);
        // One statement takes the seqs and inserts the items that do not exist yet: this runs once per
        // batch of envelopes on the send path, so round trips count.
        const inserted = await tx.query<ItemRow>(
          `WITH input AS (
             SELECT DISTINCT ON (u.did) u.*
               FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::text[], $6::text[],
                           $7::text[], $8::text[], $9::jsonb[], $10::jsonb[], $11::text[], $12::jsonb[],
                           $13::timestamptz[], $14::int[]) WITH ORDINALITY
                 AS u(id, uid, did, mid, title, body, url, category, data, tags, severity, actions, expires, attempt, ord)
              WHERE NOT EXISTS (SELECT 1 FROM "InboxItem" x WHERE x."deliveryId" = u.did)
              ORDER BY u.did, u.ord
           ), numbered AS (
             SELECT i.*, row_number() OVER (PARTITION BY i.uid ORDER BY i.ord) AS rn,
                    count(*) OVER (PARTITION BY i.uid) AS cnt
               FROM input i
           ), counters AS (
             UPDATE "InboxCounter" c SET "lastSeq" = c."lastSeq" + n.cnt
               FROM (SELECT uid, count(*) AS cnt FROM input GROUP BY uid) n
              WHERE c."userId" = n.uid
             RETURNING c."userId", c."lastSeq"
           ), created AS (
             INSERT INTO "InboxItem" (id, "userId", seq, "deliveryId", "messageId", title, body, url, category,
                                      data, tags, severity, actions, "expiresAt")
             SELECT n.id, n.uid, c."lastSeq" - n.cnt + n.rn, n.did, n.mid, n.title, n.body, n.url, n.category,
                    n.data, ARRAY(SELECT jsonb_array_elements_text(n.tags)), n.severity, n.actions, n.expires
               FROM numbered n JOIN counters c ON c."userId" = n.uid
              ORDER BY n.ord
             ON CONFLICT ("deliveryId") DO NOTHING
             RETURNING ${cols()}
           ),
           -- The item is the send: its attempt row and sent state commit with it, in this statement.
           ${sendsRecordedWith('created', 'input')}
           SELECT ${cols()} FROM created`,
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
            input.map((i) => JSON.stringify(i.tags ?? [])),
            input.map((i) => i.severity ?? 'normal'),
            input.map((i) => (i.actions === undefined ? null : JSON.stringify(i.actions))),
            input.map((i) => i.expiresAt?.toISOString() ?? null),
            input.map((i) => i.attempt),
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
            `SELECT ${cols()} FROM "InboxItem" WHERE "deliveryId" = ANY($1::uuid[])`,
            [missing],
          );
          for (const r of again.rows) byDelivery.set(r.deliveryId as string, toItem(r));
        }
        const newItems = inserted.rows.map(toItem);
        await scheduleInTransaction(
          tx,
          notifyChannel,
          newItems.flatMap((i) =>
            i.expiresAt ? [inboxJob(INBOX_EXPIRE_JOB, i.userId, new Date(i.expiresAt))] : [],
          ),
        );
        const deltas = new Map<string, ItemDelta[]>(userIds.map((u) => [u, []]));
        for (const i of newItems)
          deltas
            .get(i.userId)
            ?.push({ category: i.category, tags: i.tags, severity: i.severity, unread: 1, unseen: 1 });
        const counts = await applyDeltas(tx, tabs, deltas);
        const firstUse = new Set<string>();
        const items = input.map((i) => {
          const item = byDelivery.get(i.deliveryId) as InboxItem;
          const isNew = created.has(i.deliveryId) && !firstUse.has(i.deliveryId);
          firstUse.add(i.deliveryId);
          return { item, created: isNew };
        });
        return { items, counts };
      });
    },

    listItems: (userId, opts) => list(sql, userId, opts),

    async counts(userId) {
      await ensureCountsReady(userId);
      return readCounts(sql, userId);
    },

    async countFilter(userId, ref) {
      const params: unknown[] = [userId];
      const cond = filterSql(await resolveFilter(sql, ref), params, 'i');
      const { rows } = await sql.query<FilterCount>(
        `SELECT count(*) FILTER (WHERE ${live('i')})::int AS total,
                count(*) FILTER (WHERE ${unreadExpr('i')})::int AS unread,
                count(*) FILTER (WHERE ${unseenExpr('i')})::int AS unseen
           FROM "InboxItem" i WHERE i."userId" = $1 AND ${cond}`,
        params,
      );
      const r = rows[0];
      return { total: Number(r?.total ?? 0), unread: Number(r?.unread ?? 0), unseen: Number(r?.unseen ?? 0) };
    },

    async snapshot(userId, opts) {
      await ensureCountsReady(userId);
      return sql.transaction(async (tx) => {
        await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
        const c = await tx.query<{ lastSeq: string | number }>(
          `SELECT "lastSeq" FROM "InboxCounter" WHERE "userId" = $1`,
          [userId],
        );
        const lastSeq = c.rows[0] ? Number(c.rows[0].lastSeq) : 0;
        const counts = await readCounts(tx, userId);
        if (opts.afterSeq !== undefined) {
          const page = await list(tx, userId, {
            status: 'any',
            afterSeq: opts.afterSeq,
            upToSeq: lastSeq,
            limit: opts.limit,
          });
          return { ...page, lastSeq, counts };
        }
        // The newest unread items, handed over oldest first like every other item stream.
        const page = await list(tx, userId, { status: 'unread', upToSeq: lastSeq, limit: opts.limit });
        return { items: page.items.reverse(), more: page.more, lastSeq, counts };
      });
    },

    change(userId, change, selection) {
      return sql.transaction(async (tx) => {
        const scope = await selectionSql(tx, change, selection);
        const { rows, counts } = await changeIn(tx, userId, changeSql(change), scope);
        await recordOnDeliveries(tx, change, rows);
        if (change.kind === 'snooze' && rows.length > 0)
          await scheduleInTransaction(tx, notifyChannel, [inboxJob(INBOX_WAKE_JOB, userId, change.until)]);
        const result: ChangeResult = { change: changeName[change.kind], ids: rows.map((r) => r.id), counts };
        if (change.kind === 'snooze') result.until = change.until.toISOString();
        return result;
      });
    },

    async act(userId, itemId, slot) {
      if (!UUID.test(itemId)) return undefined;
      return sql.transaction(async (tx) => {
        const found = await tx.query<{ actions: ItemActions | null }>(
          `SELECT actions FROM "InboxItem" WHERE id = $1::uuid AND "userId" = $2 AND "deletedAt" IS NULL`,
          [itemId, userId],
        );
        if (!found.rows[0]) throw new NotFoundError('inbox item', itemId);
        const key = actionKey(found.rows[0].actions, slot);
        if (key === undefined) throw new HeraldError('unknown_action', `the item has no ${slot} action`, 422);
        const { rows, counts } = await changeIn(
          tx,
          userId,
          {
            set: `"actionedAt" = now(), action = $2::text, "readAt" = COALESCE(i."readAt", now()),
                  "seenAt" = COALESCE(i."seenAt", now())`,
            when: `i."actionedAt" IS NULL`,
            value: key,
          },
          { sql: 'i.id = $3::uuid', params: [itemId] },
        );
        const row = rows[0];
        if (!row) return undefined;
        if (row.deliveryId) await markActioned(tx, row.deliveryId, key);
        const item = await tx.query<ItemRow>(`SELECT ${cols()} FROM "InboxItem" WHERE id = $1::uuid`, [
          itemId,
        ]);
        return {
          result: { change: 'actioned', ids: [itemId], counts, id: itemId, action: key },
          item: toItem(item.rows[0] as ItemRow),
        };
      });
    },

    wake(userId, dueAt) {
      return sql.transaction(async (tx) => {
        const { rows, counts } = await changeIn(
          tx,
          userId,
          { set: `"snoozedUntil" = NULL, "readAt" = NULL, "seenAt" = NULL`, when: `i."expiredAt" IS NULL` },
          { sql: `i."snoozedUntil" <= now()`, params: [] },
        );
        // Only what is back in the list is pushed again (an item archived while snoozed stays archived).
        const back = rows.filter((r) => r.u1).map((r) => r.id);
        const items = back.length
          ? (
              await tx.query<ItemRow>(
                `SELECT ${cols()} FROM "InboxItem" WHERE id = ANY($1::uuid[]) ORDER BY seq`,
                [back],
              )
            ).rows.map(toItem)
          : [];
        const retryAt = await stillDue(
          tx,
          userId,
          '"snoozedUntil"',
          `"snoozedUntil" IS NOT NULL AND "expiredAt" IS NULL`,
          dueAt,
        );
        return { items, changed: rows.length > 0, counts, retryAt };
      });
    },

    expire(userId, dueAt) {
      return sql.transaction(async (tx) => {
        const { rows, counts } = await changeIn(
          tx,
          userId,
          { set: `"expiredAt" = now()`, when: `i."expiredAt" IS NULL` },
          { sql: `i."expiresAt" <= now()`, params: [] },
        );
        const retryAt = await stillDue(tx, userId, '"expiresAt"', `"expiredAt" IS NULL`, dueAt);
        return { result: { change: 'expired', ids: rows.map((r) => r.id), counts }, retryAt };
      });
    },

    async recount(userId) {
      const users: string[] = [];
      if (userId !== undefined) users.push(userId);
      else {
        const { rows } = await sql.query<{ userId: string }>(
          `SELECT "userId" FROM "InboxCounter" ORDER BY 1`,
        );
        users.push(...rows.map((r) => r.userId));
      }
      const diffs: CountDifference[] = [];
      for (const u of users) diffs.push(...(await sql.transaction((tx) => recountUser(tx, u))));
      return diffs;
    },

    declareTab: (name, filter, audit) =>
      sql.transaction(async (tx) => {
        const { rows } = await tx.query<Parameters<typeof toTab>[0] & { changed: boolean }>(
          `INSERT INTO "InboxTab" (id, name, category, tags, severities) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (name) DO UPDATE SET category = EXCLUDED.category, tags = EXCLUDED.tags,
                                          severities = EXCLUDED.severities
         RETURNING id, name, category, tags, severities`,
          [randomUUID(), name, filter.category ?? null, filter.tags ?? [], filter.severity ?? []],
        );
        const tab = toTab(rows[0] as Parameters<typeof toTab>[0]);
        // A changed filter is recounted per user from the items, lazily, like a new tab.
        await tx.query(`DELETE FROM "InboxTabCount" WHERE "tabId" = $1`, [tab.id]);
        await audit?.({ sql: tx }, tab);
        return tab;
      }),

    async listTabs() {
      const { rows } = await sql.query<Parameters<typeof toTab>[0]>(
        `SELECT id, name, category, tags, severities FROM "InboxTab" ORDER BY name`,
      );
      return rows.map(toTab);
    },

    deleteTab: (name, audit) =>
      sql.transaction(async (tx) => {
        const { rows } = await tx.query(`DELETE FROM "InboxTab" WHERE name = $1 RETURNING id`, [name]);
        if (rows.length > 0) await audit?.({ sql: tx }, undefined);
        return rows.length > 0;
      }),

    // The item was stored with its delivery `sent` (insertItems), so a pushed item's delivery is sent.
    markDelivered: (deliveryIds) => markDeliveriesDelivered(sql, deliveryIds),
  };
}

/**
 * When this job's items are not all handled yet (a clock between hosts behind the one that computed the
 * due time): the earliest remaining time at or before `dueAt`, to run again then.
 */
async function stillDue(
  tx: SqlClient,
  userId: string,
  column: string,
  pending: string,
  dueAt: Date,
): Promise<Date | undefined> {
  const { rows } = await tx.query<{ at: Date | string | null }>(
    `SELECT min(${column}) AS at FROM "InboxItem"
      WHERE "userId" = $1 AND "deletedAt" IS NULL AND ${pending} AND ${column} <= $2::timestamptz`,
    [userId, dueAt.toISOString()],
  );
  const at = rows[0]?.at;
  return at === null || at === undefined ? undefined : new Date(at);
}
