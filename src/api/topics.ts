import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AppContext } from '../appContext';
import { auditTrail } from './auditTrail';
import { pageQuery } from '../contract/deliveryViews';
import {
  topicInputSchema,
  topicKeyParams,
  topicListSchema,
  topicMemberListSchema,
  topicMembersChangedSchema,
  topicMembersChangeSchema,
  topicSchema,
} from '../contract/topic';
import { problemSchema } from '../http/problemSchema';
import {
  addMembers,
  createTopic,
  getTopic,
  listMembers,
  listTopics,
  removeMembers,
} from '../audience/topicStore';
import { BULK_BODY_LIMIT } from './subscribers';

const tags = ['topics'];

/** Topics: named groups of subscribers an envelope can send to (`"to": { "topic": "ops-oncall" }`). */
export const topicRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  const sql = ctx.db.sql;
  const audit = auditTrail(ctx);

  app.post(
    '/topics',
    {
      schema: {
        tags,
        summary: 'Create a topic',
        body: topicInputSchema,
        response: { 201: topicSchema, 400: problemSchema, 409: problemSchema },
      },
    },
    async (req, reply) => {
      const topic = await audit.sqlChange(
        req,
        (tx) => createTopic(tx, req.body),
        (after) => ({ action: 'topic.create', target: { type: 'topic', id: req.body.key }, after }),
      );
      return reply.status(201).send(topic);
    },
  );

  app.get(
    '/topics',
    {
      schema: {
        tags,
        summary: 'Topics by key, each with its member count',
        querystring: pageQuery,
        response: { 200: topicListSchema, 400: problemSchema },
      },
    },
    async (req) => listTopics(sql, req.query),
  );

  app.get(
    '/topics/:key',
    {
      schema: {
        tags,
        summary: 'A topic with its member count',
        params: topicKeyParams,
        response: { 200: topicSchema, 404: problemSchema },
      },
    },
    async (req) => getTopic(sql, req.params.key),
  );

  app.get(
    '/topics/:key/members',
    {
      schema: {
        tags,
        summary: 'Current members by userId',
        params: topicKeyParams,
        querystring: pageQuery,
        response: { 200: topicMemberListSchema, 400: problemSchema, 404: problemSchema },
      },
    },
    async (req) => listMembers(sql, req.params.key, req.query),
  );

  const memberChanges = [
    {
      path: '/topics/:key/members',
      summary: 'Add up to 10,000 members; a message already accepted does not reach them',
      action: 'topic.addMembers',
      change: addMembers,
    },
    {
      path: '/topics/:key/members/remove',
      summary: 'Remove up to 10,000 members; a message already accepted still reaches them',
      action: 'topic.removeMembers',
      change: removeMembers,
    },
  ] as const;
  for (const { path, summary, action, change } of memberChanges)
    app.post(
      path,
      {
        bodyLimit: BULK_BODY_LIMIT,
        schema: {
          tags,
          summary,
          params: topicKeyParams,
          body: topicMembersChangeSchema,
          response: { 200: topicMembersChangedSchema, 400: problemSchema, 404: problemSchema },
        },
      },
      async (req) => {
        const changed = await audit.sqlChange(
          req,
          (tx) => change(tx, req.params.key, req.body.userIds),
          (n) => ({
            action,
            target: { type: 'topic', id: req.params.key },
            detail: { given: req.body.userIds.length, changed: n },
          }),
        );
        return { changed };
      },
    );
};
