import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../db/database';
import type { SqlClient } from '../db/sqlClient';
import { createCallBatcher } from '../db/callBatcher';
import { isTransientInfraError } from '../db/transientErrors';
import { jobStore, type ClaimedJob, type JobToSchedule } from './jobStore';

/** What a handler answers: nothing when the work is done, or when (and with what) to run it again. */
export type JobOutcome = void | { retryAt: Date; payload?: unknown };
export type JobHandler = (job: ClaimedJob) => Promise<JobOutcome>;

export interface SchedulerOptions {
  db: Pick<Database, 'sql' | 'listen' | 'schema'>;
  log: FastifyBaseLogger;
  /** Jobs of all kinds this instance runs at once; claims take at most what is free. */
  concurrency?: number;
  /**
   * Slots on top of `concurrency` that only rows of priority 1 (critical envelopes) take; those rows are
   * also claimed first. 0 (default): priorities are not looked at.
   */
  reserved?: number;
  /** How long a claim holds a row; renewed while the handler runs, so only a dead claimer loses it. */
  leaseMs?: number;
  /** The longest sleep between looks at the table when no notification comes. */
  pollMs?: number;
  /** Backoff after a handler throws (attempt n waits base × 2^(n-1), capped at 5 minutes). */
  errorBackoffMs?: number;
}

export interface Scheduler {
  /** Runs jobs of `kind` with `handler`; register every kind before start(). */
  register(kind: string, handler: JobHandler): void;
  /** Records work due at `dueAt` (in `tx` when given, so it commits with the caller's rows). */
  schedule(jobs: JobToSchedule | readonly JobToSchedule[], tx?: SqlClient): Promise<void>;
  /** Removes the pending row of `key` (a cancelled send); true when there was one. */
  unschedule(kind: string, key: string): Promise<boolean>;
  start(): Promise<void>;
  /** Stops claiming and waits for running handlers; their rows are completed or released as usual. */
  stop(): Promise<void>;
}

const MAX_ERROR_BACKOFF_MS = 5 * 60_000;

/** The notification channel of one schema's ScheduledJob table. */
export const schedulerChannel = (schema: string): string => `herald_scheduler_${schema}`.slice(0, 63);

/**
 * Records jobs in the caller's transaction and wakes every instance's scheduler (`channel` is
 * schedulerChannel(schema)); for writers that hold no Scheduler, such as the inbox store.
 */
export async function scheduleInTransaction(
  tx: SqlClient,
  channel: string,
  jobs: readonly JobToSchedule[],
): Promise<void> {
  if (!jobs.length) return;
  await jobStore.insert(tx, jobs);
  // Inside a transaction NOTIFY is sent at COMMIT, so other instances never look before the row exists.
  await tx.query(`SELECT pg_notify($1, '')`, [channel]);
}

/**
 * Durable due work on Herald's own database (PostgreSQL or PGlite): every job is a ScheduledJob row,
 * claimed in batches with FOR UPDATE SKIP LOCKED and held by a lease (see jobStore). The loop sleeps until
 * the next row is due, a NOTIFY from any instance, or `pollMs`, whichever comes first; timers only wake it,
 * the row is the record.
 */
export function createScheduler(opts: SchedulerOptions): Scheduler {
  const { db, log } = opts;
  const concurrency = opts.concurrency ?? 64;
  const reserved = opts.reserved ?? 0;
  const leaseMs = opts.leaseMs ?? 60_000;
  const pollMs = opts.pollMs ?? 5_000;
  const errorBackoffMs = opts.errorBackoffMs ?? 1_000;
  const claimedBy = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const channel = schedulerChannel(db.schema);
  const handlers = new Map<string, JobHandler>();
  const running = new Map<string, { job: ClaimedJob; done: Promise<void>; urgent: boolean }>();
  let started = false;
  let stopping = false;
  let loopDone: Promise<void> = Promise.resolve();
  let wake: (() => void) | undefined;
  let woken = false;
  let unlisten: (() => Promise<void>) | undefined;
  let renewTimer: NodeJS.Timeout | undefined;

  const poke = () => {
    woken = true;
    wake?.();
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (woken || stopping) return resolve();
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  // The jobs finished together go in one statement (and one commit): a burst of due rows (100,000 sends
  // scheduled for the same second) otherwise paid a commit flush per row.
  const complete = createCallBatcher(async (jobs: ClaimedJob[]) => {
    await jobStore.complete(db.sql, jobs);
    return jobs.map(() => undefined);
  });

  async function settle(job: ClaimedJob, outcome: JobOutcome | { error: unknown }): Promise<void> {
    for (let delay = 500; ; delay = Math.min(delay * 2, 15_000)) {
      try {
        if (outcome && 'error' in outcome) {
          const backoff = Math.min(errorBackoffMs * 2 ** (job.attempts - 1), MAX_ERROR_BACKOFF_MS);
          await jobStore.release(db.sql, job, {
            delayMs: backoff,
            error: String((outcome.error as Error)?.message ?? outcome.error).slice(0, 2000),
          });
        } else if (outcome) {
          await jobStore.release(db.sql, job, { runAt: outcome.retryAt, payload: outcome.payload });
        } else {
          await complete(job);
        }
        return;
      } catch (err) {
        // Away database: keep the outcome and write it when it is back; else the lease will release it.
        if (!isTransientInfraError(err) || stopping) {
          log.warn({ err, jobId: job.id, kind: job.kind }, 'scheduler: could not record a job outcome');
          return;
        }
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  function run(job: ClaimedJob, urgent = false): void {
    const handler = handlers.get(job.kind) as JobHandler;
    const done = (async () => {
      let outcome: JobOutcome | { error: unknown };
      try {
        outcome = await handler(job);
      } catch (error) {
        log.warn(
          { err: error, jobId: job.id, kind: job.kind, attempts: job.attempts },
          'scheduler: job failed',
        );
        outcome = { error };
      }
      await settle(job, outcome);
    })().finally(() => {
      running.delete(job.id);
      poke();
    });
    running.set(job.id, { job, done, urgent });
  }

  async function loop(): Promise<void> {
    const kinds = [...handlers.keys()];
    let failures = 0;
    while (!stopping) {
      woken = false;
      try {
        const claim = (limit: number, priority?: number) =>
          jobStore.claim(db.sql, { kinds, limit, leaseMs, claimedBy, priority });
        let urgentJobs: ClaimedJob[] = [];
        if (reserved > 0 && running.size < concurrency + reserved) {
          urgentJobs = await claim(concurrency + reserved - running.size, 1);
          for (const job of urgentJobs) run(job, true);
        }
        const normalRunning = [...running.values()].filter((r) => !r.urgent).length;
        const free = Math.min(concurrency - normalRunning, concurrency + reserved - running.size);
        if (free > 0) {
          const jobs = await claim(free, reserved > 0 ? 0 : undefined);
          for (const job of jobs) run(job);
          failures = 0;
          if (jobs.length || urgentJobs.length) continue;
          const next = await jobStore.msUntilNext(db.sql, kinds);
          if (next === 0) {
            // Due rows exist but others hold them (or SKIP LOCKED passed them): look again shortly.
            await sleep(Math.min(pollMs, 250));
            continue;
          }
          await sleep(Math.min(next ?? pollMs, pollMs));
        } else if (reserved > 0 && running.size < concurrency + reserved) {
          failures = 0;
          if (urgentJobs.length) continue;
          // Full of other work: a new critical row wakes this loop (NOTIFY); one that comes due does not.
          const next = await jobStore.msUntilNext(db.sql, kinds, 1);
          await sleep(Math.min(next === 0 ? 250 : (next ?? pollMs), pollMs));
        } else {
          await sleep(pollMs);
        }
      } catch (err) {
        failures++;
        if (failures === 1 || !isTransientInfraError(err))
          log.warn({ err: (err as Error).message }, 'scheduler: cannot read due work; trying again');
        await sleep(Math.min(pollMs, 500 * 2 ** Math.min(failures, 5)));
      }
    }
  }

  return {
    register(kind, handler) {
      if (started) throw new Error(`scheduler: register "${kind}" before start()`);
      handlers.set(kind, handler);
    },
    async schedule(jobs, tx) {
      const list = Array.isArray(jobs) ? (jobs as JobToSchedule[]) : [jobs as JobToSchedule];
      await scheduleInTransaction(tx ?? db.sql, channel, list);
      if (!tx) poke();
    },
    unschedule: (kind, key) => jobStore.removeKey(db.sql, kind, key),
    async start() {
      if (started) return;
      started = true;
      if (!handlers.size) return;
      unlisten = await db.listen(channel, poke).catch((err: unknown) => {
        log.warn({ err }, 'scheduler: LISTEN unavailable; polling only');
        return undefined;
      });
      renewTimer = setInterval(
        () => {
          const jobs = [...running.values()].map((r) => r.job);
          jobStore.renew(db.sql, jobs, leaseMs).catch(() => undefined);
        },
        Math.max(100, Math.floor(leaseMs / 3)),
      );
      renewTimer.unref();
      loopDone = loop();
    },
    async stop() {
      stopping = true;
      poke();
      await loopDone;
      while (running.size) await Promise.allSettled([...running.values()].map((r) => r.done));
      if (renewTimer) clearInterval(renewTimer);
      await unlisten?.();
    },
  };
}
