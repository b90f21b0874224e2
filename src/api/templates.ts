import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../appContext';
import { auditTrail } from './auditTrail';
import {
  createTemplateSchema,
  draftPreviewRequestSchema,
  draftPreviewResponseSchema,
  previewRequestSchema,
  previewResponseSchema,
  templateCodeSchema,
  templateListQuerySchema,
  templateListSchema,
  templateSchema,
  templateVersionSchema,
  updateTemplateSchema,
} from '../contract/template';
import { problemSchema } from '../http/problemSchema';
import { assertTemplateAccounts, withWarnings } from '../templates/templateAccounts';

const codeParams = z.object({ code: templateCodeSchema });
const versionParams = codeParams.extend({ version: z.coerce.number().int().min(1) });
const versionQuery = z.object({
  version: z.coerce.number().int().min(1).optional().describe('a past version; the current one by default'),
});
const tags = ['templates'];

/** Admin routes for templates; /v1's scope has already checked the admin token. */
export const templateRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  const templates = ctx.services.templates;
  const audit = auditTrail(ctx);

  app.post(
    '/templates',
    {
      schema: {
        tags,
        summary: 'Create a template (version 1)',
        body: createTemplateSchema,
        response: { 201: templateSchema, 409: problemSchema, 422: problemSchema },
      },
    },
    async (req, reply) => {
      await assertTemplateAccounts(ctx.services.accounts, req.body);
      const created = await templates.create(
        req.body,
        audit.inTx(req, (after) => ({
          action: 'template.create',
          target: { type: 'template', id: after.code },
          after,
        })),
      );
      return reply.status(201).send(withWarnings(created));
    },
  );

  app.get(
    '/templates',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: 'List templates, newest first',
        querystring: templateListQuerySchema,
        response: { 200: templateListSchema, 400: problemSchema },
      },
    },
    async (req) => templates.list(req.query),
  );

  app.get(
    '/templates/:code',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: 'A template with its current version (or ?version=N)',
        params: codeParams,
        querystring: versionQuery,
        response: { 200: templateSchema, 404: problemSchema },
      },
    },
    async (req) => withWarnings(await templates.get(req.params.code, req.query.version)),
  );

  app.put(
    '/templates/:code',
    {
      schema: {
        tags,
        summary: 'Write a new version and make it current; restores an archived template',
        params: codeParams,
        body: updateTemplateSchema,
        response: { 200: templateSchema, 404: problemSchema, 422: problemSchema },
      },
    },
    async (req) => {
      await assertTemplateAccounts(ctx.services.accounts, req.body);
      const before = await templates.get(req.params.code);
      const after = await templates.update(
        req.params.code,
        req.body,
        audit.inTx(req, (view) => ({
          action: 'template.update',
          target: { type: 'template', id: view.code },
          before,
          after: view,
        })),
      );
      return withWarnings(after);
    },
  );

  app.delete(
    '/templates/:code',
    {
      schema: {
        tags,
        summary: 'Archive a template: dispatch stops using it, its versions stay readable',
        params: codeParams,
        response: { 200: templateSchema, 404: problemSchema },
      },
    },
    async (req) => {
      const before = await templates.get(req.params.code);
      return templates.archive(
        req.params.code,
        audit.inTx(req, (after) => ({
          action: 'template.archive',
          target: { type: 'template', id: after.code },
          before,
          after,
        })),
      );
    },
  );

  app.get(
    '/templates/:code/versions',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: 'Every version, newest first',
        params: codeParams,
        response: { 200: z.object({ items: z.array(templateVersionSchema) }), 404: problemSchema },
      },
    },
    async (req) => ({ items: await templates.versions(req.params.code) }),
  );

  app.get(
    '/templates/:code/versions/:version',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: 'A template with the content of one version',
        params: versionParams,
        response: { 200: templateSchema, 404: problemSchema },
      },
    },
    async (req) => templates.get(req.params.code, req.params.version),
  );

  app.post(
    '/templates/preview',
    {
      schema: {
        tags,
        summary: 'Check and render unsaved content with sample data, listing every problem at its place',
        body: draftPreviewRequestSchema,
        response: { 200: draftPreviewResponseSchema },
      },
    },
    async (req) => templates.previewDraft(req.body),
  );

  app.post(
    '/templates/:code/preview',
    {
      config: { scope: 'read' },
      schema: {
        tags,
        summary: 'Render every channel with sample data, or name each variable that does not fit',
        params: codeParams,
        querystring: versionQuery,
        body: previewRequestSchema,
        response: { 200: previewResponseSchema, 404: problemSchema, 422: problemSchema },
      },
    },
    async (req) => templates.preview(req.params.code, req.body, req.query.version),
  );
};
