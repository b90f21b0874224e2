import { randomUUID } from 'node:crypto';
import { createSigner } from 'fast-jwt';
import type { ImJob } from '../../../src/senders/im/imJob';

/** An IM job as the dispatch pipeline hands it to the sender. */
export function imJob(userId: string, title: string, extra: Partial<ImJob> = {}): ImJob {
  return {
    channel: 'im',
    deliveryId: randomUUID(),
    messageId: `msg-${randomUUID()}`,
    attempt: 1,
    userId,
    title,
    body: `${title} body`,
    ...extra,
  };
}

/** Signs arbitrary claims, for tokens the product's signer would never produce. */
export function signClaims(secret: string, claims: Record<string, unknown>): string {
  return createSigner({ key: secret, algorithm: 'HS256' })(claims);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` returns true. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(25);
  }
}
