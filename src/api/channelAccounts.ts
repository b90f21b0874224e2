import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../appContext';
import {
  accountListQuerySchema,
  accountNameSchema,
  accountPageSchema,
  accountViewSchema,
  createAccountBodySchema,
  replaceAccountBodySchema,
} from '../contract/channelAccount';
import { problemSchema } from '../http/problemSchema';

const errors = {
  400: problemSchema,
  401: problemSchema,
  404: problemSchema,
  409: problemSchema,
  422: problemSchema,
};
const params = z.object({ name: accountNameSchema });
const tags = ['channel-accounts'];

/** SMTP accounts and DingTalk robots. Secrets are write-only: no response schema has a field for one. */
export const channelAccountRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  const accounts = ctx.services.accounts;

  app.post(
    '/channel-accounts',
    { schema: { tags, body: createAccountBodySchema, response: { 201: accountViewSchema, ...errors } } },
    async (req, reply) => reply.status(201).send(await accounts.create(req.body)),
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
    async (req) => accounts.replace(req.params.name, req.body),
  );

  app.delete(
    '/channel-accounts/:name',
    { schema: { tags, params, response: { 204: z.null().describe('deleted'), ...errors } } },
    async (req, reply) => {
      await accounts.remove(req.params.name);
      return reply.status(204).send(null);
    },
  );
};
