import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { uuidSchema } from '../identity/uuid';
import { userIdSchema } from '../identity/userId';
import type { AppContext } from '../appContext';
import { createUserTokenVerifier, UserTokenError } from '../auth/userToken';
import { DURATION_PATTERN, parseDuration } from '../contract/duration';
import { ForbiddenError, HeraldError } from '../errors';
import { bearerToken } from '../http/adminAuth';
import { authorizeKey } from '../http/routeAuth';
import { decodeCursor, encodeCursor } from '../http/cursor';
import { problemSchema } from '../http/problemSchema';
import { actAndAnnounce, changeAndAnnounce } from '../inbox/announceChange';
import { selectionSchema, type InboxChange, type Selection } from '../inbox/inboxChange';
import { inboxCountsSchema } from '../inbox/inboxCounts';
import type { FilterRef, InboxFilter } from '../inbox/inboxFilter';
import { ACTION_SLOTS, inboxItemSchema, SEVERITIES, toItemView } from '../inbox/inboxItem';
import { LIST_STATUSES } from '../inbox/inboxStore';

const params = z.object({ userId: userIdSchema });

const many = <T extends z.ZodType>(item: T) =>
  z.union([item, z.array(item).max(20)]).transform((v) => (Array.isArray(v) ? v : [v]) as z.infer<T>[]);

const filterQuery = {
  tab: z.string().min(1).max(64).optional().describe('a declared tab'),
  category: z.string().min(1).max(100).optional(),
  tag: many(z.string().min(1).max(100)).optional().describe('any of; repeat for more'),
  severity: many(z.enum(SEVERITIES)).optional().describe('any of; repeat for more'),
};

const listQuery = z.object({
  status: z.enum(LIST_STATUSES).default('live'),
  unread: z.enum(['true', 'false']).optional().describe('same as status=unread'),
  ...filterQuery,
  cursor: z.string().max(64).optional().describe('nextCursor of the previous page'),
  since: z.coerce.number().int().nonnegative().optional().describe('items with seq > since, oldest first'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

function filterOf(q: {
  tab?: string;
  category?: string;
  tag?: string[];
  severity?: InboxFilter['severity'];
}): FilterRef | undefined {
  if (q.tab !== undefined) {
    if (q.category !== undefined || q.tag !== undefined || q.severity !== undefined)
      throw new HeraldError('invalid_filter', 'tab is a filter of its own: give it alone', 400);
    return { tab: q.tab };
  }
  const f: InboxFilter = {};
  if (q.category !== undefined) f.category = q.category;
  if (q.tag?.length) f.tags = q.tag;
  if (q.severity?.length) f.severity = q.severity;
  return Object.keys(f).length ? f : undefined;
}

const changed = z.object({ updated: z.number().int(), counts: inboxCountsSchema });
const errors = { 400: problemSchema, 401: problemSchema, 403: problemSchema, 404: problemSchema };
/** An API key or the admin token, or that user's own token. */
const adminOrUser: Array<Record<string, string[]>> = [{ adminToken: [] }, { userToken: [] }];
const description = 'Bearer: an API key (the scope below), or the user token (HS256 JWT) of this user.';

const snoozeBody = z.intersection(
  selectionSchema,
  z.union([
    z.object({ until: z.iso.datetime({ offset: true }) }),
    z.object({ for: z.string().regex(DURATION_PATTERN, 'a duration like 15m, 2h or 7d') }),
  ]),
);

/** Newest-first pages continue below the seq of the last item; the cursor wraps it. */
const seqKey = z.tuple([z.int().nonnegative()]);
const encodeSeqCursor = (seq: number) => encodeCursor([seq]);
const decodeSeqCursor = (cursor: string): number => decodeCursor(cursor, seqKey)[0];

const CHANGE_ROUTES = ['seen', 'read', 'unread', 'archive', 'unarchive', 'delete'] as const;

function selectionOf(body: Record<string, unknown>): Selection {
  if ('ids' in body) return { ids: body.ids as string[] };
  if ('upToSeq' in body) return { upToSeq: body.upToSeq as number };
  if ('filter' in body) return { filter: body.filter as FilterRef };
  return { all: true };
}

/** A user's inbox over HTTP: the admin token, or that user's own token (never another user's). */
export const inboxRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  const verifyUser = createUserTokenVerifier(ctx.secrets.jwtSecret, ctx.config.HERALD_JWT_MAX_TTL);
  const inbox = ctx.services.inbox;

  function authorize(req: FastifyRequest, userId: string): void {
    const token = bearerToken(req);
    if (authorizeKey(req)) return;
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
  // Reading takes a `read` key; changing a user's items, an admin key (or the user's own token).
  const userRoute = { config: { auth: 'user-or-admin' as const }, onRequest: guard };
  const userReadRoute = {
    config: { auth: 'user-or-admin' as const, scope: 'read' as const },
    onRequest: guard,
  };
  const deps = (req: FastifyRequest) => ({ inbox, bus: ctx.services.imBus, log: req.log });

  app.get(
    '/users/:userId/inbox',
    {
      ...userReadRoute,
      schema: {
        tags: ['inbox'],
        security: adminOrUser,
        description: `${description} Newest first; with since, the items after it oldest first.`,
        params,
        querystring: listQuery,
        response: {
          200: z.object({
            items: z.array(inboxItemSchema),
            counts: inboxCountsSchema,
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
      const page = await inbox.listItems(userId, {
        status: q.unread === 'true' ? 'unread' : q.status,
        filter: filterOf(q),
        afterSeq: q.since,
        beforeSeq: q.cursor !== undefined && q.since === undefined ? decodeSeqCursor(q.cursor) : undefined,
        limit: q.limit,
      });
      const last = page.items.at(-1);
      // With `since` the client pages on with the last seq it got; the cursor is for newest-first.
      const nextCursor = page.more && last && q.since === undefined ? encodeSeqCursor(last.seq) : null;
      const counts = await inbox.counts(userId);
      return { items: page.items.map(toItemView), counts, unread: counts.unread, nextCursor };
    },
  );

  app.get(
    '/users/:userId/inbox/counts',
    {
      ...userReadRoute,
      schema: {
        tags: ['inbox'],
        security: adminOrUser,
        description: `${description} With a filter, also counts it from the items.`,
        params,
        querystring: z.object(filterQuery),
        response: {
          200: z.object({
            counts: inboxCountsSchema,
            filtered: z
              .object({ total: z.number().int(), unread: z.number().int(), unseen: z.number().int() })
              .optional(),
          }),
          ...errors,
        },
      },
    },
    async (req) => {
      const filter = filterOf(req.query);
      const counts = await inbox.counts(req.params.userId);
      return filter ? { counts, filtered: await inbox.countFilter(req.params.userId, filter) } : { counts };
    },
  );

  app.get(
    '/users/:userId/inbox/unread-count',
    {
      ...userReadRoute,
      schema: {
        tags: ['inbox'],
        security: adminOrUser,
        description,
        params,
        response: { 200: z.object({ unread: z.number().int(), version: z.number().int() }), ...errors },
      },
    },
    async (req) => {
      const counts = await inbox.counts(req.params.userId);
      return { unread: counts.unread, version: counts.version };
    },
  );

  for (const kind of CHANGE_ROUTES)
    app.post(
      `/users/:userId/inbox/${kind}`,
      {
        ...userRoute,
        schema: {
          tags: ['inbox'],
          security: adminOrUser,
          description: `${description} Marks the selected items ${kind}; every socket of the user is told.`,
          params,
          body: selectionSchema,
          response: { 200: changed, ...errors },
        },
      },
      async (req) => {
        const change: InboxChange = { kind };
        const r = await changeAndAnnounce(deps(req), req.params.userId, change, selectionOf(req.body));
        return { updated: r.ids.length, counts: r.counts };
      },
    );

  app.post(
    '/users/:userId/inbox/snooze',
    {
      ...userRoute,
      schema: {
        tags: ['inbox'],
        security: adminOrUser,
        description: `${description} Hides the items until a time; then they return unread and are pushed.`,
        params,
        body: snoozeBody,
        response: { 200: changed, ...errors },
      },
    },
    async (req) => {
      const body = req.body as Record<string, unknown>;
      const until =
        typeof body.until === 'string'
          ? new Date(body.until)
          : new Date(Date.now() + parseDuration(body.for as string));
      const r = await changeAndAnnounce(
        deps(req),
        req.params.userId,
        { kind: 'snooze', until },
        selectionOf(body),
      );
      return { updated: r.ids.length, counts: r.counts };
    },
  );

  app.post(
    '/users/:userId/inbox/items/:id/action',
    {
      ...userRoute,
      schema: {
        tags: ['inbox'],
        security: adminOrUser,
        description: `${description} Records the action on the item and its delivery (once) and writes its event.`,
        params: params.extend({ id: uuidSchema }),
        body: z.object({ action: z.enum(ACTION_SLOTS) }).strict(),
        response: { 200: changed.extend({ action: z.string().nullable() }), ...errors, 422: problemSchema },
      },
    },
    async (req) => {
      const r = await actAndAnnounce(deps(req), req.params.userId, req.params.id, req.body.action);
      if (r) return { updated: 1, counts: r.counts, action: r.action ?? null };
      return { updated: 0, counts: await inbox.counts(req.params.userId), action: null };
    },
  );
};
