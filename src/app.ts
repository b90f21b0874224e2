import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { AppContext } from './appContext';
import { bearerToken } from './http/adminAuth';
import { registerCors } from './http/cors';
import { registerFailedAuthLimit } from './http/failedAuthLimit';
import { createAdminRefusal } from './http/adminRefusal';
import { describeDocument, describeRoute } from './http/openapiDocument';
import { registerProblemHandler } from './http/problemHandler';
import { registerNulRefusal } from './http/refuseNul';
import { trustProxyOption } from './http/trustProxy';
import { opsRoutes } from './api/ops';
import { v1Routes } from './api/v1';
import { consoleRoute } from './web/consoleRoute';
import { unsubscribeRoutes } from './web/unsubscribeRoutes';

export type App = FastifyInstance;

/** Builds the HTTP app around an already-started context. Never listens: see server.ts. */
export async function buildApp(
  ctx: AppContext,
  opts: { logger?: FastifyServerOptions['logger']; loggerInstance?: FastifyBaseLogger } = {},
): Promise<App> {
  const app = Fastify({
    ...(opts.loggerInstance ? { loggerInstance: opts.loggerInstance } : { logger: opts.logger ?? false }),
    requestIdHeader: 'x-request-id',
    // Which proxies may say who the client is (X-Forwarded-For): none unless HERALD_TRUST_PROXY says so.
    trustProxy: trustProxyOption(ctx.config.HERALD_TRUST_PROXY),
    genReqId: () => randomUUID(),
    bodyLimit: 2 * 1024 * 1024,
    // Fastify's default (100) answers 414 to a 101..128-character user id; ids may also be percent-encoded.
    routerOptions: { maxParamLength: 2048 },
    // Envelopes carry up to 1000 recipients; keep JSON parsing safe against prototype poisoning.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerProblemHandler(app, {
    prefix: '/v1/',
    allows: async (req) => (await ctx.authenticate(bearerToken(req))) !== undefined,
    refusal: createAdminRefusal(ctx),
  });
  registerNulRefusal(app);
  registerCors(app, ctx.config.HERALD_CORS_ORIGINS);
  await registerFailedAuthLimit(app, ctx, '/v1/');

  // A route exists only where its role runs: the admin API, its docs, the console and the unsubscribe page
  // with `api`, the socket route, inbox kit and demo page with `gateway`; every role serves /health,
  // /ready and /metrics.
  if (ctx.config.HERALD_ROLES.includes('api')) {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Herald',
          version: '1',
          description:
            'Message center: templates, channel accounts, messages, deliveries, inbox, dead letters.',
        },
        components: {
          securitySchemes: {
            adminToken: {
              type: 'http',
              scheme: 'bearer',
              description:
                'An API key (hk_…, POST /v1/keys) with the scope the operation names, or one of HERALD_ADMIN_TOKENS (admin).',
            },
            userToken: {
              type: 'http',
              scheme: 'bearer',
              bearerFormat: 'JWT',
              description: "A user's HS256 JWT (sub = user id, exp): the WebSocket and that user's inbox.",
            },
          },
        },
        security: [{ adminToken: [] }],
      },
      transform: describeRoute,
      // Schemas registered with .meta({ id }) become components the paths refer to.
      transformObject: describeDocument,
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });
  }

  await app.register(opsRoutes, { ctx });
  if (ctx.config.HERALD_ROLES.includes('api')) {
    await app.register(v1Routes, { ctx, prefix: '/v1' });
    await app.register(consoleRoute, { ctx });
    await app.register(unsubscribeRoutes, { ctx });
  }
  for (const route of ctx.gatewayRoutes) await app.register(route, { ctx });
  await app.ready();
  return app;
}
