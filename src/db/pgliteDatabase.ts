import fs from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaClient } from '../generated/prisma/client';
import type { Database } from './database';

/** The embedded default: Postgres compiled to WASM, persisted in `dataDir` (in memory when omitted). */
export async function createPgliteDatabase(dataDir?: string): Promise<Database> {
  if (dataDir) fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const db = new PGlite(dataDir);
  await db.waitReady;
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(db) });
  return {
    kind: 'pglite',
    schema: 'public',
    prisma,
    migrationAdapter: () => ({ adapter: new PrismaPGlite(db), release: async () => undefined }),
    sql: {
      query: async <T>(text: string, params?: readonly unknown[]) => {
        const r = await db.query<T>(text, params as unknown[] | undefined);
        return { rows: r.rows };
      },
      // PGlite has a single connection; its transaction() serialises callers for us.
      transaction: (fn) =>
        db.transaction((tx) =>
          fn({
            query: async <T>(text: string, params?: readonly unknown[]) => {
              const r = await tx.query<T>(text, params as unknown[] | undefined);
              return { rows: r.rows };
            },
          }),
        ),
    },
    async listen(channel, onNotify) {
      const unlisten = await db.listen(channel, () => onNotify());
      return unlisten;
    },
    async ping() {
      await db.query('SELECT 1');
    },
    async close() {
      await prisma.$disconnect();
      await db.close();
    },
  };
}
