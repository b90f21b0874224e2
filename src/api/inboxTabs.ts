import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../appContext';
import { auditTrail } from './auditTrail';
import { NotFoundError } from '../errors';
import { problemSchema } from '../http/problemSchema';
import { inboxFilterSchema } from '../inbox/inboxFilter';

const params = z.object({
  name: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/)
    .describe('letters, digits and _.- (up to 64)'),
});
const tabSchema = z.object({ name: z.string(), filter: inboxFilterSchema });
const errors = { 400: problemSchema, 401: problemSchema, 404: problemSchema };

/** Declared inbox tabs (admin): a name and a filter whose counts Herald maintains for every user. */
export const inboxTabRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  const inbox = ctx.services.inbox;
  const audit = auditTrail(ctx);
  app.put(
    '/inbox/tabs/:name',
    {
      schema: {
        tags: ['inbox'],
        description: 'Declares a tab, or changes its filter (its counts are then recounted from the items).',
        params,
        body: z.object({ filter: inboxFilterSchema }).strict(),
        response: { 200: tabSchema, ...errors },
      },
    },
    async (req) => {
      const before = (await inbox.listTabs()).find((t) => t.name === req.params.name);
      const tab = await inbox.declareTab(
        req.params.name,
        req.body.filter,
        audit.inTx(req, (declared) => ({
          action: 'inboxTab.replace',
          target: { type: 'inboxTab', id: declared.name },
          before: before && { name: before.name, filter: before.filter },
          after: { name: declared.name, filter: declared.filter },
        })),
      );
      return { name: tab.name, filter: tab.filter };
    },
  );
  app.get(
    '/inbox/tabs',
    { schema: { tags: ['inbox'], response: { 200: z.object({ items: z.array(tabSchema) }), ...errors } } },
    async () => ({ items: (await inbox.listTabs()).map((t) => ({ name: t.name, filter: t.filter })) }),
  );
  app.delete(
    '/inbox/tabs/:name',
    { schema: { tags: ['inbox'], params, response: { 204: z.null(), ...errors } } },
    async (req, reply) => {
      const deleted = await inbox.deleteTab(
        req.params.name,
        audit.inTx(req, () => ({
          action: 'inboxTab.delete',
          target: { type: 'inboxTab', id: req.params.name },
        })),
      );
      if (!deleted) throw new NotFoundError('inbox tab', req.params.name);
      return reply.code(204).send(null);
    },
  );
};
