import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../appContext';
import { createUserTokenVerifier } from '../auth/userToken';
import { HeraldError } from '../errors';
import { bearerToken } from './adminAuth';

/**
 * Limits requests under `prefix` that carry no valid credential (each of them is answered 401) to
 * HERALD_AUTH_FAILURE_LIMIT per client address per window, with @fastify/rate-limit. A request with a
 * valid admin token, API key or user token is never counted nor refused, so a flood of bad guesses from
 * behind the same NAT or proxy cannot lock out working clients. The client address is `req.ip`, which honours
 * HERALD_TRUST_PROXY; counts live in each instance's memory (each instance counts its own).
 */
export async function registerFailedAuthLimit(
  app: FastifyInstance,
  ctx: AppContext,
  prefix: string,
): Promise<void> {
  const { HERALD_AUTH_FAILURE_LIMIT: max, HERALD_AUTH_FAILURE_WINDOW_MS: timeWindow } = ctx.config;
  if (max === 0) return;
  const verifyUser = createUserTokenVerifier(ctx.secrets.jwtSecret, ctx.config.HERALD_JWT_MAX_TTL);
  const isUserToken = (t: string): boolean => {
    try {
      verifyUser(t);
      return true;
    } catch {
      return false;
    }
  };
  const carriesValidCredential = async (req: FastifyRequest): Promise<boolean> => {
    const q = req.query as { token?: unknown } | undefined;
    for (const t of [bearerToken(req), typeof q?.token === 'string' ? q.token : undefined])
      if (t && (isUserToken(t) || (await ctx.authenticate(t)))) return true;
    return false;
  };
  await app.register(rateLimit, { global: false });
  const limit = app.rateLimit({
    max,
    timeWindow,
    keyGenerator: (req) => req.ip,
    allowList: carriesValidCredential,
    errorResponseBuilder: (_req, context) =>
      new HeraldError(
        'too_many_failed_auth',
        `too many requests without a valid token from this address; try again in ${context.after}`,
        429,
      ),
  });
  app.addHook('onRequest', async (req, reply) => {
    if (req.url.startsWith(prefix)) await limit.call(app, req, reply);
  });
}
