import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../appContext';
import { auditTrail } from './auditTrail';
import {
  bulkSubscribersSchema,
  preferencesSchema,
  subscriberInputSchema,
  subscriberListQuerySchema,
  subscriberListSchema,
  subscriberSchema,
} from '../contract/subscriber';
import { suppressionSchema } from '../contract/suppression';
import { userIdSchema } from '../identity/userId';
import { problemSchema } from '../http/problemSchema';
import { eraseSubscriber, exportSubscriber } from '../audience/subscriberPrivacy';
import {
  getSubscriber,
  listSubscribers,
  readPreferences,
  toView,
  upsertSubscribers,
  writePreferences,
} from '../audience/subscriberStore';

const params = z.object({ userId: userIdSchema });
const tags = ['subscribers'];

/** A bulk upsert of 10,000 subscribers is several MiB of JSON: its own limit, above the default 2 MiB. */
export const BULK_BODY_LIMIT = 32 * 1024 * 1024;

const erasureSchema = z
  .object({
    userId: z.string(),
    subscriber: z.boolean().describe('whether the directory held an entry'),
    memberships: z.number().int(),
    inboxItems: z.number().int(),
    messages: z.number().int().describe('kept envelopes whose recipient entry was replaced by the marker'),
    deliveries: z.number().int().describe('deliveries kept with user id and address replaced by "[erased]"'),
    attempts: z.number().int().describe('attempt rows whose text quoted the person, now with the marker'),
    suppressions: z
      .number()
      .int()
      .describe(
        'suppression entries of their addresses, kept (still honoured) by a keyed hash of the address alone',
      ),
  })
  .meta({ id: 'SubscriberErasure' });

const exportSchema = z
  .object({
    userId: z.string(),
    exportedAt: z.iso.datetime(),
    subscriber: subscriberSchema.nullable(),
    topics: z.array(z.object({ topic: z.string(), addedAt: z.string(), removedAt: z.string().nullable() })),
    inbox: z.array(z.record(z.string(), z.unknown())),
    deliveries: z.array(z.record(z.string(), z.unknown())),
    suppression: suppressionSchema
      .nullable()
      .describe(
        'their stored address on the suppression list (kept on erasure by a keyed hash alone, so an unsubscribe holds)',
      ),
  })
  .meta({ id: 'SubscriberExport' });

/** The subscriber directory (admin). */
export const subscriberRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  const sql = ctx.db.sql;
  const audit = auditTrail(ctx);
  // A person's addresses and data never go into the append-only log, which erasure cannot reach: only
  // who was changed and which fields were given.
  const given = (body: object) => ({ fields: Object.keys(body).sort() });

  app.put(
    '/subscribers/:userId',
    {
      schema: {
        tags,
        summary: 'Create or replace a subscriber (addresses, name, locale, timezone, quiet hours, data)',
        description:
          'Preferences are kept: they are the person’s own (PUT /v1/subscribers/:userId/preferences).',
        params,
        body: subscriberInputSchema,
        response: { 200: subscriberSchema, 400: problemSchema },
      },
    },
    async (req) => {
      const [row] = await audit.sqlChange(
        req,
        (tx) => upsertSubscribers(tx, [{ ...req.body, userId: req.params.userId }]),
        () => ({
          action: 'subscriber.upsert',
          target: { type: 'subscriber', id: req.params.userId },
          detail: given(req.body),
        }),
      );
      return toView(row as NonNullable<typeof row>);
    },
  );

  app.get(
    '/subscribers/:userId',
    {
      schema: {
        tags,
        summary: 'A subscriber',
        params,
        response: { 200: subscriberSchema, 404: problemSchema },
      },
    },
    async (req) => getSubscriber(sql, req.params.userId),
  );

  app.delete(
    '/subscribers/:userId',
    {
      schema: {
        tags,
        summary: 'Erase a person everywhere Herald holds them (directory, topics, inbox, delivery log)',
        params,
        response: { 200: erasureSchema },
      },
    },
    async (req) => {
      return eraseSubscriber(
        sql,
        ctx.services.suppressions,
        req.params.userId,
        audit.inTx(req, (erased) => ({
          action: 'subscriber.erase',
          target: { type: 'subscriber', id: req.params.userId },
          detail: erased,
        })),
      );
    },
  );

  app.get(
    '/subscribers/:userId/export',
    {
      schema: {
        tags,
        summary: 'Everything Herald holds about one person, as JSON (PIPL / GDPR access)',
        params,
        response: { 200: exportSchema },
      },
    },
    async (req) => exportSubscriber(sql, ctx.services.suppressions, req.params.userId),
  );

  app.get(
    '/subscribers',
    {
      schema: {
        tags,
        summary: 'List subscribers by userId; ?email= finds by address',
        querystring: subscriberListQuerySchema,
        response: { 200: subscriberListSchema, 400: problemSchema },
      },
    },
    async (req) => listSubscribers(sql, req.query),
  );

  app.post(
    '/subscribers/bulk',
    {
      bodyLimit: BULK_BODY_LIMIT,
      schema: {
        tags,
        summary: 'Create or replace up to 10,000 subscribers in one call',
        body: bulkSubscribersSchema,
        response: { 200: z.object({ upserted: z.number().int() }), 400: problemSchema },
      },
    },
    async (req) => {
      return audit.sqlChange(
        req,
        async (tx) => ({ upserted: (await upsertSubscribers(tx, req.body.subscribers)).length }),
        (done) => ({
          action: 'subscriber.bulkUpsert',
          target: { type: 'subscriber', id: '*' },
          detail: done,
        }),
      );
    },
  );

  app.get(
    '/subscribers/:userId/preferences',
    {
      schema: {
        tags,
        summary: 'A subscriber’s preferences (all on for a user the directory does not hold)',
        params,
        response: { 200: preferencesSchema },
      },
    },
    async (req) => readPreferences(sql, req.params.userId),
  );

  app.put(
    '/subscribers/:userId/preferences',
    {
      schema: {
        tags,
        summary: 'Replace a subscriber’s preferences',
        params,
        body: preferencesSchema,
        response: { 200: preferencesSchema, 400: problemSchema },
      },
    },
    async (req) => {
      const { after } = await audit.sqlChange(
        req,
        async (tx) => ({
          before: await readPreferences(tx, req.params.userId),
          after: await writePreferences(tx, req.params.userId, req.body),
        }),
        ({ before, after: written }) => ({
          action: 'subscriber.preferences',
          target: { type: 'subscriber', id: req.params.userId },
          before,
          after: written,
        }),
      );
      return after;
    },
  );
};
