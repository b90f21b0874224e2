import { createCallBatcher } from '../db/callBatcher';
import {
  preferencesSchema,
  quietHoursSchema,
  subscriberFieldsSchema,
  type BulkSubscribers,
  type Preferences,
  type QuietHours,
  type SubscriberFields,
  type SubscriberInput,
  type SubscriberList,
  type SubscriberListQuery,
  type SubscriberView,
} from '../contract/subscriber';
import type { SqlClient } from '../db/sqlClient';
import { NotFoundError } from '../errors';
import { decodeCursor, encodeCursor, keysetPage } from '../http/cursor';
import { z } from 'zod';

/** A subscriber as dispatch uses it: the addresses to fill a recipient with, and the switches. */
export interface StoredSubscriber {
  userId: string;
  fields: SubscriberFields;
  timezone: string | null;
  preferences: Preferences;
  quietHours: QuietHours | null;
}

export interface SubscriberRow {
  userId: string;
  fields: unknown;
  timezone: string | null;
  data: unknown;
  preferences: unknown;
  quietHours: unknown;
  createdAt: Date | string;
  updatedAt: Date | string;
}

export const SUBSCRIBER_COLUMNS = `"userId", fields, timezone, data, preferences, "quietHours", "createdAt", "updatedAt"`;
const iso = (d: Date | string): string => (d instanceof Date ? d : new Date(d)).toISOString();

/** Stored JSON read back with the schemas it was written with; a field that no longer parses is dropped. */
export function toStored(r: SubscriberRow): StoredSubscriber {
  const fields = subscriberFieldsSchema.safeParse(r.fields ?? {});
  const preferences = preferencesSchema.safeParse(r.preferences ?? {});
  const quiet = r.quietHours ? quietHoursSchema.safeParse(r.quietHours) : undefined;
  return {
    userId: r.userId,
    fields: fields.success ? fields.data : {},
    timezone: r.timezone,
    preferences: preferences.success ? preferences.data : { channels: {}, categories: {} },
    quietHours: quiet?.success ? quiet.data : null,
  };
}

export function toView(r: SubscriberRow): SubscriberView {
  const s = toStored(r);
  return {
    ...s.fields,
    userId: s.userId,
    timezone: s.timezone,
    quietHours: s.quietHours,
    data: (r.data as Record<string, unknown> | null) ?? null,
    preferences: s.preferences,
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
  };
}

function split(input: SubscriberInput): {
  fields: SubscriberFields;
  rest: Omit<SubscriberInput, keyof SubscriberFields>;
} {
  const { timezone, quietHours, data, ...fields } = input;
  return { fields, rest: { timezone, quietHours, data } };
}

const userIdCursor = z.tuple([z.string().min(1).max(128)]);

/**
 * Upserts many subscribers in one statement. A PUT replaces the profile (addresses, timezone, quiet hours,
 * data) and keeps the preferences, which are the person's own.
 */
export async function upsertSubscribers(
  sql: SqlClient,
  subscribers: BulkSubscribers['subscribers'],
): Promise<SubscriberRow[]> {
  const parts = subscribers.map(({ userId, ...input }) => ({ userId, ...split(input) }));
  const { rows } = await sql.query<SubscriberRow>(
    `INSERT INTO "Subscriber" ("userId", email, fields, timezone, "quietHours", data, "createdAt", "updatedAt")
     SELECT u.uid, lower(u.fields->>'email'), u.fields, u.tz, u.quiet, u.data, now(), now()
       FROM unnest($1::text[], $2::jsonb[], $3::text[], $4::jsonb[], $5::jsonb[]) AS u(uid, fields, tz, quiet, data)
     ON CONFLICT ("userId") DO UPDATE SET email = EXCLUDED.email, fields = EXCLUDED.fields,
       timezone = EXCLUDED.timezone, "quietHours" = EXCLUDED."quietHours", data = EXCLUDED.data, "updatedAt" = now()
     RETURNING ${SUBSCRIBER_COLUMNS}`,
    [
      parts.map((p) => p.userId),
      parts.map((p) => JSON.stringify(p.fields)),
      parts.map((p) => p.rest.timezone ?? null),
      parts.map((p) => (p.rest.quietHours ? JSON.stringify(p.rest.quietHours) : null)),
      parts.map((p) => (p.rest.data ? JSON.stringify(p.rest.data) : null)),
    ],
  );
  return rows;
}

export async function findSubscriberRow(sql: SqlClient, userId: string): Promise<SubscriberRow | undefined> {
  const { rows } = await sql.query<SubscriberRow>(
    `SELECT ${SUBSCRIBER_COLUMNS} FROM "Subscriber" WHERE "userId" = $1`,
    [userId],
  );
  return rows[0];
}

export async function getSubscriber(sql: SqlClient, userId: string): Promise<SubscriberView> {
  const row = await findSubscriberRow(sql, userId);
  if (!row) throw new NotFoundError('subscriber', userId);
  return toView(row);
}

/** The directory entries of these users (one query); users without an entry are absent from the map. */
export async function lookupSubscribers(
  sql: SqlClient,
  userIds: readonly string[],
): Promise<Map<string, StoredSubscriber>> {
  if (userIds.length === 0) return new Map();
  const { rows } = await sql.query<SubscriberRow>(
    `SELECT ${SUBSCRIBER_COLUMNS} FROM "Subscriber" WHERE "userId" = ANY($1::text[])`,
    [[...new Set(userIds)]],
  );
  return new Map(rows.map((r) => [r.userId, toStored(r)]));
}

/** Finds the directory entries of users: lookupSubscribers, or a batched form of it. */
export type SubscriberLookup = (userIds: readonly string[]) => Promise<Map<string, StoredSubscriber>>;

/**
 * lookupSubscribers for the envelopes in flight together: the lookups made meanwhile become one query,
 * whose map (a superset of each caller's users) goes back to every caller.
 */
export function batchedSubscriberLookup(sql: SqlClient): SubscriberLookup {
  const lookupMany = createCallBatcher(async (lists: Array<readonly string[]>) => {
    const all = await lookupSubscribers(sql, lists.flat());
    return lists.map(() => all);
  });
  return (userIds) => (userIds.length ? lookupMany(userIds) : Promise.resolve(new Map()));
}

/** By userId ascending; `email` matches the stored address case-insensitively. */
export async function listSubscribers(sql: SqlClient, q: SubscriberListQuery): Promise<SubscriberList> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (q.cursor) {
    const [after] = decodeCursor(q.cursor, userIdCursor);
    params.push(after);
    where.push(`"userId" > $${params.length}`);
  }
  if (q.email) {
    params.push(q.email.toLowerCase());
    where.push(`email = $${params.length}`);
  }
  params.push(q.limit + 1);
  const { rows } = await sql.query<SubscriberRow>(
    `SELECT ${SUBSCRIBER_COLUMNS} FROM "Subscriber" ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY "userId" LIMIT $${params.length}`,
    params,
  );
  const { items, nextCursor } = keysetPage(rows, q.limit, (last) => encodeCursor([last.userId]));
  return { items: items.map(toView), nextCursor };
}

/** A subscriber's preferences; all on for a user the directory does not hold. */
export async function readPreferences(sql: SqlClient, userId: string): Promise<Preferences> {
  const row = await findSubscriberRow(sql, userId);
  return row ? toStored(row).preferences : { channels: {}, categories: {} };
}

/** Replaces a subscriber's preferences; a user not yet in the directory is added with no addresses. */
export async function writePreferences(
  sql: SqlClient,
  userId: string,
  preferences: Preferences,
): Promise<Preferences> {
  const { rows } = await sql.query<SubscriberRow>(
    `INSERT INTO "Subscriber" ("userId", preferences, "createdAt", "updatedAt") VALUES ($1, $2::jsonb, now(), now())
     ON CONFLICT ("userId") DO UPDATE SET preferences = EXCLUDED.preferences, "updatedAt" = now()
     RETURNING ${SUBSCRIBER_COLUMNS}`,
    [userId, JSON.stringify(preferences)],
  );
  return toStored(rows[0] as SubscriberRow).preferences;
}

/** A user's own preferences, as GET/PUT /v1/me/preferences and the socket's preference frames use them. */
export interface PreferenceStore {
  read(userId: string): Promise<Preferences>;
  write(userId: string, preferences: Preferences): Promise<Preferences>;
}

export const createPreferenceStore = (sql: SqlClient): PreferenceStore => ({
  read: (userId) => readPreferences(sql, userId),
  write: (userId, preferences) => writePreferences(sql, userId, preferences),
});
