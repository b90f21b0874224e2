import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../appContext';
import { listEscalations } from '../consumer/escalationList';
import { pageQuery } from '../contract/deliveryViews';
import { escalationView } from '../contract/followUpViews';
import { ESCALATION_STATES, FALLBACK_STATES } from '../delivery/statuses';
import { decodeTimeCursor, encodeTimeCursor, keysetPage } from '../http/cursor';
import { problemSchema } from '../http/problemSchema';
import { userIdSchema } from '../identity/userId';

export const escalationRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.get(
    '/escalations',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['escalations'],
        summary:
          'Messages whose template escalates or falls back, newest first: the pending checks with when they are due, and what each came to',
        querystring: pageQuery.extend({
          template: z.string().max(100).optional(),
          userId: userIdSchema.optional().describe('messages with a delivery for this user'),
          state: z
            .enum([...ESCALATION_STATES, ...FALLBACK_STATES])
            .optional()
            .describe("the escalation's state or the fallback's"),
        }),
        response: {
          200: z.object({ items: z.array(escalationView), nextCursor: z.string().nullable() }),
          400: problemSchema,
        },
      },
    },
    async (req) => {
      const { cursor, limit, ...filters } = req.query;
      const rows = await listEscalations(ctx.db.sql, {
        ...filters,
        after: cursor ? decodeTimeCursor(cursor) : undefined,
        limit: limit + 1,
      });
      return keysetPage(rows, limit, (last) => encodeTimeCursor(last.createdAt, last.messageId));
    },
  );
};
