import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiKeyService } from './apiKeys';
import type { Principal } from './scopes';

/**
 * Which of HERALD_ADMIN_TOKENS the candidate is (its 0-based index), or -1. Compares in constant time:
 * both sides are hashed to a fixed length first and every token is compared, so neither length nor
 * position leaks.
 */
export function createAdminTokenMatch(tokens: readonly string[]): (candidate: string | undefined) => number {
  const digests = tokens.map((t) => createHash('sha256').update(t).digest());
  return (candidate) => {
    if (!candidate) return -1;
    const d = createHash('sha256').update(candidate).digest();
    let found = -1;
    digests.forEach((known, i) => {
      if (timingSafeEqual(known, d) && found < 0) found = i;
    });
    return found;
  };
}

/** Who a bearer token belongs to: a bootstrap admin token, an API key, or nobody (undefined). */
export type Authenticate = (token: string | undefined) => Promise<Principal | undefined>;

/**
 * HERALD_ADMIN_TOKENS are admin keys named `bootstrap:<n>` (1-based, in the order configured), so the audit
 * log can say which one acted without ever holding the token; everything else is looked up as an API key.
 */
export function createAuthenticate(adminTokens: readonly string[], apiKeys: ApiKeyService): Authenticate {
  const match = createAdminTokenMatch(adminTokens);
  const bootstrap: Principal[] = adminTokens.map((_t, i) => ({
    id: `bootstrap:${i + 1}`,
    name: `bootstrap:${i + 1}`,
    scopes: ['admin'],
  }));
  return async (token) => {
    if (!token) return undefined;
    const i = match(token);
    if (i >= 0) return bootstrap[i];
    return apiKeys.resolve(token);
  };
}
