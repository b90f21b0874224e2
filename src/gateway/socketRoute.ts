import websocket from '@fastify/websocket';
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../appContext';
import { UserTokenError, type UserClaims } from '../auth/userToken';
import { HeraldError } from '../errors';
import { bearerToken } from '../http/adminAuth';
import type { Gateway } from './gateway';

const querystring = z.object({
  /** The user token; browsers cannot set headers on a WebSocket. */
  token: z.string().optional(),
  /** Resume: replay every item with seq > since (read or not) instead of the unread ones. */
  since: z.coerce.number().int().nonnegative().optional(),
});

/** Largest client frame; a read frame of 1000 ids is about 40 KiB. */
const MAX_CLIENT_FRAME_BYTES = 64 * 1024;

/**
 * `GET /v1/ws`: the token is checked in `onRequest`, before the upgrade, so a refused client gets a
 * plain 401 problem+json response and never a socket.
 */
export function createSocketRoute(deps: {
  gateway: Gateway;
  verifyToken: (token: string | undefined) => UserClaims;
}): FastifyPluginAsync<{ ctx: AppContext }> {
  return async (app) => {
    const users = new WeakMap<FastifyRequest, UserClaims>();
    // The default would close sockets without a code; ours say why (1001) before the server stops.
    async function preClose(this: FastifyInstance): Promise<void> {
      await deps.gateway.closeSockets();
      this.websocketServer.close();
    }
    await app.register(websocket, { options: { maxPayload: MAX_CLIENT_FRAME_BYTES }, preClose });
    app.withTypeProvider<ZodTypeProvider>().get(
      '/v1/ws',
      {
        websocket: true,
        schema: { querystring },
        onRequest: async (req) => {
          const fromQuery = (req.query as { token?: unknown }).token;
          const token = typeof fromQuery === 'string' && fromQuery !== '' ? fromQuery : bearerToken(req);
          try {
            users.set(req, deps.verifyToken(token));
          } catch (err) {
            if (err instanceof UserTokenError) throw new HeraldError(`token_${err.reason}`, err.message, 401);
            throw err;
          }
        },
      },
      (socket, req) => {
        const claims = users.get(req);
        if (claims === undefined) {
          socket.close(1008, 'not authenticated');
          return;
        }
        deps.gateway.accept(socket, claims.userId, { since: req.query.since, expiresAt: claims.expiresAt });
      },
    );
  };
}
