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
