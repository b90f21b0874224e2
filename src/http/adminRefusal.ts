import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../appContext';
import { createUserTokenVerifier } from '../auth/userToken';
import { UnauthorizedError } from '../errors';
import { bearerToken } from './adminAuth';

const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]*$/;

/**
 * The 401 for a request without a valid admin token, saying which of the three it was: no token, a token
 * this deployment does not know, or a user token (good for the WebSocket and that user's inbox only).
 * When Herald generated the admin token (embedded mode) it says where the file is, relative to its home.
 */
export function createAdminRefusal(ctx: AppContext): (req: FastifyRequest) => UnauthorizedError {
  const verifyUser = createUserTokenVerifier(ctx.secrets.jwtSecret, ctx.config.HERALD_JWT_MAX_TTL);
  const where = ctx.secrets.adminTokenFile
    ? ` This instance generated its admin token into $HERALD_HOME/admin-token on the server.`
    : ' Admin tokens are the ones in HERALD_ADMIN_TOKENS.';
  const isUserToken = (t: string) => {
    if (!JWT_SHAPE.test(t)) return false;
    try {
      verifyUser(t);
      return true;
    } catch {
      return false;
    }
  };
  return (req) => {
    const token = bearerToken(req);
    const [reason, message] =
      token === undefined
        ? ['missing', `no bearer token: this route needs Authorization: Bearer <admin token>.${where}`]
        : isUserToken(token)
          ? [
              'user_token',
              'a user token opens the WebSocket and its own inbox only; this route needs an admin token.',
            ]
          : [
              'unrecognised',
              `the bearer token is not an admin token or API key of this deployment (a revoked key is refused too).${where}`,
            ];
    return new UnauthorizedError(message, [{ path: 'headers.authorization', reason }]);
  };
}
