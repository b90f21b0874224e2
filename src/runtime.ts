import type { FastifyBaseLogger } from 'fastify';
import type { AppContext } from './appContext';
import type { Config } from './config/loadConfig';
import { resolveLocalSecrets } from './config/localSecrets';
import { openDatabase } from './db/database';
import { migrateDatabase } from './db/migrateDatabase';
import { createAdminTokenCheck } from './http/adminAuth';
import { registerServices } from './services';

export interface Runtime {
  ctx: AppContext;
  /** Closes what the runtime opened, in reverse order of opening. */
  close(): Promise<void>;
}

/** Opens the database (migrating it), resolves secrets and builds the services the app and roles share. */
export async function startRuntime(config: Config, log: FastifyBaseLogger): Promise<Runtime> {
  const db = await openDatabase({
    url: config.DATABASE_URL,
    poolSize: config.DATABASE_POOL_SIZE,
    homeDir: config.homeDir,
  });
  const closers: Array<() => Promise<void>> = [() => db.close()];
  try {
    if (db.kind === 'pglite')
      log.info(
        { dataDir: `${config.homeDir}/data` },
        'database: embedded PGlite (set DATABASE_URL for PostgreSQL)',
      );
    const applied = await migrateDatabase(db);
    log.info({ applied }, applied.length ? 'database: migrations applied' : 'database: schema up to date');
    const secrets = resolveLocalSecrets(config);
    const ctx: AppContext = {
      config,
      db,
      secrets,
      isAdmin: createAdminTokenCheck(secrets.adminTokens),
      readiness: { database: () => db.ping() },
      services: {},
    };
    registerServices(ctx);
    return {
      ctx,
      async close() {
        for (const close of closers.reverse()) await close();
      },
    };
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
}
