import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { uuidSchema } from '../identity/uuid';
import { userIdSchema } from '../identity/userId';
import type { AppContext } from '../appContext';
import { auditTrail } from './auditTrail';
import { DELIVERY_STATUSES, deliveryView, pageQuery } from '../contract/deliveryViews';
import { CHANNELS, routingKeyFor } from '../contract/envelope';
import { ConflictError, HeraldError, NotFoundError } from '../errors';
import { decodeTimeCursor, encodeTimeCursor, keysetPage } from '../http/cursor';
import { problemSchema } from '../http/problemSchema';
import { requeueFailed } from '../delivery/deliveryState';

const filters = pageQuery.extend({
  status: z.enum(DELIVERY_STATUSES).optional(),
  channel: z.enum(CHANNELS).optional(),
  template: z.string().max(100).optional(),
  userId: userIdSchema.optional(),
  email: z.string().max(320).optional(),
  messageId: z.string().max(128).optional(),
  from: z.iso.datetime({ offset: true }).optional().describe('created at or after (ISO 8601)'),
  to: z.iso.datetime({ offset: true }).optional().describe('created before (ISO 8601)'),
});

export const deliveriesRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  const audit = auditTrail(ctx);
  const prisma = ctx.db.prisma;

  app.get(
    '/deliveries',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['deliveries'],
        summary: 'Deliveries, newest first, filtered',
        querystring: filters,
        response: {
          200: z.object({ items: z.array(deliveryView), nextCursor: z.string().nullable() }),
          400: problemSchema,
        },
      },
    },
    async (req) => {
      const q = req.query;
      const after = q.cursor ? decodeTimeCursor(q.cursor) : undefined;
      const rows = await prisma.delivery.findMany({
        where: {
          status: q.status,
          channel: q.channel,
          templateCode: q.template,
          userId: q.userId,
          email: q.email,
          messageId: q.messageId,
          createdAt: {
            ...(q.from ? { gte: new Date(q.from) } : {}),
            ...(q.to ? { lt: new Date(q.to) } : {}),
          },
          ...(after
            ? { OR: [{ createdAt: { lt: after.at } }, { createdAt: after.at, id: { lt: after.id } }] }
            : {}),
        },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: q.limit + 1,
      });
      return keysetPage(rows, q.limit, (last) => encodeTimeCursor(last.createdAt, last.id));
    },
  );

  app.post(
    '/deliveries/:id/retry',
    {
      schema: {
        tags: ['deliveries'],
        summary: 'Send a failed delivery again',
        params: z.object({ id: uuidSchema }),
        response: { 202: deliveryView, 404: problemSchema, 409: problemSchema, 503: problemSchema },
      },
    },
    async (req, reply) => {
      const publisher = ctx.services.pipeline?.publisher;
      if (!publisher)
        throw new HeraldError('publisher_unavailable', 'this instance cannot publish messages', 503);
      const result = await requeueFailed(
        ctx.db.sql,
        req.params.id,
        audit.inTx(req, (row) => {
          const d = deliveryView.parse(row);
          return {
            action: 'delivery.retry',
            target: { type: 'delivery', id: d.id },
            detail: { messageId: d.messageId, channel: d.channel },
          };
        }),
      );
      if (result.kind === 'not_found') throw new NotFoundError('delivery', req.params.id);
      if (result.kind === 'not_failed')
        throw new ConflictError(
          'not_failed',
          `only a failed delivery can be retried; this one is ${result.status}`,
        );
      if (result.kind === 'no_envelope')
        throw new ConflictError('no_envelope', 'the envelope of this message was not kept');
      const updated = deliveryView.parse(result.delivery);
      await publisher.publish(
        routingKeyFor(result.templateCode),
        Buffer.from(JSON.stringify(result.envelope)),
        updated.messageId,
      );
      return reply.status(202).send(updated);
    },
  );
};
