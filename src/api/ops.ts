import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../appContext';

const readyBody = z.object({
  status: z.enum(['ready', 'not_ready']),
  checks: z.record(z.string(), z.object({ ok: z.boolean(), error: z.string().optional() })),
});

export const opsRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.get(
    '/health',
    { schema: { tags: ['ops'], security: [], response: { 200: z.object({ status: z.literal('ok') }) } } },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/metrics',
    {
      schema: {
        tags: ['ops'],
        security: [],
        summary: 'Prometheus text format',
        response: {
          200: {
            description: 'the metrics, Prometheus text exposition format 0.0.4',
            content: { 'text/plain': { schema: z.string() } },
          },
        },
      },
    },
    async (_req, reply) => reply.type(ctx.metrics.contentType).send(await ctx.metrics.metrics()),
  );

  app.get(
    '/ready',
    { schema: { tags: ['ops'], security: [], response: { 200: readyBody, 503: readyBody } } },
    async (_req, reply) => {
      const entries = await Promise.all(
        Object.entries(ctx.readiness).map(async ([name, check]) => {
          try {
            await withTimeout(check(), 2000);
            return [name, { ok: true }] as const;
          } catch (err) {
            return [name, { ok: false, error: (err as Error).message }] as const;
          }
        }),
      );
      const checks = Object.fromEntries(entries);
      const ready = entries.every(([, c]) => c.ok);
      return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
    },
  );
};

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
