import { HeraldError } from '../errors';

/** Keyset position in a list ordered by (createdAt desc, id desc); opaque to clients. */
export interface Cursor {
  c: string;
  i: string;
}

export function encodeCursor(createdAt: Date, id: string): string {
  return Buffer.from(JSON.stringify({ c: createdAt.toISOString(), i: id } satisfies Cursor)).toString(
    'base64url',
  );
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function decodeCursor(raw: string): Cursor {
  try {
    const parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as Partial<Cursor>;
    if (
      typeof parsed.c === 'string' &&
      typeof parsed.i === 'string' &&
      UUID.test(parsed.i) &&
      !Number.isNaN(Date.parse(parsed.c))
    )
      return { c: parsed.c, i: parsed.i };
  } catch {
    // falls through to the error below
  }
  throw new HeraldError('invalid_cursor', 'cursor is not one this API handed out', 400);
}
