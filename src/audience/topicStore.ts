import { z } from 'zod';
import type { TopicInput, TopicList, TopicMemberList, TopicView } from '../contract/topic';
import type { SqlClient } from '../db/sqlClient';
import { ConflictError, NotFoundError } from '../errors';
import { decodeCursor, encodeCursor, keysetPage } from '../http/cursor';
import { SUBSCRIBER_COLUMNS, toStored, type StoredSubscriber, type SubscriberRow } from './subscriberStore';

interface TopicRow {
  key: string;
  name: string;
  members: number;
  createdAt: Date | string;
  updatedAt: Date | string;
}

const iso = (d: Date | string): string => (d instanceof Date ? d : new Date(d)).toISOString();
const toView = (r: TopicRow): TopicView => ({
  key: r.key,
  name: r.name,
  members: Number(r.members),
  createdAt: iso(r.createdAt),
  updatedAt: iso(r.updatedAt),
});

const OPEN_MEMBERS = `(SELECT count(*)::int FROM "TopicMember" m WHERE m."topicKey" = t.key AND m."removedAt" IS NULL)`;

export async function createTopic(sql: SqlClient, input: TopicInput): Promise<TopicView> {
  const { rows } = await sql.query<TopicRow>(
    `INSERT INTO "Topic" (key, name, "createdAt", "updatedAt") VALUES ($1, $2, now(), now())
     ON CONFLICT (key) DO NOTHING RETURNING key, name, 0 AS members, "createdAt", "updatedAt"`,
    [input.key, input.name],
  );
  const row = rows[0];
  if (!row) throw new ConflictError('topic_exists', `topic "${input.key}" already exists`);
  return toView(row);
}

export async function getTopic(sql: SqlClient, key: string): Promise<TopicView> {
  const { rows } = await sql.query<TopicRow>(
    `SELECT key, name, ${OPEN_MEMBERS} AS members, "createdAt", "updatedAt" FROM "Topic" t WHERE key = $1`,
    [key],
  );
  const row = rows[0];
  if (!row) throw new NotFoundError('topic', key);
  return toView(row);
}

const keyCursor = z.tuple([z.string().min(1).max(200)]);

/** Topics by key ascending, each with its member count. */
export async function listTopics(sql: SqlClient, q: { limit: number; cursor?: string }): Promise<TopicList> {
  const after = q.cursor ? decodeCursor(q.cursor, keyCursor)[0] : '';
  const { rows } = await sql.query<TopicRow>(
    `SELECT key, name, ${OPEN_MEMBERS} AS members, "createdAt", "updatedAt" FROM "Topic" t
      WHERE key > $1 ORDER BY key LIMIT $2`,
    [after, q.limit + 1],
  );
  const { items, nextCursor } = keysetPage(rows, q.limit, (last) => encodeCursor([last.key]));
  return { items: items.map(toView), nextCursor };
}

/** The keys of `keys` that are not topics. */
export async function unknownTopics(sql: SqlClient, keys: readonly string[]): Promise<string[]> {
  if (keys.length === 0) return [];
  const { rows } = await sql.query<{ key: string }>(`SELECT key FROM "Topic" WHERE key = ANY($1::text[])`, [
    keys,
  ]);
  const known = new Set(rows.map((r) => r.key));
  return keys.filter((k) => !known.has(k));
}

/** Opens a membership for each user not already a member; returns how many were added. */
export async function addMembers(sql: SqlClient, key: string, userIds: readonly string[]): Promise<number> {
  await getTopic(sql, key);
  const { rows } = await sql.query<{ n: number }>(
    `WITH added AS (
       INSERT INTO "TopicMember" ("topicKey", "userId", "addedAt")
       SELECT $1, u.uid, now() FROM (SELECT DISTINCT uid FROM unnest($2::text[]) AS u(uid)) u
       ON CONFLICT ("topicKey", "userId") WHERE "removedAt" IS NULL DO NOTHING
       RETURNING 1
     ) SELECT count(*)::int AS n FROM added`,
    [key, userIds],
  );
  return Number(rows[0]?.n ?? 0);
}

/** Closes the open memberships of these users (kept, so expansion as of an earlier time still sees them). */
export async function removeMembers(
  sql: SqlClient,
  key: string,
  userIds: readonly string[],
): Promise<number> {
  await getTopic(sql, key);
  const { rows } = await sql.query<{ n: number }>(
    `WITH closed AS (
       UPDATE "TopicMember" SET "removedAt" = now()
        WHERE "topicKey" = $1 AND "userId" = ANY($2::text[]) AND "removedAt" IS NULL
       RETURNING 1
     ) SELECT count(*)::int AS n FROM closed`,
    [key, userIds],
  );
  return Number(rows[0]?.n ?? 0);
}

const userIdCursor = z.tuple([z.string().min(1).max(128)]);

/** Current members by userId ascending. */
export async function listMembers(
  sql: SqlClient,
  key: string,
  q: { limit: number; cursor?: string },
): Promise<TopicMemberList> {
  await getTopic(sql, key);
  const after = q.cursor ? decodeCursor(q.cursor, userIdCursor)[0] : '';
  const { rows } = await sql.query<{ userId: string; addedAt: Date | string }>(
    `SELECT "userId", "addedAt" FROM "TopicMember"
      WHERE "topicKey" = $1 AND "removedAt" IS NULL AND "userId" > $2 ORDER BY "userId" LIMIT $3`,
    [key, after, q.limit + 1],
  );
  const { items, nextCursor } = keysetPage(rows, q.limit, (last) => encodeCursor([last.userId]));
  return { items: items.map((r) => ({ userId: r.userId, addedAt: iso(r.addedAt) })), nextCursor };
}

export interface TopicMemberEntry {
  userId: string;
  /** The directory entry; undefined for a member the directory does not hold. */
  subscriber?: StoredSubscriber;
}

/**
 * One page of the distinct members of `topics` as membership stood at `asOf`, after `afterUserId` in
 * userId order, with their directory entries: what dispatch walks, a page at a time.
 */
export async function membersAsOf(
  sql: SqlClient,
  topics: readonly string[],
  asOf: Date,
  afterUserId: string,
  limit: number,
): Promise<TopicMemberEntry[]> {
  const { rows } = await sql.query<{ member: string } & Partial<SubscriberRow>>(
    `WITH page AS (
       SELECT DISTINCT "userId" FROM "TopicMember"
        WHERE "topicKey" = ANY($1::text[]) AND "addedAt" <= $2::timestamptz
          AND ("removedAt" IS NULL OR "removedAt" > $2::timestamptz) AND "userId" > $3
        ORDER BY "userId" LIMIT $4
     )
     SELECT p."userId" AS member, ${SUBSCRIBER_COLUMNS.split(', ')
       .map((c) => `s.${c}`)
       .join(', ')}
       FROM page p LEFT JOIN "Subscriber" s ON s."userId" = p."userId" ORDER BY p."userId"`,
    [topics, asOf.toISOString(), afterUserId, limit],
  );
  return rows.map((r) =>
    r.userId ? { userId: r.member, subscriber: toStored(r as SubscriberRow) } : { userId: r.member },
  );
}

/** The topics a user is or was in, with each stretch of membership (for the export). */
export async function membershipsOf(
  sql: SqlClient,
  userId: string,
): Promise<Array<{ topic: string; addedAt: string; removedAt: string | null }>> {
  const { rows } = await sql.query<{
    topicKey: string;
    addedAt: Date | string;
    removedAt: Date | string | null;
  }>(
    `SELECT "topicKey", "addedAt", "removedAt" FROM "TopicMember" WHERE "userId" = $1 ORDER BY "addedAt", id`,
    [userId],
  );
  return rows.map((r) => ({
    topic: r.topicKey,
    addedAt: iso(r.addedAt),
    removedAt: r.removedAt === null ? null : iso(r.removedAt),
  }));
}
