import type { FastifyBaseLogger } from 'fastify';
import { ConfigError } from '../config/loadConfig';
import type { LocalSecrets } from '../config/localSecrets';
import type { PrismaClient } from '../generated/prisma/client';
import { createSecretBox } from './secretBox';

/**
 * At start: every stored channel-account secret must decrypt, or Herald refuses to start and says why (a
 * changed HERALD_SECRET_KEY otherwise reports ready and then fails every send through those accounts).
 * Secrets that only a previous key opens are counted: they are re-encrypted on their account's next write.
 */
export async function verifyStoredSecrets(
  prisma: PrismaClient,
  secrets: LocalSecrets,
  log: FastifyBaseLogger,
): Promise<void> {
  const rows = await prisma.channelAccount.findMany({ select: { name: true, secrets: true } });
  const current = createSecretBox(secrets.secretKey);
  const withPrevious = createSecretBox(secrets.secretKey, secrets.previousSecretKeys);
  const unreadable: string[] = [];
  const onPrevious: string[] = [];
  for (const row of rows) {
    if (opens(() => current.open(row.secrets))) continue;
    if (opens(() => withPrevious.open(row.secrets))) onPrevious.push(row.name);
    else unreadable.push(row.name);
  }
  if (unreadable.length) {
    const which = `${unreadable.length} of ${rows.length} channel accounts (${unreadable.slice(0, 10).join(', ')}${unreadable.length > 10 ? ', …' : ''})`;
    throw new ConfigError([
      `HERALD_SECRET_KEY: the stored secrets of ${which} do not decrypt with it${secrets.previousSecretKeys.length ? ' nor with HERALD_SECRET_KEY_PREVIOUS' : ''}. The key changed since they were written: set HERALD_SECRET_KEY back to that key, or, to rotate, set the new key as HERALD_SECRET_KEY and the old one as HERALD_SECRET_KEY_PREVIOUS`,
    ]);
  }
  if (onPrevious.length)
    log.warn(
      { accounts: onPrevious },
      'channel accounts still encrypted with HERALD_SECRET_KEY_PREVIOUS; each is re-encrypted with HERALD_SECRET_KEY on its next write (PUT)',
    );
}

function opens(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch {
    return false;
  }
}
