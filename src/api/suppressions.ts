import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../appContext';
import { auditTrail } from './auditTrail';
import {
  suppressionAddressParams,
  suppressionInputSchema,
  suppressionListQuerySchema,
  suppressionListSchema,
  suppressionSchema,
} from '../contract/suppression';
import { NotFoundError } from '../errors';
import { problemSchema } from '../http/problemSchema';

const tags = ['suppressions'];

/**
 * The audit log is append-only and erasure cannot reach it: it records the address's domain and the
 * reason, never the address.
 */
const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1).toLowerCase();

/** The mail suppression list (admin): addresses no mail is sent to, and why. */
export const suppressionRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  const sql = ctx.db.sql;
  const audit = auditTrail(ctx);
  const suppressions = ctx.services.suppressions;

  app.get(
    '/suppressions',
    {
      schema: {
        tags,
        summary: 'Suppressed addresses in address order; ?reason= and ?address= narrow the list',
        querystring: suppressionListQuerySchema,
        response: { 200: suppressionListSchema, 400: problemSchema },
      },
    },
    async (req) => suppressions.list(sql, req.query),
  );

  app.post(
    '/suppressions',
    {
      schema: {
        tags,
        summary: 'Suppress an address (or change why it is suppressed)',
        description:
          'Deliveries to it are `skipped` with reason `suppressed` from the next send on. `unsubscribed` still lets critical templates through; `bounced` and `manual` stop everything.',
        body: suppressionInputSchema,
        response: { 201: suppressionSchema, 400: problemSchema },
      },
    },
    async (req, reply) => {
      const entry = await audit.sqlChange(
        req,
        (tx) => suppressions.suppress(tx, req.body),
        (added) => ({
          action: 'suppression.add',
          target: { type: 'suppression', id: domainOf(req.body.address) },
          detail: { reason: added.reason },
        }),
      );
      return reply.status(201).send(entry);
    },
  );

  app.delete(
    '/suppressions/:address',
    {
      schema: {
        tags,
        summary: 'Send to an address again',
        params: suppressionAddressParams,
        response: { 204: z.null().describe('removed'), 404: problemSchema },
      },
    },
    async (req, reply) => {
      await audit.sqlChange(
        req,
        async (tx) => {
          // Thrown inside the transaction: nothing removed, nothing recorded.
          if (!(await suppressions.unsuppress(tx, req.params.address)))
            throw new NotFoundError('suppression', req.params.address);
        },
        () => ({
          action: 'suppression.remove',
          target: { type: 'suppression', id: domainOf(req.params.address) },
        }),
      );
      return reply.status(204).send(null);
    },
  );
};
