import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../appContext';
import { auditTrail } from './auditTrail';
import { apiKeyView, createApiKeyBody, createdApiKeyView } from '../contract/apiKey';
import { pageQuery } from '../contract/deliveryViews';
import { decodeTimeCursor, encodeTimeCursor, keysetPage } from '../http/cursor';
import { problemSchema } from '../http/problemSchema';

const tags = ['keys'];
const errors = { 400: problemSchema, 401: problemSchema, 403: problemSchema };

/** Scoped API keys (admin only, the default scope): created, listed without the key, revoked. */
export const apiKeyRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  const keys = ctx.services.apiKeys;
  const audit = auditTrail(ctx);

  app.post(
    '/keys',
    {
      schema: {
        tags,
        summary: 'Create an API key; the answer is the only time the key is shown',
        body: createApiKeyBody,
        response: { 201: createdApiKeyView, ...errors },
      },
    },
    async (req, reply) => {
      const { key, view } = await keys.create(
        req.body,
        audit.inTx(req, (after) => ({
          action: 'apiKey.create',
          target: { type: 'apiKey', id: after.id },
          after,
        })),
      );
      return reply
        .status(201)
        .header('cache-control', 'no-store')
        .send({ ...view, key });
    },
  );

  app.get(
    '/keys',
    {
      schema: {
        tags,
        summary: 'API keys, newest first, revoked ones included; never the keys themselves',
        querystring: pageQuery,
        response: {
          200: z.object({ items: z.array(apiKeyView), nextCursor: z.string().nullable() }),
          ...errors,
        },
      },
    },
    async (req) => {
      const { limit, cursor } = req.query;
      const rows = await keys.list({
        limit: limit + 1,
        after: cursor ? decodeTimeCursor(cursor) : undefined,
      });
      return keysetPage(rows, limit, (last) => encodeTimeCursor(last.createdAt, last.id));
    },
  );

  app.delete(
    '/keys/:id',
    {
      schema: {
        tags,
        summary: 'Revoke an API key, at once on every instance; revoking a revoked key changes nothing',
        params: z.object({ id: z.uuid() }),
        response: { 200: apiKeyView, 404: problemSchema, ...errors },
      },
    },
    async (req) => {
      const { view } = await keys.revoke(
        req.params.id,
        audit.inTx(req, (after) => ({
          action: 'apiKey.revoke',
          target: { type: 'apiKey', id: after.id },
          after,
        })),
      );
      return view;
    },
  );
};
