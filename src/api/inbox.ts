import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { userIdSchema } from '../identity/userId';
import type { AppContext } from '../appContext';
import { createUserTokenVerifier, UserTokenError } from '../auth/userToken';
import { ForbiddenError, HeraldError } from '../errors';
import { bearerToken } from '../http/adminAuth';
import { decodeCursor, encodeCursor } from '../http/cursor';
import { problemSchema } from '../http/problemSchema';
import { inboxItemSchema, toItemView, type ReadSelection } from '../inbox/inboxItem';
import { markReadAndAnnounce } from '../inbox/markReadAndAnnounce';

const params = z.object({ userId: userIdSchema });

const listQuery = z.object({
  unread: z.enum(['true', 'false']).optional().describe('only unread items'),
  cursor: z.string().max(64).optional().describe('nextCursor of the previous page'),
  since: z.coerce.number().int().nonnegative().optional().describe('items with seq > since, oldest first'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

const readBody = z.union([
  z.object({ ids: z.array(z.uuid()).min(1).max(1000) }).strict(),
  z.object({ upToSeq: z.number().int().nonnegative() }).strict(),
  z.object({ all: z.literal(true) }).strict(),
]);

const errors = { 400: problemSchema, 401: problemSchema, 403: problemSchema };
const description = 'Bearer: the admin token, or the user token (HS256 JWT) of this user.';

/** Newest-first pages continue below the seq of the last item; the cursor wraps it. */
const seqKey = z.tuple([z.int().nonnegative()]);
const encodeSeqCursor = (seq: number) => encodeCursor([seq]);
const decodeSeqCursor = (cursor: string): number => decodeCursor(cursor, seqKey)[0];

/** A user's inbox over HTTP: the admin token, or that user's own token (never another user's). */
export const inboxRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  const verifyUser = createUserTokenVerifier(ctx.secrets.jwtSecret, ctx.config.HERALD_JWT_MAX_TTL);

  function authorize(req: FastifyRequest, userId: string): void {
    const token = bearerToken(req);
    if (ctx.isAdmin(token)) return;
    let subject: string;
    try {
      subject = verifyUser(token).userId;
    } catch (err) {
      if (err instanceof UserTokenError) throw new HeraldError(`token_${err.reason}`, err.message, 401);
      throw err;
    }
    if (subject !== userId) throw new ForbiddenError("a user token gives access to that user's inbox only");
  }
  // Before validation, so an unauthenticated caller learns nothing from 400s.
  const guard = async (req: FastifyRequest) => authorize(req, (req.params as { userId: string }).userId);

  app.get(
    '/users/:userId/inbox',
    {
      config: { auth: 'user-or-admin' },
      onRequest: guard,
      schema: {
        tags: ['inbox'],
        description,
        params,
        querystring: listQuery,
        response: {
          200: z.object({
            items: z.array(inboxItemSchema),
            unread: z.number().int(),
            nextCursor: z.string().nullable(),
          }),
          ...errors,
        },
      },
    },
    async (req) => {
      const { userId } = req.params;
      const q = req.query;
      const page = await ctx.services.inbox.listItems(userId, {
        unreadOnly: q.unread === 'true',
        afterSeq: q.since,
        beforeSeq: q.cursor !== undefined && q.since === undefined ? decodeSeqCursor(q.cursor) : undefined,
        limit: q.limit,
      });
      const last = page.items.at(-1);
      // With `since` the client pages on with the last seq it got; the cursor is for newest-first.
      const nextCursor = page.more && last && q.since === undefined ? encodeSeqCursor(last.seq) : null;
      return {
        items: page.items.map(toItemView),
        unread: await ctx.services.inbox.unreadCount(userId),
        nextCursor,
      };
    },
  );

  app.get(
    '/users/:userId/inbox/unread-count',
    {
      config: { auth: 'user-or-admin' },
      onRequest: guard,
      schema: {
        tags: ['inbox'],
        description,
        params,
        response: { 200: z.object({ unread: z.number().int() }), ...errors },
      },
    },
    async (req) => {
      return { unread: await ctx.services.inbox.unreadCount(req.params.userId) };
    },
  );

  app.post(
    '/users/:userId/inbox/read',
    {
      config: { auth: 'user-or-admin' },
      onRequest: guard,
      schema: {
        tags: ['inbox'],
        description,
        params,
        body: readBody,
        response: { 200: z.object({ updated: z.number().int(), unread: z.number().int() }), ...errors },
      },
    },
    async (req) => {
      const { userId } = req.params;
      const body = req.body;
      const selection: ReadSelection =
        'ids' in body ? { ids: body.ids } : 'upToSeq' in body ? { upToSeq: body.upToSeq } : { all: true };
      const { updated, unread } = await markReadAndAnnounce(
        { inbox: ctx.services.inbox, bus: ctx.services.imBus, log: req.log },
        userId,
        selection,
      );
      return { updated, unread };
    },
  );
};
