import { z } from 'zod';
import type { SqlClient } from '../db/sqlClient';
import { matchesFilter, type Filterable, type InboxFilter } from './inboxFilter';

export const countPairSchema = z.object({ unread: z.number().int(), unseen: z.number().int() });
export type CountPair = z.infer<typeof countPairSchema>;

/** A user's counts as every count-changing frame carries them. */
export const inboxCountsSchema = z.object({
  /** Grows by one with every change of the user's items; a jump means missed frames. */
  version: z.number().int().nonnegative(),
  unread: z.number().int(),
  unseen: z.number().int(),
  /** Per declared tab, by name. */
  tabs: z.record(z.string(), countPairSchema),
});
export type InboxCounts = z.infer<typeof inboxCountsSchema>;

/** A declared tab as the store uses it. */
export interface Tab {
  id: string;
  name: string;
  filter: InboxFilter;
}

/** Live: counted and listed by default. The counts change with these columns only, never with the clock. */
export const live = (a: string) =>
  `(${a}."deletedAt" IS NULL AND ${a}."archivedAt" IS NULL AND ${a}."snoozedUntil" IS NULL AND ${a}."expiredAt" IS NULL)`;
export const unreadExpr = (a: string) => `(${live(a)} AND ${a}."readAt" IS NULL)`;
export const unseenExpr = (a: string) => `(${live(a)} AND ${a}."seenAt" IS NULL)`;

/** A tab's filter on item alias `i`, against tab alias `t` (for statements over every tab at once). */
const TAB_MATCH = `(t.category IS NULL OR t.category = i.category)
  AND (cardinality(COALESCE(t.tags, '{}')) = 0 OR t.tags && i.tags)
  AND (cardinality(COALESCE(t.severities, '{}')) = 0 OR i.severity = ANY(t.severities))`;

interface TabRow {
  id: string;
  name: string;
  category: string | null;
  tags: string[] | null;
  severities: string[] | null;
}

export function toTab(r: TabRow): Tab {
  const filter: InboxFilter = {};
  if (r.category !== null) filter.category = r.category;
  if (r.tags?.length) filter.tags = r.tags;
  if (r.severities?.length) filter.severity = r.severities as InboxFilter['severity'];
  return { id: r.id, name: r.name, filter };
}

/** The change of one item's contribution to the counts: after minus before, each -1, 0 or 1. */
export interface ItemDelta extends Filterable {
  unread: number;
  unseen: number;
}

/**
 * The counter rows are the per-user lock of every inbox change (sorted, so batches cannot deadlock).
 * Taken first in each transaction, so the counts read or written after it are exact.
 */
export async function lockUsers(tx: SqlClient, userIds: readonly string[]): Promise<void> {
  await tx.query(
    `INSERT INTO "InboxCounter" ("userId", "lastSeq")
     SELECT u, 0 FROM unnest($1::text[]) AS u GROUP BY u ORDER BY u
     ON CONFLICT ("userId") DO UPDATE SET "lastSeq" = "InboxCounter"."lastSeq"`,
    [userIds],
  );
}

/**
 * Makes the missing count rows of every declared tab for these (locked) users from their items, before the
 * transaction changes any item; answers the tabs.
 */
export async function ensureTabCounts(tx: SqlClient, userIds: readonly string[]): Promise<Tab[]> {
  const { rows } = await tx.query<TabRow>(
    `WITH made AS (
       INSERT INTO "InboxTabCount" ("userId", "tabId", unread, unseen)
       SELECT u.uid, t.id,
              count(i.id) FILTER (WHERE ${unreadExpr('i')}), count(i.id) FILTER (WHERE ${unseenExpr('i')})
         FROM unnest($1::text[]) AS u(uid) CROSS JOIN "InboxTab" t
         LEFT JOIN "InboxItem" i ON i."userId" = u.uid AND ${TAB_MATCH}
        WHERE NOT EXISTS (SELECT 1 FROM "InboxTabCount" c WHERE c."userId" = u.uid AND c."tabId" = t.id)
        GROUP BY u.uid, t.id
       ON CONFLICT DO NOTHING
     )
     SELECT id, name, category, tags, severities FROM "InboxTab" ORDER BY name`,
    [[...new Set(userIds)]],
  );
  return rows.map(toTab);
}

/**
 * Adds the deltas of the users' changed items to their counts and tabs, with version + 1 for each user
 * with a changed item; answers every user's counts as of this transaction.
 */
export async function applyDeltas(
  tx: SqlClient,
  tabs: readonly Tab[],
  byUser: ReadonlyMap<string, readonly ItemDelta[]>,
): Promise<Record<string, InboxCounts>> {
  const users: string[] = [];
  const du: number[] = [];
  const ds: number[] = [];
  const tabUsers: string[] = [];
  const tabIds: string[] = [];
  const tu: number[] = [];
  const ts: number[] = [];
  for (const [userId, deltas] of byUser) {
    if (deltas.length === 0) continue;
    let unread = 0;
    let unseen = 0;
    const byTab = new Map<string, { unread: number; unseen: number }>();
    for (const d of deltas) {
      unread += d.unread;
      unseen += d.unseen;
      if (d.unread === 0 && d.unseen === 0) continue;
      for (const t of tabs) {
        if (!matchesFilter(t.filter, d)) continue;
        const sum = byTab.get(t.id) ?? { unread: 0, unseen: 0 };
        sum.unread += d.unread;
        sum.unseen += d.unseen;
        byTab.set(t.id, sum);
      }
    }
    users.push(userId);
    du.push(unread);
    ds.push(unseen);
    for (const [tabId, sum] of byTab) {
      if (sum.unread === 0 && sum.unseen === 0) continue;
      tabUsers.push(userId);
      tabIds.push(tabId);
      tu.push(sum.unread);
      ts.push(sum.unseen);
    }
  }
  const all = [...byUser.keys()];
  if (users.length === 0) return readCountsOf(tx, all);
  // One round trip: the updated rows come back through RETURNING, the others (no delta) from the
  // statement's snapshot, which is current for them since the caller holds these users' locks.
  const { rows } = await tx.query<CountRow>(
    `WITH tabs AS (
       UPDATE "InboxTabCount" c SET unread = c.unread + d.du, unseen = c.unseen + d.ds
         FROM unnest($4::text[], $5::uuid[], $6::int[], $7::int[]) AS d(uid, tab, du, ds)
        WHERE c."userId" = d.uid AND c."tabId" = d.tab
       RETURNING c."userId", c."tabId", c.unread, c.unseen
     ), counters AS (
       UPDATE "InboxCounter" c SET unread = c.unread + d.du, unseen = c.unseen + d.ds, version = c.version + 1
         FROM unnest($1::text[], $2::int[], $3::int[]) AS d(uid, du, ds)
        WHERE c."userId" = d.uid
       RETURNING c."userId", c.unread, c.unseen, c.version
     )
     SELECT "userId", NULL AS name, unread, unseen, version FROM counters
     UNION ALL
     SELECT c."userId", NULL, c.unread, c.unseen, c.version FROM "InboxCounter" c
      WHERE c."userId" = ANY($8::text[]) AND c."userId" <> ALL($1::text[])
     UNION ALL
     SELECT x."userId", t.name, x.unread, x.unseen, NULL FROM tabs x JOIN "InboxTab" t ON t.id = x."tabId"
     UNION ALL
     SELECT c."userId", t.name, c.unread, c.unseen, NULL FROM "InboxTabCount" c JOIN "InboxTab" t ON t.id = c."tabId"
      WHERE c."userId" = ANY($8::text[])
        AND NOT EXISTS (SELECT 1 FROM tabs x WHERE x."userId" = c."userId" AND x."tabId" = c."tabId")`,
    [users, du, ds, tabUsers, tabIds, tu, ts, all],
  );
  return countsFromRows(all, rows);
}

/** The counts of one user from the count rows alone (no item is read). */
export async function readCounts(sql: SqlClient, userId: string): Promise<InboxCounts> {
  return (await readCountsOf(sql, [userId]))[userId] as InboxCounts;
}

interface CountRow {
  userId: string;
  name: string | null;
  unread: number;
  unseen: number;
  version: string | number | null;
}

async function readCountsOf(
  sql: SqlClient,
  userIds: readonly string[],
): Promise<Record<string, InboxCounts>> {
  const { rows } = await sql.query<CountRow>(
    `SELECT "userId", NULL AS name, unread, unseen, version FROM "InboxCounter" WHERE "userId" = ANY($1::text[])
     UNION ALL
     SELECT c."userId", t.name, c.unread, c.unseen, NULL FROM "InboxTabCount" c JOIN "InboxTab" t ON t.id = c."tabId"
      WHERE c."userId" = ANY($1::text[])`,
    [userIds],
  );
  return countsFromRows(userIds, rows);
}

/** Counter rows (name NULL) and tab rows of these users as their counts; users without rows count 0. */
function countsFromRows(userIds: readonly string[], rows: readonly CountRow[]): Record<string, InboxCounts> {
  const out: Record<string, InboxCounts> = {};
  for (const u of userIds) out[u] = { version: 0, unread: 0, unseen: 0, tabs: {} };
  for (const r of rows) {
    const counts = out[r.userId] as InboxCounts;
    if (r.name === null) {
      counts.version = Number(r.version);
      counts.unread = Number(r.unread);
      counts.unseen = Number(r.unseen);
    } else counts.tabs[r.name] = { unread: Number(r.unread), unseen: Number(r.unseen) };
  }
  return out;
}

export interface CountDifference {
  userId: string;
  /** `total` for the user's own counts, else the tab's name. */
  scope: string;
  stored: CountPair;
  actual: CountPair;
}

/**
 * Recomputes one (locked) user's counts from the items and fixes the rows that differ (version + 1);
 * answers what it fixed.
 */
export async function recountUser(tx: SqlClient, userId: string): Promise<CountDifference[]> {
  await lockUsers(tx, [userId]);
  await ensureTabCounts(tx, [userId]);
  const { rows } = await tx.query<{
    scope: string;
    tab: string | null;
    su: number;
    ss: number;
    au: number;
    as: number;
  }>(
    `SELECT 'total' AS scope, NULL::uuid AS tab, c.unread AS su, c.unseen AS ss,
            (SELECT count(*) FROM "InboxItem" i WHERE i."userId" = $1 AND ${unreadExpr('i')})::int AS au,
            (SELECT count(*) FROM "InboxItem" i WHERE i."userId" = $1 AND ${unseenExpr('i')})::int AS "as"
       FROM "InboxCounter" c WHERE c."userId" = $1
     UNION ALL
     SELECT t.name, t.id, c.unread, c.unseen,
            (SELECT count(*) FROM "InboxItem" i WHERE i."userId" = $1 AND ${unreadExpr('i')} AND ${TAB_MATCH})::int,
            (SELECT count(*) FROM "InboxItem" i WHERE i."userId" = $1 AND ${unseenExpr('i')} AND ${TAB_MATCH})::int
       FROM "InboxTabCount" c JOIN "InboxTab" t ON t.id = c."tabId" WHERE c."userId" = $1`,
    [userId],
  );
  const diffs: CountDifference[] = [];
  for (const r of rows) {
    const stored = { unread: Number(r.su), unseen: Number(r.ss) };
    const actual = { unread: Number(r.au), unseen: Number(r.as) };
    if (stored.unread === actual.unread && stored.unseen === actual.unseen) continue;
    diffs.push({ userId, scope: r.scope, stored, actual });
    if (r.tab === null)
      await tx.query(`UPDATE "InboxCounter" SET unread = $2, unseen = $3 WHERE "userId" = $1`, [
        userId,
        actual.unread,
        actual.unseen,
      ]);
    else
      await tx.query(
        `UPDATE "InboxTabCount" SET unread = $3, unseen = $4 WHERE "userId" = $1 AND "tabId" = $2`,
        [userId, r.tab, actual.unread, actual.unseen],
      );
  }
  if (diffs.length)
    await tx.query(`UPDATE "InboxCounter" SET version = version + 1 WHERE "userId" = $1`, [userId]);
  return diffs;
}
