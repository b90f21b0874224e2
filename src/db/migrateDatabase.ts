import type { Database } from './database';
import { applyMigrations, MIGRATIONS_DIR } from './migrations';

/** Creates the configured schema if needed and applies pending migrations; returns their names. */
export async function migrateDatabase(db: Database, dir = MIGRATIONS_DIR): Promise<string[]> {
  if (db.kind === 'postgres' && db.schema !== 'public') {
    await db.sql.query(`CREATE SCHEMA IF NOT EXISTS "${db.schema}"`);
  }
  const { adapter, release } = db.migrationAdapter();
  try {
    return await applyMigrations(adapter, dir);
  } finally {
    await release();
  }
}
