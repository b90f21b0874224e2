import type { FastifyBaseLogger } from 'fastify';
import type { TransactionalSqlClient } from '../db/sqlClient';
import { DIGEST_JOB } from '../delivery/digestState';
import { ENVELOPE_JOB } from '../scheduler/envelopeJobs';
import type { Scheduler } from '../scheduler/scheduler';

/** The scheduler's job kind of the sweep; one row (key `digest-sweep`) shared by every instance. */
export const DIGEST_SWEEP_JOB = 'digest-sweep';

export interface DigestSweepLimits {
  /** Windows given a new flush per run. */
  windows: number;
  /** How long past its end a window may wait for its flush before it counts as lost. */
  graceMs: number;
  /** How far back (by window start) a run looks: a window is at most 7 days long. */
  horizonMs: number;
}

export const DEFAULT_SWEEP_LIMITS: DigestSweepLimits = {
  windows: 200,
  graceMs: 60_000,
  horizonMs: 14 * 86_400_000,
};

/**
 * Schedules a flush for each digest window that is past its end and holds collected deliveries but has no
 * digest message (kept, or removed by retention), no pending flush and no queued digest message: its
 * flush was lost, as the flush of a robot window of topic-only envelopes was before it learnt to send to
 * the topics (it closed the window and queued nothing). The flush is idempotent (the digest message's id
 * is the window's), so a flush scheduled twice still sends one message. Returns how many were scheduled.
 */
export async function rescheduleLostFlushes(
  sql: TransactionalSqlClient,
  scheduler: Pick<Scheduler, 'schedule'>,
  limits: DigestSweepLimits = DEFAULT_SWEEP_LIMITS,
): Promise<number> {
  return sql.transaction(async (tx) => {
    const { rows } = await tx.query<{ id: string }>(
      `SELECT b.id FROM "DigestBucket" b
        WHERE b."createdAt" > now() - $1 * interval '1 millisecond'
          AND b."closesAt" < now() - $2 * interval '1 millisecond'
          AND NOT EXISTS (SELECT 1 FROM "Message" m WHERE m.id = b.id)
          AND NOT EXISTS (SELECT 1 FROM "PurgedMessage" p WHERE p.id = b.id)
          AND NOT EXISTS (SELECT 1 FROM "ScheduledJob" j
                           WHERE j.kind IN ('${DIGEST_JOB}', '${ENVELOPE_JOB}') AND j.key = b.id)
          AND EXISTS (SELECT 1 FROM "Delivery" d WHERE d."digestMessageId" = b.id AND d.status = 'digested')
        ORDER BY b."createdAt" LIMIT $3 FOR UPDATE OF b SKIP LOCKED`,
      [limits.horizonMs, limits.graceMs, limits.windows],
    );
    const dueAt = new Date();
    await scheduler.schedule(
      rows.map((r) => ({ kind: DIGEST_JOB, key: r.id, payload: { bucketId: r.id }, dueAt })),
      tx,
    );
    return rows.length;
  });
}

export interface DigestSweepOptions {
  sql: TransactionalSqlClient;
  scheduler: Scheduler;
  log: FastifyBaseLogger;
  limits?: DigestSweepLimits;
  /** Pause between runs while a run filled its batch. */
  pauseMs?: number;
  /** How long to wait after a run that found less than a batch. */
  idleMs?: number;
}

/**
 * Runs the sweep as one durable job on the scheduler: due at once whenever a consumer starts (so a
 * deploy recovers what an older version lost), then every `idleMs`; one row means one instance at a time.
 */
export async function startDigestSweep(opts: DigestSweepOptions): Promise<void> {
  const limits = opts.limits ?? DEFAULT_SWEEP_LIMITS;
  const pauseMs = opts.pauseMs ?? 1_000;
  const idleMs = opts.idleMs ?? 10 * 60_000;
  opts.scheduler.register(DIGEST_SWEEP_JOB, async () => {
    const scheduled = await rescheduleLostFlushes(opts.sql, opts.scheduler, limits);
    if (scheduled)
      opts.log.warn({ windows: scheduled }, 'digest sweep: flushed digest windows whose flush was lost');
    return { retryAt: new Date(Date.now() + (scheduled === limits.windows ? pauseMs : idleMs)) };
  });
  await opts.scheduler.schedule({
    kind: DIGEST_SWEEP_JOB,
    key: DIGEST_SWEEP_JOB,
    payload: null,
    dueAt: new Date(),
    replace: true,
  });
}
