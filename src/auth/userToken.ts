import { createSigner, createVerifier, TokenError } from 'fast-jwt';
import { isUserId, USER_ID_RULE } from '../identity/userId';

/** HERALD_JWT_MAX_TTL's default: 30 days. */
export const DEFAULT_MAX_TTL_MS = 30 * 24 * 3600 * 1000;

export interface UserClaims {
  userId: string;
  expiresAt: Date;
}

/** Mints an HS256 user token (`sub` = user id, `exp` required) as a business backend would. */
export function signUserToken(secret: string, userId: string, ttlSeconds = 3600): string {
  const sign = createSigner({ key: secret, algorithm: 'HS256', expiresIn: ttlSeconds * 1000 });
  return sign({ sub: userId });
}

export class UserTokenError extends Error {
  constructor(
    readonly reason:
      | 'missing'
      | 'malformed'
      | 'expired'
      | 'not_yet_valid'
      | 'lifetime_too_long'
      | 'invalid_signature'
      | 'invalid_claims',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Verifies a user token: HS256 only, `exp` and a `sub` that is a user id required, and no token that lives
 * longer than `maxTtlMs` (from `iat`, or from now without one): a leaked long-lived token is a standing key.
 */
export function createUserTokenVerifier(
  secret: string,
  maxTtlMs = DEFAULT_MAX_TTL_MS,
): (token: string | undefined) => UserClaims {
  const verify = createVerifier({
    key: secret,
    algorithms: ['HS256'],
    requiredClaims: ['exp', 'sub'],
    cache: 1000,
  });
  return (token) => {
    if (!token) throw new UserTokenError('missing', 'a user token is required');
    let payload: { sub?: unknown; exp?: unknown; iat?: unknown };
    try {
      payload = verify(token) as { sub?: unknown; exp?: unknown; iat?: unknown };
    } catch (err) {
      const code = err instanceof TokenError ? err.code : '';
      if (code === TokenError.codes.expired)
        throw new UserTokenError('expired', 'the user token has expired');
      if (code === TokenError.codes.inactive)
        throw new UserTokenError('not_yet_valid', 'the user token is not valid yet (nbf is in the future)');
      if (code === TokenError.codes.invalidSignature)
        throw new UserTokenError('invalid_signature', 'the user token signature is not valid');
      if (code === TokenError.codes.missingRequiredClaim)
        throw new UserTokenError('invalid_claims', 'the user token needs sub and exp');
      if (code === TokenError.codes.invalidAlgorithm)
        throw new UserTokenError('invalid_signature', 'the user token must be signed with HS256');
      throw new UserTokenError('malformed', 'the user token is malformed');
    }
    if (!isUserId(payload.sub) || typeof payload.exp !== 'number') {
      throw new UserTokenError(
        'invalid_claims',
        `the user token needs a numeric exp and a sub of ${USER_ID_RULE}`,
      );
    }
    const from = typeof payload.iat === 'number' ? Math.min(payload.iat * 1000, Date.now()) : Date.now();
    if (payload.exp * 1000 - from > maxTtlMs)
      throw new UserTokenError(
        'lifetime_too_long',
        `the user token lives longer than HERALD_JWT_MAX_TTL (${Math.round(maxTtlMs / 1000)} s); issue shorter-lived tokens`,
      );
    return { userId: payload.sub, expiresAt: new Date(payload.exp * 1000) };
  };
}
