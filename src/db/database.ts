import path from 'node:path';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type { PrismaClient } from '../generated/prisma/client';
import { ensurePrivateHome } from '../home/privateHome';
import type { TransactionalSqlClient } from './sqlClient';

export interface Database {
  kind: 'postgres' | 'pglite';
  /** The PostgreSQL schema Herald's tables live in (`?schema=` of DATABASE_URL). */
  schema: string;
  /** Prisma for the admin side (templates, accounts, lists). */
  prisma: PrismaClient;
  /** Raw SQL on the same database for the batched hot path. */
  sql: TransactionalSqlClient;
  /**
   * An adapter for the schema engine on a connection of its own. `release` closes that connection,
   * which also frees the migration advisory lock the engine holds for the session.
   */
  migrationAdapter(): { adapter: SqlMigrationAwareDriverAdapterFactory; release(): Promise<void> };
  /**
   * Calls `onNotify` on each NOTIFY on `channel` (a hint, never the record: listeners also poll).
   * Resolves to a function that stops listening.
   */
  listen(channel: string, onNotify: () => void): Promise<() => Promise<void>>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export async function openDatabase(opts: {
  url?: string;
  poolSize: number;
  homeDir: string;
}): Promise<Database> {
  if (opts.url) {
    const { createPostgresDatabase } = await import('./postgresDatabase');
    return createPostgresDatabase(opts.url, opts.poolSize);
  }
  ensurePrivateHome(opts.homeDir);
  const { createPgliteDatabase } = await import('./pgliteDatabase');
  return createPgliteDatabase(path.join(opts.homeDir, 'data'));
}
