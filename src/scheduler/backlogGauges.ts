import { Gauge, type Registry } from 'prom-client';
import type { SqlClient } from '../db/sqlClient';
import { readSchedulerBacklog, type SchedulerBacklog } from './backlog';
import { ENVELOPE_JOB } from './envelopeJobs';

/** The envelope kind is always exported, zeros included, so its series never vanish from a dashboard. */
const withEnvelopeKind = (rows: SchedulerBacklog[]): SchedulerBacklog[] =>
  rows.some((r) => r.kind === ENVELOPE_JOB)
    ? rows
    : [
        ...rows,
        {
          kind: ENVELOPE_JOB,
          waiting: 0,
          due: 0,
          running: 0,
          overdue: 0,
          oldestOverdueSeconds: 0,
          criticalDue: 0,
        },
      ];

/**
 * The scheduler's backlog as gauges, read from the database when Prometheus scrapes (so an idle Herald
 * does no work for them); the same on every instance, like the other database-derived gauges.
 */
export function registerSchedulerBacklogGauges(registry: Registry, sql: SqlClient): void {
  // One read serves the three gauges of a scrape (prom-client collects them concurrently).
  let read: { at: number; backlog: Promise<SchedulerBacklog[]> } | undefined;
  const backlog = () => {
    if (!read || Date.now() - read.at > 1000)
      read = { at: Date.now(), backlog: readSchedulerBacklog(sql).then(withEnvelopeKind) };
    return read.backlog;
  };
  new Gauge({
    name: 'herald_scheduler_jobs',
    help: 'Rows of the scheduler by kind and state: waiting (not yet due), due (nobody holds them), running',
    labelNames: ['kind', 'state'] as const,
    registers: [registry],
    async collect() {
      const rows = await backlog();
      this.reset();
      for (const r of rows)
        for (const state of ['waiting', 'due', 'running'] as const)
          this.set({ kind: r.kind, state }, r[state]);
    },
  });
  new Gauge({
    name: 'herald_scheduler_overdue_jobs',
    help: 'Due scheduler rows not claimed within 10 s of their time, by kind',
    labelNames: ['kind'] as const,
    registers: [registry],
    async collect() {
      const rows = await backlog();
      this.reset();
      for (const r of rows) this.set({ kind: r.kind }, r.overdue);
    },
  });
  new Gauge({
    name: 'herald_scheduler_critical_due_jobs',
    help: "Critical templates' envelope rows due and not yet taken (the embedded mode's critical queue depth)",
    registers: [registry],
    async collect() {
      const rows = await backlog();
      this.set(rows.reduce((n, r) => n + r.criticalDue, 0));
    },
  });
  new Gauge({
    name: 'herald_scheduler_oldest_overdue_seconds',
    help: 'How long past its time the oldest due scheduler row is (0 when none is due)',
    registers: [registry],
    async collect() {
      const rows = await backlog();
      this.set(Math.max(0, ...rows.map((r) => r.oldestOverdueSeconds)));
    },
  });
}
