import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { createPostgresDatabase } from '../../src/db/postgresDatabase';
import { createPgliteDatabase, wrapPglite } from '../../src/db/pgliteDatabase';
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

/** Where globalSetup leaves a migrated PGlite data directory (a tarball), for createTestPglite to load. */
export const PGLITE_SNAPSHOT_ENV = 'HERALD_TEST_PGLITE_SNAPSHOT';

/** Migrates a fresh in-memory PGlite and writes its data directory to `file`. */
export async function writePgliteSnapshot(file: string): Promise<void> {
  const pglite = new PGlite();
  const db = await wrapPglite(pglite);
  try {
    await migrateDatabase(db);
    const dump = await pglite.dumpDataDir('none');
    fs.writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
  } finally {
    await db.close();
  }
}

/**
 * A migrated in-memory PGlite, for suites that test the embedded default or need no server. Loaded from
 * globalSetup's snapshot when there is one: a fresh PGlite runs initdb and then every migration, about
 * 10 s on a busy 2-core machine, where loading the snapshot takes about 1 s. The migration check still
 * runs, and finds nothing to do.
 */
export async function createTestPglite(): Promise<TestDatabase> {
  const snapshot = process.env[PGLITE_SNAPSHOT_ENV];
  const db =
    snapshot && fs.existsSync(snapshot)
      ? await wrapPglite(new PGlite({ loadDataDir: new Blob([fs.readFileSync(snapshot)]) }))
      : await createPgliteDatabase();
  await migrateDatabase(db);
  return { db, drop: () => db.close() };
}
