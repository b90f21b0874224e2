import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../appContext';
import { auditEventView, auditQuery } from '../contract/auditEvent';
import { decodeTimeCursor, encodeTimeCursor, keysetPage } from '../http/cursor';
import { problemSchema } from '../http/problemSchema';

/** The audit log, newest first (admin only, the default scope). There is no route that changes it. */
export const auditRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.get(
    '/audit',
    {
      schema: {
        tags: ['audit'],
        summary: 'Every admin change: who, what, when, on what; filtered by actor, target and time',
        querystring: auditQuery,
        response: {
          200: z.object({ items: z.array(auditEventView), nextCursor: z.string().nullable() }),
          400: problemSchema,
          401: problemSchema,
        },
      },
    },
    async (req) => {
      const q = req.query;
      const rows = await ctx.services.audit.list({
        limit: q.limit + 1,
        after: q.cursor ? decodeTimeCursor(q.cursor) : undefined,
        actorId: q.actor,
        targetType: q.targetType,
        targetId: q.targetId,
        since: q.since ? new Date(q.since) : undefined,
      });
      const { items: page, nextCursor } = keysetPage(rows, q.limit, (last) =>
        encodeTimeCursor(last.at, last.id),
      );
      return {
        items: page.map((r) => ({
          id: r.id,
          at: r.at,
          actor: { id: r.actorId, name: r.actorName },
          action: auditEventView.shape.action.parse(r.action),
          target: { type: auditEventView.shape.target.shape.type.parse(r.targetType), id: r.targetId },
          before: r.before ?? null,
          after: r.after ?? null,
          detail: r.detail ?? null,
          requestId: r.requestId,
        })),
        nextCursor,
      };
    },
  );
};
