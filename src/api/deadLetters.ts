import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { uuidSchema } from '../identity/uuid';
import type { AppContext } from '../appContext';
import { auditTrail } from './auditTrail';
import { deadLetterView, pageQuery } from '../contract/deliveryViews';
import { HeraldError } from '../errors';
import { problemSchema } from '../http/problemSchema';

const idParams = z.object({ id: uuidSchema });

export const deadLettersRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  const audit = auditTrail(ctx);
  const store = () => {
    const s = ctx.services.pipeline?.deadLetters;
    if (!s)
      throw new HeraldError('pipeline_unavailable', 'the pipeline is not running on this instance', 503);
    return s;
  };

  app.get(
    '/dead-letters',
    {
      config: { scope: 'read' },
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
      config: { scope: 'read' },
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
    async (req, reply) => {
      const replayed = await store().replay(req.params.id);
      // A publish has no transaction to join: its row follows it.
      await audit.after(req, {
        action: 'deadLetter.replay',
        target: { type: 'deadLetter', id: replayed.id },
        detail: { messageId: replayed.messageId, routingKey: replayed.routingKey, code: replayed.code },
      });
      return reply.status(202).send(replayed);
    },
  );

  app.delete(
    '/dead-letters/:id',
    { schema: { tags: ['dead-letters'], params: idParams, response: { 204: z.null(), 404: problemSchema } } },
    async (req, reply) => {
      const gone = await store().get(req.params.id);
      // The envelope itself stays out of the log: it may hold recipients' addresses.
      await store().remove(
        req.params.id,
        audit.inTx(req, () => ({
          action: 'deadLetter.delete',
          target: { type: 'deadLetter', id: gone.id },
          detail: { messageId: gone.messageId, code: gone.code, reason: gone.reason },
        })),
      );
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
    async (req) => {
      const purged = await store().purge(
        audit.inTx(req, (count) => ({
          action: 'deadLetter.purge',
          target: { type: 'deadLetter', id: '*' },
          detail: { purged: count },
        })),
      );
      return { purged };
    },
  );
};
