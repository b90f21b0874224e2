import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/loadConfig';
import { resolveLocalSecrets } from '../../src/config/localSecrets';
import { openDatabase } from '../../src/db/database';

const home = () => fs.mkdtempSync(path.join(os.tmpdir(), 'herald-shared-'));
const complete = {
  HERALD_SECRET_KEY: Buffer.alloc(32, 1).toString('base64'),
  HERALD_JWT_SECRET: 'j'.repeat(32),
  HERALD_ADMIN_TOKENS: 'a'.repeat(16),
};

describe('secrets on a shared database', () => {
  it.each(Object.keys(complete))('refuses to generate %s when DATABASE_URL is set, saying why', (name) => {
    const dir = home();
    const env = { ...complete, [name]: '', HERALD_HOME: dir, DATABASE_URL: 'postgresql://h/db' };
    let err: unknown;
    try {
      resolveLocalSecrets(loadConfig(env));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([
      expect.stringMatching(new RegExp(`^${name}: must be set when DATABASE_URL is .*instance`)),
    ]);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('names every missing one at once', () => {
    const env = { HERALD_HOME: home(), DATABASE_URL: 'postgresql://h/db' };
    expect(() => resolveLocalSecrets(loadConfig(env))).toThrow(
      /HERALD_SECRET_KEY: must be set[\s\S]*HERALD_JWT_SECRET: must be set[\s\S]*HERALD_ADMIN_TOKENS: must be set/,
    );
  });

  it('takes all three from the environment on a shared database', () => {
    const s = resolveLocalSecrets(
      loadConfig({ ...complete, HERALD_HOME: home(), DATABASE_URL: 'postgresql://h/db' }),
    );
    expect(s.adminTokens).toEqual([complete.HERALD_ADMIN_TOKENS]);
    expect(s.secretKey.equals(Buffer.alloc(32, 1))).toBe(true);
  });

  it('still generates them for the embedded default, into a home only its owner may enter', async () => {
    const dir = path.join(home(), 'nested-home');
    const s = resolveLocalSecrets(loadConfig({ HERALD_HOME: dir }));
    expect(s.adminTokenFile).toBe(path.join(dir, 'admin-token'));
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    for (const f of ['admin-token', 'secret-key', 'jwt-secret'])
      expect(fs.statSync(path.join(dir, f)).mode & 0o777).toBe(0o600);
  });

  it('makes an existing, looser embedded home private when it opens the embedded database', async () => {
    const dir = home();
    fs.chmodSync(dir, 0o755);
    const db = await openDatabase({ poolSize: 1, homeDir: dir });
    try {
      expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
      expect(fs.statSync(path.join(dir, 'data')).mode & 0o077).toBe(0);
    } finally {
      await db.close();
    }
  });
});
