import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../appContext';
import { bearerToken } from '../http/adminAuth';
import { createAdminRefusal } from '../http/adminRefusal';
import { channelAccountRoutes } from './channelAccounts';
import { deadLettersRoutes } from './deadLetters';
import { deliveriesRoutes } from './deliveries';
import { inboxRoutes } from './inbox';
import { messagesRoutes } from './messages';
import { templateRoutes } from './templates';

/**
 * Who may call a /v1 route: `admin` (the default) or `user-or-admin` (a user's own inbox routes,
 * which check the user token themselves). Set with `config: { auth: ... }` on the route.
 */
export type RouteAuth = 'admin' | 'user-or-admin';

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth;
  }
}

type V1Module = FastifyPluginAsync<{ ctx: AppContext }>;

/** Route modules of /v1; each file under src/api registers one resource. */
const v1Modules: V1Module[] = [
  templateRoutes,
  channelAccountRoutes,
  messagesRoutes,
  deliveriesRoutes,
  deadLettersRoutes,
  inboxRoutes,
];

export const v1Routes: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  const refusal = createAdminRefusal(ctx);
  app.addHook('onRequest', async (req) => {
    if (req.routeOptions.config.auth === 'user-or-admin') return;
    if (!ctx.isAdmin(bearerToken(req))) throw refusal(req);
  });
  for (const mod of v1Modules) await app.register(mod, { ctx });
};
