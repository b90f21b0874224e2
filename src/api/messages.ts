import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../appContext';
import { messageView } from '../contract/deliveryViews';
import { envelopeSchema, routingKeyFor } from '../contract/envelope';
import { ConflictError, HeraldError, NotFoundError } from '../errors';
import { cancelOutcomeView } from '../contract/cancelView';
import { cancelMessage } from '../delivery/cancelMessage';
import { dropEnvelopeJob } from '../scheduler/envelopeJobs';
import { problemSchema } from '../http/problemSchema';
import { assertPublishable } from './publishChecks';

export const messagesRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.post(
    '/messages',
    {
      schema: {
        tags: ['messages'],
        summary: 'Publish an envelope; it is dispatched asynchronously',
        body: envelopeSchema,
        response: {
          202: z.object({ id: z.string() }),
          400: problemSchema,
          422: problemSchema,
          503: problemSchema,
        },
      },
    },
    async (req, reply) => {
      const publisher = ctx.services.pipeline?.publisher;
      if (!publisher)
        throw new HeraldError('publisher_unavailable', 'this instance cannot publish messages', 503);
      await assertPublishable(ctx, req.body);
      try {
        await publisher.publish(
          routingKeyFor(req.body.template),
          Buffer.from(JSON.stringify(req.body)),
          req.body.id,
        );
      } catch (err) {
        req.log.warn({ err: (err as Error).message }, 'publish failed');
        throw new HeraldError(
          'broker_unavailable',
          'the message could not be handed to the broker; try again',
          503,
        );
      }
      return reply.status(202).send({ id: req.body.id });
    },
  );

  app.get(
    '/messages/:id',
    {
      schema: {
        tags: ['messages'],
        summary: 'A message with its deliveries and their attempts',
        params: z.object({ id: z.string().min(1).max(128) }),
        response: { 200: messageView, 404: problemSchema },
      },
    },
    async (req) => {
      const m = await ctx.db.prisma.message.findUnique({
        where: { id: req.params.id },
        include: {
          deliveries: {
            orderBy: [{ channel: 'asc' }, { recipientIndex: 'asc' }],
            include: { attemptLog: { orderBy: { id: 'asc' } } },
          },
        },
      });
      if (!m) throw new NotFoundError('message', req.params.id);
      const { envelope: _envelope, ...rest } = m;
      return {
        ...rest,
        deliveries: m.deliveries.map((d) => ({
          ...d,
          attemptLog: d.attemptLog.map((a) => ({ ...a, id: a.id.toString() })),
        })),
      };
    },
  );

  app.post(
    '/messages/:id/cancel',
    {
      schema: {
        tags: ['messages'],
        summary:
          'Cancel what of a message has not been sent: its scheduled send, queued and retrying deliveries',
        params: z.object({ id: z.string().min(1).max(128) }),
        body: z
          .object({ by: z.string().min(1).max(128).optional().describe('who cancels, for the attempt rows') })
          .strict()
          .optional(),
        response: { 200: cancelOutcomeView, 404: problemSchema, 409: problemSchema },
      },
    },
    async (req) => {
      const by = req.body?.by ?? `admin (request ${req.id})`;
      const outcome = await cancelMessage(ctx.db.sql, req.params.id, by, (tx) =>
        dropEnvelopeJob(tx, req.params.id),
      );
      if (!outcome) throw new NotFoundError('message', req.params.id);
      if (outcome === 'nothingPending')
        throw new ConflictError('nothing_pending', `message "${req.params.id}" has nothing left to cancel`);
      return outcome;
    },
  );
};
