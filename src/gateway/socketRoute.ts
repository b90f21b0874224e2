import websocket from '@fastify/websocket';
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../appContext';
import { UserTokenError, type UserClaims } from '../auth/userToken';
import { HeraldError } from '../errors';
import { bearerToken } from '../http/adminAuth';
import { problemSchema } from '../http/problemSchema';
import type { Gateway } from './gateway';
import { CLOSE } from './protocol';

const querystring = z.object({
  /** The user token; browsers cannot set headers on a WebSocket. */
  token: z.string().optional(),
  /** Resume: replay every item with seq > since (read or not) instead of the unread ones. */
  since: z.coerce.number().int().nonnegative().optional(),
});

const closeCodes = Object.values(CLOSE)
  .map((c) => `${c.code} (${c.reason})`)
  .join(', ');

const description = [
  'The WebSocket gateway of one user: the user token (an HS256 JWT with `sub` and `exp`, not an admin token) goes',
  'in `?token=` or `Authorization: Bearer`; it is checked before the upgrade, so a refused client gets a 401',
  'problem+json and no socket. Frames are JSON text. The server sends `hello` first (the unread count and',
  'unread items, or with `since` every item after that seq), then `message` for each new item, `unread` when the',
  'count changes, `pong`, and `error` for a frame it cannot take (schema WsServerFrame). The client sends',
  '`read` (exactly one of `ids`, `upToSeq`, `all`) and `ping` (schema WsClientFrame), at most 64 KiB a frame.',
  `Close codes: ${closeCodes}.`,
].join(' ');

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
    app.withTypeProvider<ZodTypeProvider>().route({
      method: 'GET',
      url: '/v1/ws',
      schema: {
        tags: ['gateway'],
        summary: "Open a user's WebSocket (upgrade)",
        description,
        security: [{ userToken: [] }],
        querystring,
        response: {
          101: z.null().describe('Switching Protocols: the socket is open and `hello` follows'),
          // 401: no user token, or one that is malformed, expired, not yet valid or too long-lived.
          401: problemSchema,
          426: problemSchema,
        },
      },
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
      // A plain GET with a good token: say what is missing rather than @fastify/websocket's bare 404.
      handler: async () => {
        throw new HeraldError(
          'upgrade_required',
          'GET /v1/ws opens a WebSocket: send Upgrade: websocket',
          426,
        );
      },
      wsHandler: (socket, req) => {
        const claims = users.get(req);
        if (claims === undefined) {
          socket.close(1008, 'not authenticated');
          return;
        }
        deps.gateway.accept(socket, claims.userId, { since: req.query.since, expiresAt: claims.expiresAt });
      },
    });
  };
}
