import type { Database } from './database';
import { applyMigrations } from './migrations';

/** Creates the configured schema if needed and applies pending migrations; returns their names. */
export async function migrateDatabase(db: Database): Promise<string[]> {
  if (db.kind === 'postgres' && db.schema !== 'public') {
    await db.sql.query(`CREATE SCHEMA IF NOT EXISTS "${db.schema}"`);
  }
  const { adapter, release } = db.migrationAdapter();
  try {
    return await applyMigrations(adapter);
  } finally {
    await release();
  }
}
