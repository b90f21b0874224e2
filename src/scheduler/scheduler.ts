import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../db/database';
import type { SqlClient } from '../db/sqlClient';
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
/** How long the next due time read by one claim is trusted while jobs run (their ends wake the loop). */
const NEXT_DUE_REUSE_MS = 250;

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
  /** When the next row may be claimed (of any priority; of priority 1 only), and when that was read. */
  const nextDue = new Map<boolean, { at: number | undefined; readAt: number }>();

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

  // Finished jobs wait for the loop's next claim, which deletes their rows in its own statement: a burst
  // of due rows (100,000 sends scheduled for the same second) paid a delete, and a commit, per claim.
  // The job gives up its slot at once, so that same claim can fill it.
  let finished: Array<{ job: ClaimedJob; resolve(): void }> = [];
  const complete = (job: ClaimedJob) =>
    new Promise<void>((resolve) => {
      running.delete(job.id);
      finished.push({ job, resolve });
      poke();
    });

  /** The completions no claim will carry any more (the loop has ended): written in a statement of their own. */
  async function flushFinished(): Promise<void> {
    const list = finished;
    finished = [];
    if (!list.length) return;
    try {
      await jobStore.complete(
        db.sql,
        list.map((d) => d.job),
      );
    } catch (err) {
      log.warn(
        { err, jobs: list.length },
        'scheduler: could not remove finished jobs; they run again when their leases end',
      );
    } finally {
      for (const d of list) d.resolve();
    }
  }

  async function settle(job: ClaimedJob, outcome: JobOutcome | { error: unknown }): Promise<void> {
    for (let delay = 500; ; delay = Math.min(delay * 2, 15_000)) {
      try {
        if (outcome && 'error' in outcome) {
          const backoff = Math.min(errorBackoffMs * 2 ** (job.attempts - 1), MAX_ERROR_BACKOFF_MS);
          await jobStore.release(db.sql, job, {
            delayMs: backoff,
            error: String((outcome.error as Error)?.message ?? outcome.error).slice(0, 2000),
          });
          nextDue.clear();
        } else if (outcome) {
          await jobStore.release(db.sql, job, { runAt: outcome.retryAt, payload: outcome.payload });
          nextDue.clear();
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

  /** Rows were added or moved (here, or by another instance's NOTIFY): what was read of them is stale. */
  function rowsChanged(): void {
    nextDue.clear();
    poke();
  }

  /**
   * How long to sleep after a claim that took less than it had room for. A job finishing wakes the loop
   * anyway, so while jobs run the answer read last (within NEXT_DUE_REUSE_MS) stands in for a query per
   * claim; new rows wake it by NOTIFY or poke.
   */
  async function sleepUntilDue(kinds: readonly string[], urgentOnly: boolean): Promise<void> {
    const now = Date.now();
    let known = nextDue.get(urgentOnly);
    const reuse = !!known && running.size > 0 && now - known.readAt <= NEXT_DUE_REUSE_MS;
    if (!known || !reuse) {
      const ms = await jobStore.msUntilNext(db.sql, kinds, urgentOnly ? 1 : undefined);
      known = { at: ms === undefined ? undefined : now + ms, readAt: now };
      nextDue.set(urgentOnly, known);
    }
    const ms = known.at === undefined ? pollMs : Math.max(0, known.at - Date.now());
    // 0: due rows exist but others hold them (or SKIP LOCKED passed them): look again shortly. An answer
    // read earlier is trusted no longer than NEXT_DUE_REUSE_MS.
    const cap = ms === 0 || reuse ? NEXT_DUE_REUSE_MS : pollMs;
    await sleep(Math.min(ms || NEXT_DUE_REUSE_MS, cap));
  }

  async function loop(): Promise<void> {
    const kinds = [...handlers.keys()];
    let failures = 0;
    while (!stopping) {
      woken = false;
      const done = finished;
      finished = [];
      try {
        const normalRunning = [...running.values()].filter((r) => !r.urgent).length;
        const total = concurrency + reserved - running.size;
        const free = Math.max(0, Math.min(concurrency - normalRunning, total));
        const urgentSlots = reserved > 0 ? Math.max(0, total) : undefined;
        const jobs =
          free > 0 || (urgentSlots ?? 0) > 0 || done.length
            ? await jobStore.claim(db.sql, {
                kinds,
                limit: free,
                leaseMs,
                claimedBy,
                urgentSlots,
                done: done.map((d) => d.job),
              })
            : [];
        for (const d of done) d.resolve();
        failures = 0;
        for (const job of jobs) run(job, job.urgent);
        const ordinary = jobs.filter((j) => !j.urgent).length;
        const room = urgentSlots ?? free;
        // Every slot taken: a job that ends wakes the loop. Else the lane that came back short is empty.
        if (jobs.length >= room) await sleep(pollMs);
        else if (ordinary < Math.min(free, room - (jobs.length - ordinary)))
          await sleepUntilDue(kinds, false);
        else await sleepUntilDue(kinds, true);
      } catch (err) {
        finished.unshift(...done);
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
      if (!tx) rowsChanged();
    },
    unschedule: (kind, key) => jobStore.removeKey(db.sql, kind, key),
    async start() {
      if (started) return;
      started = true;
      if (!handlers.size) return;
      unlisten = await db.listen(channel, rowsChanged).catch((err: unknown) => {
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
      await flushFinished();
      if (renewTimer) clearInterval(renewTimer);
      await unlisten?.();
    },
  };
}
