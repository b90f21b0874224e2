import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildApp, type App } from '../../src/app';
import type { AppContext } from '../../src/appContext';
import { loadConfig, type Config } from '../../src/config/loadConfig';
import { resolveLocalSecrets } from '../../src/config/localSecrets';
import type { Database } from '../../src/db/database';
import { createContext } from '../../src/runtime';

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';
export const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

export interface TestApp {
  app: App;
  ctx: AppContext;
  config: Config;
  close(): Promise<void>;
}

/** Builds the app on the given database with a throwaway HERALD_HOME and a known admin token. */
export async function createTestApp(db: Database, env: Record<string, string> = {}): Promise<TestApp> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-test-'));
  const config = loadConfig({
    HERALD_HOME: home,
    HERALD_ADMIN_TOKENS: ADMIN_TOKEN,
    LOG_LEVEL: 'silent',
    ...env,
  });
  const secrets = resolveLocalSecrets(config);
  const ctx = createContext(config, db, secrets);
  const app = await buildApp(ctx);
  return {
    app,
    ctx,
    config,
    async close() {
      await app.close();
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}

/** The test app of a `describe` (or a file) from useTestApp, with an admin request at hand. */
export interface SuiteApp extends Omit<TestApp, 'close'> {
  /** The app's database (its own schema, or its own PGlite). */
  readonly db: Database;
  /** A request through `inject` with the admin token; a JSON body when `payload` is given. */
  call(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    url: string,
    payload?: object,
  ): Promise<Awaited<ReturnType<App['inject']>>>;
}

/**
 * A test app on a database of its own for the enclosing `describe` (or file): opened in `beforeAll`,
 * closed and dropped in `afterAll`. Its parts exist inside hooks and tests, not when the suite is defined.
 */
export function useTestApp(
  open: () => Promise<{ db: Database; drop(): Promise<void> }>,
  env: Record<string, string> = {},
): SuiteApp {
  let made: { drop(): Promise<void>; t: TestApp } | undefined;
  beforeAll(async () => {
    const tdb = await open();
    made = { drop: () => tdb.drop(), t: await createTestApp(tdb.db, env) };
  });
  afterAll(async () => {
    await made?.t.close();
    await made?.drop();
    made = undefined;
  });
  const current = (): TestApp => {
    if (!made) throw new Error('useTestApp: the app exists only inside hooks and tests');
    return made.t;
  };
  return {
    get app() {
      return current().app;
    },
    get ctx() {
      return current().ctx;
    },
    get config() {
      return current().config;
    },
    get db() {
      return current().ctx.db;
    },
    call: async (method, url, payload) =>
      current().app.inject({ method, url, headers: auth, ...(payload === undefined ? {} : { payload }) }),
  };
}
