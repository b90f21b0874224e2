import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../appContext';
import { deadLetterView, pageQuery } from '../contract/deliveryViews';
import { HeraldError } from '../errors';
import { problemSchema } from '../http/problemSchema';

const idParams = z.object({ id: z.uuid() });

export const deadLettersRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  const store = () => {
    const s = ctx.services.pipeline?.deadLetters;
    if (!s)
      throw new HeraldError('pipeline_unavailable', 'the pipeline is not running on this instance', 503);
    return s;
  };

  app.get(
    '/dead-letters',
    {
      schema: {
        tags: ['dead-letters'],
        summary: 'Rejected envelopes with their reasons, newest first',
        querystring: pageQuery.extend({
          code: z.string().max(100).optional(),
          messageId: z.string().max(128).optional(),
        }),
        response: {
          200: z.object({ items: z.array(deadLetterView), nextCursor: z.string().nullable() }),
          400: problemSchema,
        },
      },
    },
    async (req) => store().list(req.query),
  );

  app.get(
    '/dead-letters/:id',
    {
      schema: {
        tags: ['dead-letters'],
        params: idParams,
        response: { 200: deadLetterView, 404: problemSchema },
      },
    },
    async (req) => store().get(req.params.id),
  );

  app.post(
    '/dead-letters/:id/replay',
    {
      schema: {
        tags: ['dead-letters'],
        summary: 'Publish the envelope again as it was received (after fixing its template, say)',
        params: idParams,
        response: { 202: deadLetterView, 404: problemSchema },
      },
    },
    async (req, reply) => reply.status(202).send(await store().replay(req.params.id)),
  );

  app.delete(
    '/dead-letters/:id',
    { schema: { tags: ['dead-letters'], params: idParams, response: { 204: z.null(), 404: problemSchema } } },
    async (req, reply) => {
      await store().remove(req.params.id);
      return reply.status(204).send(null);
    },
  );

  app.delete(
    '/dead-letters',
    {
      schema: {
        tags: ['dead-letters'],
        summary: 'Purge every dead letter',
        querystring: z.object({ confirm: z.literal('yes').describe('must be "yes"') }),
        response: { 200: z.object({ purged: z.number().int() }), 400: problemSchema },
      },
    },
    async () => ({ purged: await store().purge() }),
  );
};
