import { randomBytes } from 'node:crypto';
import { createPostgresDatabase } from '../../src/db/postgresDatabase';
import { createPgliteDatabase } from '../../src/db/pgliteDatabase';
import type { Database } from '../../src/db/database';
import { migrateDatabase } from '../../src/db/migrateDatabase';
import { TEST_DATABASE_URL, withSchema } from './services';

export interface TestDatabase {
  db: Database;
  url?: string;
  drop(): Promise<void>;
}

/** A migrated schema of its own on the test PostgreSQL, dropped by `drop()`. */
export async function createTestPostgres(): Promise<TestDatabase> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const url = withSchema(TEST_DATABASE_URL, schema);
  const db = createPostgresDatabase(url, 5);
  await migrateDatabase(db);
  return {
    db,
    url,
    async drop() {
      await db.sql.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
      await db.close();
    },
  };
}

/** A migrated in-memory PGlite, for suites that test the embedded default or need no server. */
export async function createTestPglite(): Promise<TestDatabase> {
  const db = await createPgliteDatabase();
  await migrateDatabase(db);
  return { db, drop: () => db.close() };
}
