import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HeraldError } from '../errors';

/** What the browser client calls over HTTP with a user token: the user's inbox and their preferences. */
const BROWSER_ROUTES = /^\/v1\/(me\/|users\/[^/?]+\/inbox([/?]|$))/;

/**
 * Lets pages of HERALD_CORS_ORIGINS call the browser client's routes from their own origin. Tokens go in
 * the Authorization header, never in cookies, so no credentials mode is allowed. Preflights are answered
 * here, before the failed-auth limit (they carry no token and would be counted) and before any auth.
 */
export function registerCors(app: FastifyInstance, origins: readonly string[]): void {
  if (origins.length === 0) return;
  const anyOrigin = origins.includes('*');
  const allowedOrigin = (req: FastifyRequest): string | undefined => {
    const origin = req.headers.origin;
    if (!origin || !BROWSER_ROUTES.test(req.url)) return undefined;
    return anyOrigin || origins.includes(origin.toLowerCase()) ? origin : undefined;
  };
  app.addHook('onRequest', async (req, reply) => {
    const origin = allowedOrigin(req);
    if (!origin) return;
    reply.header('access-control-allow-origin', origin).header('vary', 'Origin');
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method'])
      return reply
        .code(204)
        .headers({
          'access-control-allow-methods': 'GET, POST, PUT',
          'access-control-allow-headers': 'authorization, content-type',
          'access-control-max-age': '600',
        })
        .send();
  });
  // Without a route an OPTIONS request is answered 404 by the not-found handler, around the hook above.
  app.options('/v1/*', { schema: { hide: true } }, async () => {
    throw new HeraldError('cors_refused', 'this origin may not call this route from a browser', 404);
  });
}
