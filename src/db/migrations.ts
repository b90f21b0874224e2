import fs from 'node:fs';
import path from 'node:path';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { withSchemaEngine } from './schemaEngine';

/** prisma/ at the package root, from src/db (tests, tsx) and dist/db (built) alike. */
export const PRISMA_DIR = path.resolve(__dirname, '..', '..', 'prisma');
export const MIGRATIONS_DIR = path.join(PRISMA_DIR, 'migrations');

export function readMigrationsList(dir = MIGRATIONS_DIR) {
  const names = fs.existsSync(dir)
    ? fs
        .readdirSync(dir, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .sort()
    : [];
  const lockPath = path.join(dir, 'migration_lock.toml');
  return {
    baseDir: dir,
    lockfile: {
      path: 'migration_lock.toml',
      content: fs.existsSync(lockPath) ? fs.readFileSync(lockPath, 'utf8') : null,
    },
    shadowDbInitScript: '',
    migrationDirectories: names.map((name) => ({
      path: name,
      migrationFile: {
        path: 'migration.sql',
        content: {
          tag: 'ok' as const,
          value: fs.readFileSync(path.join(dir, name, 'migration.sql'), 'utf8'),
        },
      },
    })),
  };
}

/**
 * Applies pending migrations exactly as `prisma migrate deploy` would (same `_prisma_migrations`
 * bookkeeping), through the WASM schema engine so no native binary is needed. Returns the names applied.
 * `dir` is Herald's own migrations but for tests of the runner itself.
 */
export async function applyMigrations(
  adapter: SqlMigrationAwareDriverAdapterFactory,
  dir = MIGRATIONS_DIR,
): Promise<string[]> {
  return withSchemaEngine(adapter, async (engine) => {
    const result = await engine.applyMigrations({
      migrationsList: readMigrationsList(dir),
      filters: { externalTables: [], externalEnums: [] },
    });
    return result.appliedMigrationNames;
  });
}
