import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, type Config } from './loadConfig';
import { ensurePrivateHome } from '../home/privateHome';

export interface LocalSecrets {
  adminTokens: string[];
  /** Where the generated admin token is kept, when Herald generated one. */
  adminTokenFile?: string;
  secretKey: Buffer;
  /** Keys secrets may still be sealed with (HERALD_SECRET_KEY_PREVIOUS); opened, never used to seal. */
  previousSecretKeys: Buffer[];
  jwtSecret: string;
}

/** Reads `name` under the home directory, creating it (mode 0600) with `make()` on first use. */
function readOrCreate(homeDir: string, name: string, make: () => string): { value: string; file: string } {
  const file = path.join(homeDir, name);
  ensurePrivateHome(homeDir);
  try {
    fs.writeFileSync(file, make() + '\n', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return { value: fs.readFileSync(file, 'utf8').trim(), file };
}

/** Why each instance on a shared database must be given the same value instead of generating its own. */
const MUST_AGREE = {
  HERALD_SECRET_KEY:
    'channel-account secrets written by one instance must decrypt on every other; a key generated per HERALD_HOME fails every send through an account another instance wrote',
  HERALD_JWT_SECRET: 'a user token must verify on whichever instance the socket lands on',
  HERALD_ADMIN_TOKENS: 'an admin token must work on whichever instance the load balancer picks',
} as const;

/**
 * Refuses to generate per-instance secrets when DATABASE_URL names a database other instances may share;
 * the embedded default (PGlite under HERALD_HOME) has one instance by construction.
 */
function refuseGeneratedSecretsOnSharedDatabase(config: Config): void {
  if (!config.DATABASE_URL) return;
  const missing = (Object.keys(MUST_AGREE) as Array<keyof typeof MUST_AGREE>).filter((name) =>
    name === 'HERALD_ADMIN_TOKENS' ? config.HERALD_ADMIN_TOKENS.length === 0 : !config[name],
  );
  if (missing.length)
    throw new ConfigError(
      missing.map(
        (name) =>
          `${name}: must be set when DATABASE_URL is (a database several instances may share): ${MUST_AGREE[name]}`,
      ),
    );
}

/**
 * Secrets from the environment, or generated once and kept under HERALD_HOME so the embedded default
 * never runs open and keeps working across restarts.
 */
export function resolveLocalSecrets(config: Config): LocalSecrets {
  refuseGeneratedSecretsOnSharedDatabase(config);
  let adminTokens = config.HERALD_ADMIN_TOKENS;
  let adminTokenFile: string | undefined;
  if (adminTokens.length === 0) {
    const t = readOrCreate(
      config.homeDir,
      'admin-token',
      () => `hrd_${randomBytes(24).toString('base64url')}`,
    );
    adminTokens = [t.value];
    adminTokenFile = t.file;
  }
  const secretKey = config.HERALD_SECRET_KEY
    ? Buffer.from(config.HERALD_SECRET_KEY, 'base64')
    : Buffer.from(
        readOrCreate(config.homeDir, 'secret-key', () => randomBytes(32).toString('base64')).value,
        'base64',
      );
  const jwtSecret =
    config.HERALD_JWT_SECRET ??
    readOrCreate(config.homeDir, 'jwt-secret', () => randomBytes(32).toString('base64url')).value;
  const previousSecretKeys = config.HERALD_SECRET_KEY_PREVIOUS.map((k) => Buffer.from(k, 'base64'));
  return { adminTokens, adminTokenFile, secretKey, previousSecretKeys, jwtSecret };
}
