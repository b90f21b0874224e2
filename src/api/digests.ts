import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../appContext';
import { collectedDeliveries, findDigest, listDigests } from '../consumer/digestList';
import { pageQuery } from '../contract/deliveryViews';
import { CHANNELS } from '../contract/envelope';
import { digestDetailView, digestView } from '../contract/followUpViews';
import { DIGEST_STATES } from '../delivery/statuses';
import { NotFoundError } from '../errors';
import { decodeTimeCursor, encodeTimeCursor, keysetPage } from '../http/cursor';
import { problemSchema } from '../http/problemSchema';
import { userIdSchema } from '../identity/userId';

export const digestRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.get(
    '/digests',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['digests'],
        summary: 'Digest windows, newest first: open ones collecting, and what each flushed one sent',
        querystring: pageQuery.extend({
          template: z.string().max(100).optional(),
          userId: userIdSchema
            .optional()
            .describe("the user's own digests, and group posts that mention them"),
          channel: z.enum(CHANNELS).optional(),
          state: z.enum(DIGEST_STATES).optional(),
        }),
        response: {
          200: z.object({ items: z.array(digestView), nextCursor: z.string().nullable() }),
          400: problemSchema,
        },
      },
    },
    async (req) => {
      const { cursor, limit, ...filters } = req.query;
      const rows = await listDigests(ctx.db.sql, {
        ...filters,
        after: cursor ? decodeTimeCursor(cursor) : undefined,
        limit: limit + 1,
      });
      return keysetPage(rows, limit, (last) => encodeTimeCursor(last.createdAt, last.id));
    },
  );

  app.get(
    '/digests/:id',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['digests'],
        summary: 'One digest window with the deliveries it collected',
        params: z.object({ id: z.string().min(1).max(128) }),
        response: { 200: digestDetailView, 404: problemSchema },
      },
    },
    async (req) => {
      const digest = await findDigest(ctx.db.sql, req.params.id);
      if (!digest) throw new NotFoundError('digest', req.params.id);
      return { ...digest, collected: await collectedDeliveries(ctx.db.sql, digest.id) };
    },
  );
};
