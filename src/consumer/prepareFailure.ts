import type { FastifyBaseLogger } from 'fastify';
import { SecretBoxError } from '../accounts/secretBox';
import { HeraldError } from '../errors';
import { isSafeItemUrl, ITEM_URL_RULE } from '../contract/itemUrl';
import type { SendOutcome } from '../senders/types';

/**
 * The outcome of a delivery that could not be prepared (its account could not be read). Secrets that do
 * not decrypt are the operator's to fix (a changed HERALD_SECRET_KEY), so they are logged as an error and
 * retried, not turned into a permanent failure nobody notices; /ready and a metric say so too.
 */
export function prepareFailure(err: unknown, log?: FastifyBaseLogger): SendOutcome {
  if (err instanceof SecretBoxError) {
    log?.error({ code: err.code, reason: err.message }, 'channel account secrets cannot be decrypted');
    return { kind: 'retryable', code: err.code, message: err.message };
  }
  const code = err instanceof HeraldError ? err.code : 'prepare_failed';
  return { kind: 'permanent', code, message: (err as Error).message };
}

/** A rendered in-site item URL must still be safe once its variables are filled in. */
export function assertSafeItemUrl(url: string | undefined): void {
  if (url !== undefined && !isSafeItemUrl(url))
    throw new HeraldError('unsafe_url', `the rendered im url ${ITEM_URL_RULE}`, 422);
}
