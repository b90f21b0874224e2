import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from './loadConfig';

export interface LocalSecrets {
  adminTokens: string[];
  /** Where the generated admin token is kept, when Herald generated one. */
  adminTokenFile?: string;
  secretKey: Buffer;
  jwtSecret: string;
}

/** Reads `name` under the home directory, creating it (mode 0600) with `make()` on first use. */
function readOrCreate(homeDir: string, name: string, make: () => string): { value: string; file: string } {
  const file = path.join(homeDir, name);
  fs.mkdirSync(homeDir, { recursive: true });
  try {
    fs.writeFileSync(file, make() + '\n', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return { value: fs.readFileSync(file, 'utf8').trim(), file };
}

/**
 * Secrets from the environment, or generated once and kept under HERALD_HOME so the embedded default
 * never runs open and keeps working across restarts.
 */
export function resolveLocalSecrets(config: Config): LocalSecrets {
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
  return { adminTokens, adminTokenFile, secretKey, jwtSecret };
}
