import { createSigner, createVerifier, TokenError } from 'fast-jwt';

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
    readonly reason: 'missing' | 'malformed' | 'expired' | 'invalid_signature' | 'invalid_claims',
    message: string,
  ) {
    super(message);
  }
}

/** Verifies a user token: HS256 only, `exp` and a non-empty `sub` required. */
export function createUserTokenVerifier(secret: string): (token: string | undefined) => UserClaims {
  const verify = createVerifier({
    key: secret,
    algorithms: ['HS256'],
    requiredClaims: ['exp', 'sub'],
    cache: 1000,
  });
  return (token) => {
    if (!token) throw new UserTokenError('missing', 'a user token is required');
    let payload: { sub?: unknown; exp?: unknown };
    try {
      payload = verify(token) as { sub?: unknown; exp?: unknown };
    } catch (err) {
      const code = err instanceof TokenError ? err.code : '';
      if (code === TokenError.codes.expired)
        throw new UserTokenError('expired', 'the user token has expired');
      if (code === TokenError.codes.invalidSignature)
        throw new UserTokenError('invalid_signature', 'the user token signature is not valid');
      if (code === TokenError.codes.missingRequiredClaim)
        throw new UserTokenError('invalid_claims', 'the user token needs sub and exp');
      if (code === TokenError.codes.invalidAlgorithm)
        throw new UserTokenError('invalid_signature', 'the user token must be signed with HS256');
      throw new UserTokenError('malformed', 'the user token is malformed');
    }
    if (typeof payload.sub !== 'string' || payload.sub === '' || typeof payload.exp !== 'number') {
      throw new UserTokenError('invalid_claims', 'the user token needs a string sub and a numeric exp');
    }
    return { userId: payload.sub, expiresAt: new Date(payload.exp * 1000) };
  };
}
