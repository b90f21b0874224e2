import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../appContext';
import { bearerToken } from '../http/adminAuth';
import { createAdminRefusal } from '../http/adminRefusal';
import { problemSchema } from '../http/problemSchema';
import { authorizeKey } from '../http/routeAuth';
import { apiKeyRoutes } from './apiKeys';
import { auditRoutes } from './audit';
import { channelAccountRoutes } from './channelAccounts';
import { deadLettersRoutes } from './deadLetters';
import { deliveriesRoutes } from './deliveries';
import { digestRoutes } from './digests';
import { escalationRoutes } from './escalations';
import { inboxRoutes } from './inbox';
import { inboxTabRoutes } from './inboxTabs';
import { messagesRoutes } from './messages';
import { myPreferencesRoutes } from './myPreferences';
import { subscriberRoutes } from './subscribers';
import { statsRoutes } from './stats';
import { suppressionRoutes } from './suppressions';
import { templateRoutes } from './templates';
import { topicRoutes } from './topics';
import { webhookRoutes } from './webhooks';

type V1Module = FastifyPluginAsync<{ ctx: AppContext }>;

/** Route modules of /v1; each file under src/api registers one resource. */
const v1Modules: V1Module[] = [
  templateRoutes,
  channelAccountRoutes,
  messagesRoutes,
  deliveriesRoutes,
  digestRoutes,
  escalationRoutes,
  deadLettersRoutes,
  inboxRoutes,
  subscriberRoutes,
  myPreferencesRoutes,
  topicRoutes,
  suppressionRoutes,
  inboxTabRoutes,
  webhookRoutes,
  statsRoutes,
  apiKeyRoutes,
  auditRoutes,
];

export const v1Routes: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  const refusal = createAdminRefusal(ctx);
  app.decorateRequest('principal', undefined);
  // The document says what each route needs of a key, and that a key without it gets a 403.
  app.addHook('onRoute', (route) => {
    const scope = route.config?.scope ?? 'admin';
    const schema = (route.schema ??= {}) as { description?: string; response?: Record<string, unknown> };
    const needs =
      scope === 'admin'
        ? 'Needs an admin key (or a bootstrap admin token).'
        : `Needs an API key with the \`${scope}\` scope, or an admin key.`;
    // GET and its implied HEAD share one schema object: add the line once.
    if (!schema.description?.includes(needs))
      schema.description = schema.description ? `${schema.description}\n\n${needs}` : needs;
    if (schema.response) schema.response[403] ??= problemSchema;
  });
  app.addHook('onRequest', async (req) => {
    req.principal = await ctx.authenticate(bearerToken(req));
    if (req.routeOptions.config.auth === 'user-or-admin') return;
    if (!req.principal) throw refusal(req);
    authorizeKey(req);
  });
  for (const mod of v1Modules) await app.register(mod, { ctx });
};
