import fs from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaClient } from '../generated/prisma/client';
import type { Database } from './database';
import { wholeScriptAdapter } from './wholeScriptAdapter';

/** The schema engine's adapter on `db`, running each migration whole (see wholeScriptAdapter). */
function wholeScriptPglite(db: PGlite) {
  const on = async (client: PGlite) => ({
    adapter: await new PrismaPGlite(client).connect(),
    run: (script: string) => client.exec(script),
  });
  return wholeScriptAdapter(
    new PrismaPGlite(db),
    () => on(db),
    // As the library's own factory makes one.
    () => on(new PGlite({ dataDir: 'memory://shadow' })),
  );
}

/** The embedded default: Postgres compiled to WASM, persisted in `dataDir` (in memory when omitted). */
export async function createPgliteDatabase(dataDir?: string): Promise<Database> {
  if (dataDir) fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  return wrapPglite(new PGlite(dataDir));
}

/** Herald's Database over a PGlite instance the caller made (tests load one from a migrated snapshot). */
export async function wrapPglite(db: PGlite): Promise<Database> {
  await db.waitReady;
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(db) });
  return {
    kind: 'pglite',
    schema: 'public',
    prisma,
    migrationAdapter: () => ({ adapter: wholeScriptPglite(db), release: async () => undefined }),
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
