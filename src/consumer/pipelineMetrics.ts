import { Counter, Histogram, Registry } from 'prom-client';

/** Prometheus metrics of the pipeline, on a registry of their own so tests and instances do not collide. */
export function createPipelineMetrics(registry: Registry) {
  return {
    envelopes: new Counter({
      name: 'herald_envelopes_total',
      help: 'Envelopes taken from the queue, by outcome',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    deliveries: new Counter({
      name: 'herald_deliveries_total',
      help: 'Delivery state changes, by channel and status; skips decided before sending, digests and deferrals also by reason (preference, deduplicated, throttled, no_address, digest, quiet_hours, ...)',
      labelNames: ['channel', 'status', 'reason'] as const,
      registers: [registry],
    }),
    attemptSeconds: new Histogram({
      name: 'herald_send_attempt_seconds',
      help: 'Duration of send attempts, by channel and outcome',
      labelNames: ['channel', 'outcome'] as const,
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    retries: new Counter({
      name: 'herald_retries_total',
      help: 'Deliveries scheduled for another attempt',
      labelNames: ['channel'] as const,
      registers: [registry],
    }),
    deadLettered: new Counter({
      name: 'herald_dead_letters_total',
      help: 'Envelopes dead-lettered, by reason code',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    retentionRemoved: new Counter({
      name: 'herald_retention_removed_total',
      help: 'Rows removed by retention (HERALD_RETENTION), by kind: message, inbox_item, purged_record, status_event, webhook_attempt, digest_window, expired_check (throttle windows, dedupe keys)',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
  };
}

export type PipelineMetrics = ReturnType<typeof createPipelineMetrics>;
