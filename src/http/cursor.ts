import { z } from 'zod';
import { HeraldError } from '../errors';

/**
 * The one keyset-cursor codec: a list page's position is the sort key of its last row, as a JSON array
 * in base64url. Opaque to clients; decoded with the key's schema, so a forged cursor is a 400.
 */
export function encodeCursor(key: ReadonlyArray<string | number>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor<T extends z.ZodTuple>(cursor: string, key: T): z.infer<T> {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    json = undefined;
  }
  const parsed = key.safeParse(json);
  if (parsed.success) return parsed.data;
  throw new HeraldError('invalid_cursor', 'the cursor is not one this API returned', 400);
}

const createdAtAndId = z.tuple([z.iso.datetime(), z.string().min(1).max(200)]);

/** Lists ordered by (createdAt desc, id desc). */
export const encodeTimeCursor = (at: Date, id: string): string => encodeCursor([at.toISOString(), id]);
export function decodeTimeCursor(cursor: string): { at: Date; id: string } {
  const [at, id] = decodeCursor(cursor, createdAtAndId);
  return { at: new Date(at), id };
}

/**
 * A keyset page from rows fetched with limit + 1: the first `limit`, and the cursor of the last of them
 * when there was one more.
 */
export function keysetPage<T>(
  rows: readonly T[],
  limit: number,
  cursorOf: (last: T) => string,
): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last !== undefined ? cursorOf(last) : null };
}
