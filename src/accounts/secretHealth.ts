import { Counter, type Registry } from 'prom-client';
import type { ReadinessCheck } from '../appContext';
import type { ChannelAccount } from '../generated/prisma/client';
import { SecretBoxError, type SecretBox, type SecretFields } from './secretBox';

/**
 * Channel accounts whose stored secrets did not decrypt when a send needed them. That is an operator's
 * error (HERALD_SECRET_KEY differs from the key they were written with), so it is counted, fails /ready
 * until the account opens again, and the deliveries wait to be retried instead of failing for good.
 */
export interface SecretHealth {
  failed(account: string): void;
  opened(account: string): void;
  readiness: ReadinessCheck;
}

export function createSecretHealth(registry: Registry): SecretHealth {
  const broken = new Set<string>();
  const failures = new Counter({
    name: 'herald_secret_decrypt_failures_total',
    help: 'Reads of a channel account whose stored secrets could not be decrypted, by account',
    labelNames: ['account'],
    registers: [registry],
  });
  return {
    failed(account) {
      broken.add(account);
      failures.inc({ account });
    },
    opened(account) {
      broken.delete(account);
    },
    async readiness() {
      if (broken.size)
        throw new Error(
          `secrets of channel account(s) ${[...broken].join(', ')} cannot be decrypted: HERALD_SECRET_KEY is not the key they were written with (set that key, or put it in HERALD_SECRET_KEY_PREVIOUS)`,
        );
    },
  };
}

/** Opens an account's secrets, telling `health` whether they decrypted. */
export function openWatched(box: SecretBox, row: ChannelAccount, health?: SecretHealth): SecretFields {
  try {
    const secrets = box.open(row.secrets);
    health?.opened(row.name);
    return secrets;
  } catch (err) {
    if (err instanceof SecretBoxError) health?.failed(row.name);
    throw err;
  }
}
