import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../appContext';
import { auditTrail } from './auditTrail';
import {
  accountListQuerySchema,
  accountNameSchema,
  accountPageSchema,
  accountViewSchema,
  createAccountBodySchema,
  replaceAccountBodySchema,
} from '../contract/channelAccount';
import { recipientSchema } from '../contract/envelope';
import { HeraldError } from '../errors';
import { problemSchema } from '../http/problemSchema';

const errors = {
  400: problemSchema,
  401: problemSchema,
  404: problemSchema,
  409: problemSchema,
  422: problemSchema,
};
const params = z.object({ name: accountNameSchema });

const testBodySchema = z
  .object({
    to: recipientSchema
      .optional()
      .describe('who the test goes to (an email for SMTP); a group robot posts to its group without one'),
  })
  .strict();
const testResultSchema = z
  .object({
    account: z.string(),
    channel: z.string(),
    outcome: z.enum(['sent', 'deferred', 'retryable', 'permanent', 'skipped']),
    code: z.string().nullable().describe("why it was not sent (the provider's or Herald's code)"),
    message: z.string().nullable(),
    providerId: z.string().nullable(),
    durationMs: z.number().int(),
  })
  .meta({ id: 'ChannelAccountTest' });
const tags = ['channel-accounts'];

/** SMTP accounts and DingTalk robots. Secrets are write-only: no response schema has a field for one. */
export const channelAccountRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  const accounts = ctx.services.accounts;
  const audit = auditTrail(ctx);

  app.post(
    '/channel-accounts',
    { schema: { tags, body: createAccountBodySchema, response: { 201: accountViewSchema, ...errors } } },
    async (req, reply) => {
      const { view } = await accounts.create(
        req.body,
        audit.inTx(req, ({ view: after, secretsChanged }) => ({
          action: 'channelAccount.create',
          target: { type: 'channelAccount', id: after.name },
          after,
          detail: { secretsChanged },
        })),
      );
      return reply.status(201).send(view);
    },
  );

  app.get(
    '/channel-accounts',
    {
      schema: { tags, querystring: accountListQuerySchema, response: { 200: accountPageSchema, ...errors } },
    },
    async (req) => accounts.list(req.query),
  );

  app.get(
    '/channel-accounts/:name',
    { schema: { tags, params, response: { 200: accountViewSchema, ...errors } } },
    async (req) => accounts.get(req.params.name),
  );

  app.put(
    '/channel-accounts/:name',
    {
      schema: {
        tags,
        params,
        body: replaceAccountBodySchema,
        response: { 200: accountViewSchema, ...errors },
      },
    },
    async (req) => {
      const { view } = await accounts.replace(
        req.params.name,
        req.body,
        audit.inTx(req, ({ view: after, before, secretsChanged }) => ({
          action: 'channelAccount.replace',
          target: { type: 'channelAccount', id: after.name },
          before,
          after,
          detail: { secretsChanged },
        })),
      );
      return view;
    },
  );

  app.post(
    '/channel-accounts/:name/test',
    {
      schema: {
        tags,
        summary: 'Send one test message through the account, now, and answer what came of it',
        description:
          "The channel's own sender, egress check and rate budget; no message or delivery is recorded, the audit log keeps the outcome.",
        params,
        body: testBodySchema,
        response: { 200: testResultSchema, ...errors, 503: problemSchema },
      },
    },
    async (req) => {
      if (!ctx.services.testAccount)
        throw new HeraldError('test_unavailable', 'this instance has no senders to test with', 503);
      const result = await ctx.services.testAccount(req.params.name, req.body.to);
      // Whom it went to stays out of the append-only log (erasure cannot reach it), and so does the
      // provider's text, which may quote the address: only what came of it. A send has no transaction to
      // join: its row follows it.
      await audit.after(req, {
        action: 'channelAccount.test',
        target: { type: 'channelAccount', id: req.params.name },
        detail: { outcome: result.outcome, code: result.code },
      });
      return result;
    },
  );

  app.delete(
    '/channel-accounts/:name',
    { schema: { tags, params, response: { 204: z.null().describe('deleted'), ...errors } } },
    async (req, reply) => {
      const before = await accounts.get(req.params.name);
      await accounts.remove(
        req.params.name,
        audit.inTx(req, () => ({
          action: 'channelAccount.delete',
          target: { type: 'channelAccount', id: req.params.name },
          before,
        })),
      );
      return reply.status(204).send(null);
    },
  );
};
