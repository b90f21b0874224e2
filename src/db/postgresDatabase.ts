import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '../generated/prisma/client';
import type { Database } from './database';
import { listenPostgres } from './pgListener';
import { guardClientErrors } from './poolClientErrors';
import type { SqlClient } from './sqlClient';
import { wholeScriptAdapter } from './wholeScriptAdapter';

/** Splits Prisma's `?schema=` parameter off the URL; pg does not understand it. */
export function parseDatabaseUrl(url: string): { connectionString: string; schema: string } {
  const u = new URL(url);
  const schema = u.searchParams.get('schema') ?? 'public';
  u.searchParams.delete('schema');
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(schema))
    throw new Error(`DATABASE_URL: schema "${schema}" is not a plain identifier`);
  return { connectionString: u.toString(), schema };
}

export function createPostgresDatabase(url: string, poolSize: number): Database {
  const { connectionString, schema } = parseDatabaseUrl(url);
  const pool = new pg.Pool({
    connectionString,
    max: poolSize,
    // JIT off: Herald's statements are short and batched over unnest arrays, which the planner cannot
    // size, and on a large table a cost estimate past jit_above_cost compiled a statement that touched no
    // row: the inbox's tab-count step took 0.4 to 1.1 s per IM batch in a 100,000-member topic, with JIT.
    options: `-c search_path="${schema}" -c jit=off`,
    // A dead server must surface as an error, not an endless wait, so the consumer can hold its acks.
    connectionTimeoutMillis: 5000,
  });
  // Without a listener an idle client's error (server restart) would crash the process.
  pool.on('error', () => undefined);
  guardClientErrors(pool);
  // Prisma checks clients out for its transactions; a server shutdown mid-transaction must be an error
  // on that query, not an unhandled 'error' event that ends the process.
  const adapter = new PrismaPg(pool, {
    schema,
    onConnectionError: () => undefined,
    onPoolError: () => undefined,
  });
  const prisma = new PrismaClient({ adapter });
  const wrap = (c: pg.Pool | pg.PoolClient): SqlClient => ({
    query: async <T>(text: string, params?: readonly unknown[]) => {
      const r = await c.query(text, params as unknown[] | undefined);
      return { rows: r.rows as T[] };
    },
  });
  return {
    kind: 'postgres',
    schema,
    prisma,
    migrationAdapter() {
      // One connection: the engine's advisory lock and unlock must run on the same session.
      const migrationPool = new pg.Pool({ connectionString, max: 1, options: `-c search_path="${schema}"` });
      migrationPool.on('error', () => undefined);
      guardClientErrors(migrationPool);
      const factory = new PrismaPg(migrationPool, { schema });
      // Each adapter's own pool: the shadow database's for a shadow adapter.
      const whole = (adapter: Awaited<ReturnType<PrismaPg['connect']>>) => ({
        adapter,
        run: (script: string) => adapter.underlyingDriver().query(script),
      });
      return {
        adapter: wholeScriptAdapter(
          factory,
          async () => whole(await factory.connect()),
          async () => whole(await factory.connectToShadowDb()),
        ),
        release: () => migrationPool.end(),
      };
    },
    sql: {
      ...wrap(pool),
      async transaction(fn) {
        const client = await pool.connect();
        // The pool listens for errors only on idle clients: without this, a server shutdown between two
        // statements of a transaction is an unhandled 'error' event that kills the process.
        let broken: Error | undefined;
        const onError = (err: Error) => {
          broken = err;
        };
        client.on('error', onError);
        try {
          await client.query('BEGIN');
          const result = await fn(wrap(client));
          await client.query('COMMIT');
          return result;
        } catch (err) {
          await client.query('ROLLBACK').catch((rollbackErr: Error) => {
            broken ??= rollbackErr;
          });
          throw err;
        } finally {
          client.off('error', onError);
          // Releasing with an error discards the connection instead of handing it out again.
          client.release(broken);
        }
      },
    },
    listen: async (channel, onNotify) => listenPostgres(connectionString, channel, onNotify),
    async ping() {
      await pool.query('SELECT 1');
    },
    async close() {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}
