import pino from 'pino';
import { createPostgresDatabase } from '../../src/db/postgresDatabase';
import type { Database } from '../../src/db/database';
import { readSchedulerBacklog } from '../../src/scheduler/backlog';
import { jobStore, type ClaimedJob } from '../../src/scheduler/jobStore';
import { createScheduler, type JobHandler, type Scheduler } from '../../src/scheduler/scheduler';
import { describeWith } from '../support/services';
import { createTestPglite, createTestPostgres, type TestDatabase } from '../support/testDatabase';

const log = pino({ level: 'silent' });

/** Resolves once `predicate` holds, looking every 50 ms (the test's own timeout bounds the wait). */
async function until(predicate: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await predicate())) await new Promise((r) => setTimeout(r, 50));
}

const pendingRows = async (db: Database) =>
  Number((await db.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM "ScheduledJob"`)).rows[0]?.n);

type Backend = { name: string; open(): Promise<TestDatabase>; needs: Array<'postgres'> };
const backends: Backend[] = [
  { name: 'PostgreSQL', open: createTestPostgres, needs: ['postgres'] },
  { name: 'PGlite', open: createTestPglite, needs: [] },
];

for (const backend of backends) {
  describeWith(backend.needs, `scheduler on ${backend.name}`, () => {
    let t: TestDatabase;
    const started: Scheduler[] = [];
    const start = async (
      kind: string,
      handler: JobHandler,
      opts: { leaseMs?: number; concurrency?: number } = {},
    ) => {
      const s = createScheduler({ db: t.db, log, pollMs: 1000, ...opts });
      s.register(kind, handler);
      await s.start();
      started.push(s);
      return s;
    };

    beforeAll(async () => {
      t = await backend.open();
    });
    afterEach(async () => {
      for (const s of started.splice(0)) await s.stop();
      await t.db.sql.query(`DELETE FROM "ScheduledJob"`);
    });
    afterAll(() => t.drop());

    it('runs priority rows first, in slots that ordinary rows never take (urgent first)', async () => {
      const order: string[] = [];
      let release!: () => void;
      const slow = new Promise<void>((r) => (release = r));
      const s = createScheduler({ db: t.db, log, pollMs: 1000, concurrency: 1, reserved: 1 });
      started.push(s);
      s.register('test.prio', async (job) => {
        const { n } = job.payload as { n: string };
        order.push(n);
        if (n === 'slow') await slow;
      });
      const ago = (ms: number) => new Date(Date.now() - ms);
      await s.schedule([
        { kind: 'test.prio', payload: { n: 'slow' }, dueAt: ago(3000) },
        { kind: 'test.prio', payload: { n: 'ordinary' }, dueAt: ago(2000) },
        // Due last, but claimed first.
        { kind: 'test.prio', payload: { n: 'early-urgent' }, dueAt: ago(1000), priority: 1 },
      ]);
      // What herald_scheduler_critical_due_jobs exports: the one critical row due.
      const backlog = await readSchedulerBacklog(t.db.sql);
      expect(backlog.find((r) => r.kind === 'test.prio')).toMatchObject({ due: 3, criticalDue: 1 });
      await s.start();
      await until(() => order.length === 2);
      expect(order).toEqual(['early-urgent', 'slow']);
      // The one ordinary slot is held by `slow`; an urgent row published now still runs, `ordinary` waits.
      await s.schedule({ kind: 'test.prio', payload: { n: 'urgent' }, dueAt: new Date(), priority: 1 });
      await until(() => order.length === 3);
      await new Promise((r) => setTimeout(r, 300));
      expect(order).toEqual(['early-urgent', 'slow', 'urgent']);
      release();
      await until(() => order.length === 4);
      expect(order[3]).toBe('ordinary');
    });

    it('runs a job not before its due time, then removes its row', async () => {
      const ran: Array<{ at: number; job: ClaimedJob }> = [];
      const s = await start('test.due', async (job) => {
        ran.push({ at: Date.now(), job });
      });
      const dueAt = new Date(Date.now() + 1500);
      await s.schedule({ kind: 'test.due', payload: { n: 1 }, dueAt });
      await until(() => ran.length === 1);
      expect(ran[0]?.at).toBeGreaterThanOrEqual(dueAt.getTime());
      expect(ran[0]?.at).toBeLessThan(dueAt.getTime() + 8000);
      expect(ran[0]?.job.payload).toEqual({ n: 1 });
      expect(ran[0]?.job.attempts).toBe(1);
      await until(async () => (await pendingRows(t.db)) === 0);
    });

    it('keeps a failed job and runs it again later, and a handler can reschedule its own row', async () => {
      const seen: number[] = [];
      const s = await start('test.retry', async (job) => {
        seen.push(job.attempts);
        if (job.attempts === 1) throw new Error('first try fails');
        if (job.attempts === 2) return { retryAt: new Date(Date.now() + 200), payload: { again: true } };
        expect(job.payload).toEqual({ again: true });
      });
      await s.schedule({ kind: 'test.retry', payload: {}, dueAt: new Date() });
      await until(() => seen.length === 3);
      expect(seen).toEqual([1, 2, 3]);
      await until(async () => (await pendingRows(t.db)) === 0);
    });

    it('sleeps its full poll interval when no row of its kinds exists', async () => {
      // Some other kind's row is due: it is not this scheduler's to wait for.
      await jobStore.insert(t.db.sql, [{ kind: 'test.other', payload: {}, dueAt: new Date() }]);
      expect(await jobStore.msUntilNext(t.db.sql, ['test.idle'])).toBeUndefined();
      expect(await jobStore.msUntilNext(t.db.sql, ['test.other'])).toBe(0);
      let statements = 0;
      const counted = {
        ...t.db,
        sql: {
          ...t.db.sql,
          query: ((text: string, params?: readonly unknown[]) => {
            statements++;
            return t.db.sql.query(text, params);
          }) as typeof t.db.sql.query,
        },
      };
      const s = createScheduler({ db: counted, log, pollMs: 1000, reserved: 1 });
      started.push(s);
      s.register('test.idle', async () => undefined);
      await s.start();
      await new Promise((r) => setTimeout(r, 3000));
      // A claim and a look at the next due time per wake: the start and three polls. Reading "no rows"
      // as "due now" polled every 250 ms (24 statements).
      expect(statements).toBeLessThanOrEqual(10);
    });

    it('removes the row of a job that finished just before stop()', async () => {
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let ran = 0;
      const s = await start('test.stop', async () => {
        ran++;
        await held;
      });
      await s.schedule({ kind: 'test.stop', payload: {}, dueAt: new Date() });
      await until(() => ran === 1);
      release();
      await s.stop();
      expect(await pendingRows(t.db)).toBe(0);
    });

    it('collapses a repeated key unless asked to replace it', async () => {
      const s = createScheduler({ db: t.db, log });
      const later = new Date(Date.now() + 60_000);
      await s.schedule({ kind: 'test.key', key: 'm-1', payload: { v: 1 }, dueAt: later });
      await s.schedule({ kind: 'test.key', key: 'm-1', payload: { v: 2 }, dueAt: later });
      await s.schedule({ kind: 'test.key', key: 'm-1', payload: { v: 3 }, dueAt: later, replace: true });
      const { rows } = await t.db.sql.query<{ payload: unknown }>(`SELECT payload FROM "ScheduledJob"`);
      expect(rows).toEqual([{ payload: { v: 3 } }]);
      expect(await s.unschedule('test.key', 'm-1')).toBe(true);
      expect(await pendingRows(t.db)).toBe(0);
    });

    it("takes over a crashed claimer's job once its lease has run out, not before", async () => {
      await jobStore.insert(t.db.sql, [{ kind: 'test.lease', payload: {}, dueAt: new Date() }]);
      // A claimer that took the row and died: nobody renews or completes its claim.
      const leaseMs = 1500;
      const claimedAt = Date.now();
      const taken = await jobStore.claim(t.db.sql, {
        kinds: ['test.lease'],
        limit: 10,
        leaseMs,
        claimedBy: 'dead',
      });
      expect(taken).toHaveLength(1);
      const ran: Array<{ at: number; attempts: number }> = [];
      await start('test.lease', async (job) => {
        ran.push({ at: Date.now(), attempts: job.attempts });
      });
      await until(() => ran.length === 1);
      expect(ran[0]?.at).toBeGreaterThanOrEqual(claimedAt + leaseMs);
      expect(ran[0]?.attempts).toBe(2);
      // The dead claimer's late completion must not remove a row it no longer holds.
      await jobStore.complete(t.db.sql, [taken[0] as ClaimedJob]);
    });

    it('renews the lease of a job that is still running', async () => {
      let release: () => void = () => undefined;
      const runs: number[] = [];
      await start(
        'test.long',
        async (job) => {
          runs.push(job.attempts);
          await new Promise<void>((r) => (release = r));
        },
        { leaseMs: 1500 },
      );
      await jobStore.insert(t.db.sql, [{ kind: 'test.long', payload: {}, dueAt: new Date() }]);
      await until(() => runs.length === 1);
      await new Promise((r) => setTimeout(r, 4000));
      release();
      await until(async () => (await pendingRows(t.db)) === 0);
      expect(runs).toEqual([1]);
    });
  });
}

describeWith(['postgres'], 'scheduler shared by two instances on PostgreSQL', () => {
  it('processes each row once, and both instances claim some', async () => {
    const t = await createTestPostgres();
    // A second instance: its own pool and LISTEN connection on the same schema.
    const other = createPostgresDatabase(t.url as string, 5);
    const seen = new Map<string, string[]>();
    const handler =
      (name: string): JobHandler =>
      async (job) => {
        seen.set(job.id, [...(seen.get(job.id) ?? []), name]);
        await new Promise((r) => setTimeout(r, 5));
      };
    const a = createScheduler({ db: t.db, log, concurrency: 8, pollMs: 1000 });
    const b = createScheduler({ db: other, log, concurrency: 8, pollMs: 1000 });
    a.register('test.shared', handler('a'));
    b.register('test.shared', handler('b'));
    await a.start();
    await b.start();
    try {
      const soon = Date.now() + 1000;
      const jobs = Array.from({ length: 400 }, (_, i) => ({
        kind: 'test.shared',
        payload: { i },
        dueAt: new Date(soon + (i % 20) * 50),
      }));
      await a.schedule(jobs);
      await until(() => seen.size === 400);
      await until(async () => (await pendingRows(t.db)) === 0);
      const takes = [...seen.values()];
      expect(takes.filter((names) => names.length !== 1)).toEqual([]);
      const byA = takes.filter(([n]) => n === 'a').length;
      expect(byA).toBeGreaterThan(0);
      expect(400 - byA).toBeGreaterThan(0);
    } finally {
      await a.stop();
      await b.stop();
      await other.close();
      await t.drop();
    }
  });
});

describeWith(
  ['postgres'],
  'scheduler across a PostgreSQL restart (every connection of the instance terminated)',
  () => {
    it('keeps its rows, reconnects its pool and its LISTEN connection, and runs what is due', async () => {
      const t = await createTestPostgres();
      const app = `sched_restart_${Math.random().toString(36).slice(2, 8)}`;
      const db = createPostgresDatabase(`${t.url as string}&application_name=${app}`, 3);
      const ran: string[] = [];
      const s = createScheduler({ db, log, pollMs: 1000 });
      s.register('test.restart', async (job) => {
        ran.push((job.payload as { name: string }).name);
      });
      await s.start();
      try {
        await s.schedule({
          kind: 'test.restart',
          payload: { name: 'before' },
          dueAt: new Date(Date.now() + 1500),
        });
        // What a server restart does to the clients: each connection ends with admin_shutdown (57P01).
        const { rows } = await t.db.sql.query<{ ok: boolean }>(
          `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1`,
          [app],
        );
        expect(rows.length).toBeGreaterThan(0);
        await until(() => ran.includes('before'));
        // Scheduled from another instance after the restart: reached by NOTIFY on the new LISTEN
        // connection or by the poll, either way within the test's time.
        await new Promise((r) => setTimeout(r, 1500));
        await createScheduler({ db: t.db, log }).schedule({
          kind: 'test.restart',
          payload: { name: 'after' },
          dueAt: new Date(),
        });
        await until(() => ran.includes('after'));
        expect(ran).toEqual(['before', 'after']);
      } finally {
        await s.stop();
        await db.close();
        await t.drop();
      }
    });
  },
);
