import type { FastifyBaseLogger } from 'fastify';
import type { Counter } from 'prom-client';
import type { TransactionalSqlClient } from '../db/sqlClient';
import type { Scheduler } from '../scheduler/scheduler';
import { DEFAULT_PURGE_LIMITS, purgeBatch, type PurgeLimits } from './purge';

/** The scheduler's job kind of retention; one row (key `retention`) shared by every instance. */
export const RETENTION_JOB = 'retention';

export interface RetentionOptions {
  sql: TransactionalSqlClient;
  scheduler: Scheduler;
  log: FastifyBaseLogger;
  /** HERALD_RETENTION in milliseconds. */
  retentionMs: number;
  removed?: Counter<'kind'>;
  limits?: PurgeLimits;
  /** Pause between batches while there is more to remove: leaves the database to dispatch in between. */
  pauseMs?: number;
  /** How long to wait once nothing is left to remove. */
  idleMs?: number;
  now?: () => number;
}

/**
 * Runs retention as one durable job on the scheduler: whichever consumer instance claims the row runs a
 * batch and puts the row back, due after a short pause while there is more, else after `idleMs`. One row
 * means one instance at a time, and a crashed instance's lease hands the work to another.
 */
export async function startRetention(opts: RetentionOptions): Promise<void> {
  const now = opts.now ?? Date.now;
  const pauseMs = opts.pauseMs ?? 250;
  const idleMs = opts.idleMs ?? 10 * 60_000;
  opts.scheduler.register(RETENTION_JOB, async () => {
    const cutoff = new Date(now() - opts.retentionMs);
    const batch = await purgeBatch(opts.sql, cutoff, opts.limits ?? DEFAULT_PURGE_LIMITS);
    opts.removed?.inc({ kind: 'message' }, batch.messages);
    opts.removed?.inc({ kind: 'inbox_item' }, batch.inboxItems);
    opts.removed?.inc({ kind: 'purged_record' }, batch.purgedRecords);
    opts.removed?.inc({ kind: 'status_event' }, batch.statusEvents);
    opts.removed?.inc({ kind: 'webhook_attempt' }, batch.webhookAttempts);
    opts.removed?.inc({ kind: 'digest_window' }, batch.digestWindows);
    opts.removed?.inc({ kind: 'expired_check' }, batch.expiredChecks);
    const { more, ...removed } = batch;
    if (Object.values(removed).some((n) => n > 0))
      opts.log.debug({ ...removed, more, cutoff }, 'retention: removed a batch');
    return { retryAt: new Date(now() + (batch.more ? pauseMs : idleMs)) };
  });
  await opts.scheduler.schedule({
    kind: RETENTION_JOB,
    key: RETENTION_JOB,
    payload: null,
    dueAt: new Date(now()),
  });
}
