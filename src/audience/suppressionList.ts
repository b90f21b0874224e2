import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { deriveKey } from '../accounts/secretBox';
import type {
  SuppressionList,
  SuppressionListQuery,
  SuppressionReason,
  SuppressionView,
} from '../contract/suppression';
import { ERASED } from '../contract/subscriber';
import type { SqlClient } from '../db/sqlClient';
import { decodeCursor, encodeCursor, keysetPage } from '../http/cursor';

export type { SuppressionReason };

interface SuppressionRow {
  id: string;
  /** Null once the person was erased: the entry is then kept under addressHash alone. */
  address: string | null;
  addressHash: string | null;
  reason: SuppressionReason;
  detail: string | null;
  messageId: string | null;
  deliveryId: string | null;
  createdAt: Date | string;
  updatedAt: Date | string;
}

const COLUMNS = `id::text AS id, address, "addressHash", reason, detail, "messageId",
  "deliveryId"::text AS "deliveryId", "createdAt", "updatedAt"`;
const iso = (d: Date | string): string => (d instanceof Date ? d : new Date(d)).toISOString();
const toView = ({ id: _id, addressHash: _hash, ...r }: SuppressionRow): SuppressionView => ({
  ...r,
  erased: r.address === null,
  createdAt: iso(r.createdAt),
  updatedAt: iso(r.updatedAt),
});

/** Addresses are compared as mailbox providers do in practice: case-insensitively. */
export const normalAddress = (address: string): string => address.trim().toLowerCase();

/**
 * Whether a suppression stops this mail: an unsubscribe is an opt-out, which a critical template ignores
 * (as it ignores preferences); a mailbox that does not exist, or an admin's block, stops everything.
 */
export const suppressionBlocks = (reason: SuppressionReason, critical: boolean): boolean =>
  !critical || reason !== 'unsubscribed';

export interface NewSuppression {
  address: string;
  reason: SuppressionReason;
  detail?: string;
  messageId?: string;
  deliveryId?: string;
  /** Leave an address that is already suppressed as it is (a person's unsubscribe never lifts a block). */
  keepExisting?: boolean;
}

/** What the key is derived for; a new purpose (or version) gives unrelated hashes. */
const PURPOSE = 'herald suppressed address v1';

/**
 * The suppression list. An entry names its address in clear until the person it belongs to is erased
 * (DELETE /v1/subscribers/:userId); from then on it holds only a keyed hash of the address (HMAC-SHA256
 * under a key derived from HERALD_SECRET_KEY), which still stops mail to that address: every lookup by
 * address compares both. Entries hashed under a HERALD_SECRET_KEY_PREVIOUS key are still found.
 */
export interface Suppressions {
  /** Adds an address, or replaces the reason it is suppressed for (the latest word counts, unless kept). */
  suppress(sql: SqlClient, s: NewSuppression): Promise<SuppressionView>;
  /** Removes an address (only when it is suppressed for `onlyFor`, if given); true when one was removed. */
  unsuppress(sql: SqlClient, address: string, onlyFor?: SuppressionReason): Promise<boolean>;
  find(sql: SqlClient, address: string): Promise<SuppressionView | undefined>;
  /** The suppressed ones among these addresses (one query), by normalised address. */
  among(sql: SqlClient, addresses: readonly string[]): Promise<Map<string, SuppressionReason>>;
  /** Erased entries first, then by address. */
  list(sql: SqlClient, q: SuppressionListQuery): Promise<SuppressionList>;
  /**
   * Keeps the entries of these addresses under their hash alone, the addresses gone from them (and from
   * their detail, such as a bounce's text), in the caller's transaction. Returns how many were changed.
   */
  forget(sql: SqlClient, addresses: readonly string[]): Promise<number>;
}

export function createSuppressions(keys: {
  secretKey: Buffer;
  previousSecretKeys: readonly Buffer[];
}): Suppressions {
  const hashKeys = [keys.secretKey, ...keys.previousSecretKeys].map((k) => deriveKey(k, PURPOSE));
  const hashWith = (key: Buffer, address: string) =>
    createHmac('sha256', key).update(normalAddress(address)).digest('hex');
  /** The hash under the current key, which erasure writes. */
  const hash = (address: string) => hashWith(hashKeys[0] as Buffer, address);
  /** The hashes under every key, which lookups compare. */
  const hashes = (address: string) => hashKeys.map((k) => hashWith(k, address));

  const findRow = async (sql: SqlClient, address: string): Promise<SuppressionRow | undefined> => {
    const { rows } = await sql.query<SuppressionRow>(
      `SELECT ${COLUMNS} FROM "Suppression" WHERE address = $1 OR "addressHash" = ANY($2::text[])
        ORDER BY address NULLS FIRST LIMIT 1`,
      [normalAddress(address), hashes(address)],
    );
    return rows[0];
  };

  return {
    async suppress(sql, s) {
      const address = normalAddress(s.address);
      // An erased person's entry stays a hash: a later bounce or block changes its reason, not that.
      const { rows: erased } = s.keepExisting
        ? { rows: [] }
        : await sql.query<SuppressionRow>(
            `UPDATE "Suppression" SET reason = $2, detail = $3, "messageId" = $4, "deliveryId" = $5::uuid,
               "updatedAt" = now()
              WHERE "addressHash" = ANY($1::text[]) RETURNING ${COLUMNS}`,
            [hashes(address), s.reason, s.detail ?? null, s.messageId ?? null, s.deliveryId ?? null],
          );
      if (erased[0]) return toView(erased[0]);
      if (s.keepExisting) {
        const existing = await findRow(sql, address);
        if (existing) return toView(existing);
      }
      const { rows } = await sql.query<SuppressionRow>(
        `INSERT INTO "Suppression" (address, reason, detail, "messageId", "deliveryId", "createdAt", "updatedAt")
         VALUES ($1, $2, $3, $4, $5::uuid, now(), now())
         ON CONFLICT (address) DO ${
           s.keepExisting
             ? 'NOTHING'
             : `UPDATE SET reason = EXCLUDED.reason, detail = EXCLUDED.detail,
           "messageId" = EXCLUDED."messageId", "deliveryId" = EXCLUDED."deliveryId", "updatedAt" = now()`
         }
         RETURNING ${COLUMNS}`,
        [address, s.reason, s.detail ?? null, s.messageId ?? null, s.deliveryId ?? null],
      );
      const row = rows[0] ?? (await findRow(sql, address));
      if (!row) throw new Error('the suppression was removed while it was written');
      return toView(row);
    },

    async unsuppress(sql, address, onlyFor) {
      const { rows } = await sql.query(
        `DELETE FROM "Suppression" WHERE (address = $1 OR "addressHash" = ANY($2::text[]))
           AND ($3::text IS NULL OR reason = $3) RETURNING id`,
        [normalAddress(address), hashes(address), onlyFor ?? null],
      );
      return rows.length > 0;
    },

    async find(sql, address) {
      const row = await findRow(sql, address);
      return row && toView(row);
    },

    async among(sql, addresses) {
      if (addresses.length === 0) return new Map();
      const byHash = new Map<string, string>();
      const normal = [...new Set(addresses.map(normalAddress))];
      for (const a of normal) for (const h of hashes(a)) byHash.set(h, a);
      const { rows } = await sql.query<{
        address: string | null;
        addressHash: string | null;
        reason: SuppressionReason;
      }>(
        `SELECT address, "addressHash", reason FROM "Suppression"
          WHERE address = ANY($1::text[]) OR "addressHash" = ANY($2::text[])`,
        [normal, [...byHash.keys()]],
      );
      const found = new Map<string, SuppressionReason>();
      for (const r of rows) {
        const a = r.address ?? (r.addressHash ? byHash.get(r.addressHash) : undefined);
        // Both an erased entry and a clear one for one address: the one that stops more counts.
        if (a && (found.get(a) === undefined || found.get(a) === 'unsubscribed')) found.set(a, r.reason);
      }
      return found;
    },

    async list(sql, q) {
      const where: string[] = [];
      const params: unknown[] = [];
      const sortKey = `COALESCE(address, '')`;
      if (q.cursor) {
        const [after, id] = decodeCursor(q.cursor, listCursor);
        params.push(after, id);
        where.push(`(${sortKey}, id) > ($${params.length - 1}, $${params.length}::bigint)`);
      }
      if (q.reason) {
        params.push(q.reason);
        where.push(`reason = $${params.length}`);
      }
      if (q.address) {
        params.push(normalAddress(q.address), hashes(q.address));
        where.push(`(address = $${params.length - 1} OR "addressHash" = ANY($${params.length}::text[]))`);
      }
      params.push(q.limit + 1);
      const { rows } = await sql.query<SuppressionRow>(
        `SELECT ${COLUMNS} FROM "Suppression" ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
          ORDER BY ${sortKey}, id LIMIT $${params.length}`,
        params,
      );
      const { items, nextCursor } = keysetPage(rows, q.limit, (last) =>
        encodeCursor([last.address ?? '', last.id]),
      );
      return { items: items.map(toView), nextCursor };
    },

    async forget(sql, addresses) {
      let changed = 0;
      for (const address of new Set(addresses.map(normalAddress))) {
        // An entry already erased under the current key makes the one in clear redundant.
        const { rows } = await sql.query(
          `WITH known AS (SELECT 1 FROM "Suppression" WHERE "addressHash" = $2),
                gone AS (DELETE FROM "Suppression" WHERE address = $1 AND EXISTS (SELECT 1 FROM known) RETURNING id),
                kept AS (
                  UPDATE "Suppression" SET address = NULL, "addressHash" = $2, "updatedAt" = now(),
                         detail = regexp_replace(detail, $3, $4, 'gi')
                   WHERE address = $1 AND NOT EXISTS (SELECT 1 FROM known) RETURNING id)
           SELECT id FROM gone UNION ALL SELECT id FROM kept`,
          [address, hash(address), escapeRegExp(address), ERASED],
        );
        changed += rows.length;
      }
      return changed;
    },
  };
}

const listCursor = z.tuple([z.string().max(320), z.string().regex(/^\d{1,19}$/)]);

/** The address as a literal inside a POSIX regular expression (PostgreSQL's regexp_replace). */
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
