import { trace } from '@opentelemetry/api';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../appContext';
import { auditTrail } from './auditTrail';
import { MESSAGE_STATUSES, messageSummaryView, messageView, pageQuery } from '../contract/deliveryViews';
import { envelopeSchema, routingKeyFor } from '../contract/envelope';
import { ConflictError, HeraldError, NotFoundError } from '../errors';
import { cancelOutcomeView } from '../contract/cancelView';
import { cancelMessage } from '../delivery/cancelMessage';
import { dropEnvelopeJob } from '../scheduler/envelopeJobs';
import { dropQuietHoursJobs } from '../consumer/quietHours';
import { decodeTimeCursor, encodeTimeCursor } from '../http/cursor';
import { problemSchema } from '../http/problemSchema';
import { assertPublishable } from './publishChecks';
import { purgedStatuses } from '../retention/purge';
import { messageTimelineSchema } from '../contract/messageTimeline';
import { messageTimeline } from '../timeline/messageTimeline';
import { publishSpan } from '../tracing/messagingAttributes';
import { inSpan } from '../tracing/spans';
import { contextFromHeaders, traceHeadersOf } from '../tracing/traceContext';

export const messagesRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  const audit = auditTrail(ctx);
  app.post(
    '/messages',
    {
      config: { scope: 'publish' },
      schema: {
        tags: ['messages'],
        summary: 'Publish an envelope; it is dispatched asynchronously',
        description:
          "A W3C `traceparent` header (and `tracestate`) makes the envelope continue the caller's trace.",
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
      const pipeline = ctx.services.pipeline;
      const publisher = pipeline?.publisher;
      if (!pipeline || !publisher)
        throw new HeraldError('publisher_unavailable', 'this instance cannot publish messages', 503);
      await assertPublishable(ctx, req.body);
      const routingKey = routingKeyFor(req.body.template);
      // The caller's traceparent (if any) parents the publish, and the envelope carries the trace on.
      const parent = contextFromHeaders(req.headers);
      const { name, options } = publishSpan(pipeline.names.exchange, routingKey, req.body.id);
      try {
        await inSpan(
          name,
          options,
          (span) =>
            publisher.publish(
              routingKey,
              Buffer.from(JSON.stringify(req.body)),
              req.body.id,
              traceHeadersOf(trace.setSpan(parent, span)),
            ),
          parent,
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
    '/messages',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['messages'],
        summary:
          'Messages by status: scheduled ones in the order they are due (sendAt, then id), others newest first',
        querystring: pageQuery.extend({
          status: z.enum(MESSAGE_STATUSES).optional(),
          template: z.string().max(100).optional(),
        }),
        response: {
          200: z.object({ items: z.array(messageSummaryView), nextCursor: z.string().nullable() }),
          400: problemSchema,
        },
      },
    },
    async (req) => {
      const q = req.query;
      const after = q.cursor ? decodeTimeCursor(q.cursor) : undefined;
      // A scheduled message always has its sendAt; the list walks (sendAt, id) upward on its index.
      const byDueTime = q.status === 'scheduled';
      const rows = await ctx.db.prisma.message.findMany({
        where: {
          status: q.status,
          templateCode: q.template,
          ...(after
            ? byDueTime
              ? { OR: [{ sendAt: { gt: after.at } }, { sendAt: after.at, id: { gt: after.id } }] }
              : { OR: [{ createdAt: { lt: after.at } }, { createdAt: after.at, id: { lt: after.id } }] }
            : {}),
        },
        omit: { envelope: true },
        orderBy: byDueTime ? [{ sendAt: 'asc' }, { id: 'asc' }] : [{ createdAt: 'desc' }, { id: 'desc' }],
        take: q.limit + 1,
      });
      const items = rows.slice(0, q.limit);
      const last = items[items.length - 1];
      const lastAt = last && (byDueTime ? last.sendAt : last.createdAt);
      return {
        items,
        nextCursor: rows.length > q.limit && last && lastAt ? encodeTimeCursor(lastAt, last.id) : null,
      };
    },
  );

  app.get(
    '/messages/:id',
    {
      config: { scope: 'read' },
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
      if (!m) {
        const purged = (await purgedStatuses(ctx.db.sql, [req.params.id])).get(req.params.id);
        if (purged)
          throw new HeraldError(
            'message_purged',
            `message "${req.params.id}" finished ${purged.status} on ${purged.finishedAt.toISOString()} and was removed by retention (HERALD_RETENTION); its id is still recognised as a duplicate`,
            404,
          );
        throw new NotFoundError('message', req.params.id);
      }
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

  app.get(
    '/messages/:id/timeline',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['messages'],
        summary: 'Everything that happened to a message, in order: what to open first when "I never got it"',
        params: z.object({ id: z.string().min(1).max(128) }),
        response: { 200: messageTimelineSchema, 404: problemSchema },
      },
    },
    async (req) => {
      const timeline = await messageTimeline(ctx.db.sql, req.params.id);
      if (!timeline) throw new NotFoundError('message', req.params.id);
      return timeline;
    },
  );

  app.post(
    '/messages/:id/cancel',
    {
      config: { scope: 'publish' },
      schema: {
        tags: ['messages'],
        summary:
          'Cancel what of a message has not been sent: its scheduled send, queued, retrying and deferred deliveries',
        params: z.object({ id: z.string().min(1).max(128) }),
        body: z
          .object({ by: z.string().min(1).max(128).optional().describe('who cancels, for the attempt rows') })
          .strict()
          .optional(),
        response: { 200: cancelOutcomeView, 409: problemSchema },
      },
    },
    async (req) => {
      const by = req.body?.by ?? `admin (request ${req.id})`;
      const outcome = await cancelMessage(
        ctx.db.sql,
        req.params.id,
        by,
        (tx) => dropEnvelopeJob(tx, req.params.id),
        audit.inTx(req, (cancelled) => ({
          action: 'message.cancel',
          target: { type: 'message', id: req.params.id },
          detail: { by, ...cancelled },
        })),
        (tx) => dropQuietHoursJobs(tx, req.params.id),
      );
      if (outcome === 'nothingPending')
        throw new ConflictError('nothing_pending', `message "${req.params.id}" has nothing left to cancel`);
      return outcome;
    },
  );
};
