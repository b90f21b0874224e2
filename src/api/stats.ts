import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../appContext';
import { backlogFromDatabase } from '../consumer/queueInspector';
import { deliveryRates } from '../delivery/deliveryRates';

const WINDOW_MINUTES = 30;

const statsSchema = z
  .object({
    queues: z
      .array(z.object({ queue: z.string(), messages: z.number(), consumers: z.number() }))
      .describe('RabbitMQ queues (empty in embedded mode, which has no broker)'),
    oldestUnfinishedSeconds: z.number().nullable(),
    deadLetters: z.number().int().describe('dead letters not replayed'),
    windowMinutes: z.number().int(),
    deliveriesPerMinute: z.array(
      z.object({ minute: z.string(), channel: z.string(), status: z.string(), count: z.number().int() }),
    ),
  })
  .meta({ id: 'Stats' });

type MetricJson = { name: string; values: Array<{ value: number; labels: Record<string, string | number> }> };

/** `GET /v1/stats`: what the console's health page charts, as JSON (the /metrics text is for Prometheus). */
export const statsRoutes: FastifyPluginAsyncZod<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.get(
    '/stats',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['ops'],
        summary: `Queue depths and consumers, the backlog, and deliveries per minute over the last ${WINDOW_MINUTES}`,
        response: { 200: statsSchema },
      },
    },
    async () => {
      const wanted = new Set(['herald_queue_messages', 'herald_queue_consumers']);
      // Only the two queue gauges are collected (each reads the broker), not the whole registry.
      const metrics: MetricJson[] = [];
      for (const name of wanted) {
        const m = ctx.metrics.getSingleMetric(name);
        if (m) metrics.push((await m.get()) as unknown as MetricJson);
      }
      const byQueue = new Map<string, { queue: string; messages: number; consumers: number }>();
      for (const m of metrics)
        for (const v of m.values) {
          const queue = String(v.labels.queue);
          const q = byQueue.get(queue) ?? { queue, messages: 0, consumers: 0 };
          if (m.name === 'herald_queue_messages') q.messages = v.value;
          else q.consumers = v.value;
          byQueue.set(queue, q);
        }
      const [backlog, rates] = await Promise.all([
        backlogFromDatabase(ctx.db.sql),
        deliveryRates(ctx.db.sql, WINDOW_MINUTES),
      ]);
      return {
        queues: [...byQueue.values()],
        ...backlog,
        windowMinutes: WINDOW_MINUTES,
        deliveriesPerMinute: rates,
      };
    },
  );
};
