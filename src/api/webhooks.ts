import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../appContext';
import {
  createWebhookBodySchema,
  replaceWebhookBodySchema,
  webhookAttemptPageSchema,
  webhookAttemptQuerySchema,
  webhookIdSchema,
  webhookListSchema,
  webhookViewSchema,
} from '../contract/statusWebhook';
import { problemSchema } from '../http/problemSchema';
import { auditTrail } from './auditTrail';

const errors = { 400: problemSchema, 401: problemSchema, 404: problemSchema };
const params = z.object({ id: webhookIdSchema });
const tags = ['webhooks'];

/** Status webhooks: business endpoints that receive signed status events. The secret is write-only. */
export const webhookRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  const hooks = ctx.services.webhooks;
  const audit = auditTrail(ctx);
  const target = (id: string) => ({ type: 'statusWebhook' as const, id });

  app.post(
    '/webhooks',
    { schema: { tags, body: createWebhookBodySchema, response: { 201: webhookViewSchema, ...errors } } },
    async (req, reply) => {
      const view = await hooks.create(
        req.body,
        audit.inTx(req, (after) => ({ action: 'statusWebhook.create', target: target(after.id), after })),
      );
      return reply.status(201).send(view);
    },
  );

  app.get('/webhooks', { schema: { tags, response: { 200: webhookListSchema, ...errors } } }, async () =>
    hooks.list(),
  );

  app.get(
    '/webhooks/:id',
    { schema: { tags, params, response: { 200: webhookViewSchema, ...errors } } },
    async (req) => hooks.get(req.params.id),
  );

  app.put(
    '/webhooks/:id',
    {
      schema: {
        tags,
        params,
        body: replaceWebhookBodySchema,
        response: { 200: webhookViewSchema, ...errors },
      },
    },
    async (req) => {
      const before = await hooks.get(req.params.id);
      return hooks.replace(
        req.params.id,
        req.body,
        audit.inTx(req, (after) => ({
          action: 'statusWebhook.replace',
          target: target(after.id),
          before,
          after,
          detail: { secretChanged: req.body.secret !== undefined },
        })),
      );
    },
  );

  app.delete(
    '/webhooks/:id',
    { schema: { tags, params, response: { 204: z.null().describe('deleted'), ...errors } } },
    async (req, reply) => {
      const before = await hooks.get(req.params.id);
      await hooks.remove(
        req.params.id,
        audit.inTx(req, () => ({ action: 'statusWebhook.delete', target: target(req.params.id), before })),
      );
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/webhooks/:id/attempts',
    {
      schema: {
        tags,
        params,
        querystring: webhookAttemptQuerySchema,
        response: { 200: webhookAttemptPageSchema, ...errors },
      },
    },
    async (req) => hooks.attempts(req.params.id, req.query),
  );
};
