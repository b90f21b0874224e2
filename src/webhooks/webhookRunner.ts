import type { FastifyBaseLogger } from 'fastify';
import { Counter, Gauge, type Registry } from 'prom-client';
import { createSecretBox } from '../accounts/secretBox';
import type { Database } from '../db/database';
import { createScheduler } from '../scheduler/scheduler';
import type { EgressGuard } from '../senders/egress';
import { createWebhookJobHandler, type WebhookDeliveryOptions } from './webhookDelivery';
import { scheduleEndpoint, STATUS_WEBHOOK_JOB } from './webhookJobs';

export interface StatusWebhookRunnerOptions extends Pick<
  WebhookDeliveryOptions,
  'retryDelays' | 'maxFailures' | 'timeoutMs' | 'pollMs' | 'batch'
> {
  db: Database;
  log: FastifyBaseLogger;
  secretKey: Buffer;
  previousSecretKeys?: readonly Buffer[];
  egress: EgressGuard;
  metrics?: Registry;
  /** Endpoints served at once by this instance. */
  concurrency?: number;
}

/**
 * Delivers status webhooks on a scheduler of its own (its own claims and concurrency, beside dispatch's),
 * so slow or failing business endpoints never take a slot an envelope needs.
 */
export async function startStatusWebhooks(
  opts: StatusWebhookRunnerOptions,
): Promise<{ stop(): Promise<void> }> {
  const { db, log } = opts;
  const attempts = opts.metrics
    ? new Counter({
        name: 'herald_status_webhook_attempts_total',
        help: 'Status-webhook requests, by outcome (delivered: a 2xx answer)',
        labelNames: ['outcome'] as const,
        registers: [opts.metrics],
      })
    : undefined;
  const scheduler = createScheduler({ db, log, concurrency: opts.concurrency ?? 8, pollMs: opts.pollMs });
  scheduler.register(
    STATUS_WEBHOOK_JOB,
    createWebhookJobHandler({
      ...opts,
      sql: db.sql,
      secretBox: createSecretBox(opts.secretKey, opts.previousSecretKeys),
      onAttempt: (outcome) => attempts?.inc({ outcome }),
    }),
  );
  // Endpoints enabled before this version kept no loop row: give each one (existing rows stay as they are).
  const enabled = await db.sql.query<{ id: string }>(`SELECT id FROM "StatusWebhook" WHERE enabled`);
  await scheduleEndpoint(
    db.sql,
    db.schema,
    enabled.rows.map((r) => r.id),
    { now: false },
  );
  await scheduler.start();
  return { stop: () => scheduler.stop() };
}

/**
 * Endpoints by state, read when Prometheus scrapes (on every instance): `enabled`, `paused` (through the
 * API) and `disabled` (by failures in a row; the reason is on the endpoint).
 */
export function registerWebhookGauges(registry: Registry, db: Pick<Database, 'sql'>): void {
  new Gauge({
    name: 'herald_status_webhooks',
    help: 'Status-webhook endpoints by state: enabled, paused (through the API), disabled (by failures)',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      const { rows } = await db.sql.query<{ state: string; n: number }>(
        `SELECT CASE WHEN enabled THEN 'enabled' WHEN "consecutiveFailures" > 0 THEN 'disabled' ELSE 'paused' END AS state,
                count(*)::int AS n
           FROM "StatusWebhook" GROUP BY 1`,
      );
      for (const state of ['enabled', 'paused', 'disabled'])
        this.set({ state }, rows.find((r) => r.state === state)?.n ?? 0);
    },
  });
}
