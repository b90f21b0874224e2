import type { SqlClient } from '../db/sqlClient';

/**
 * A due row not claimed this long after its time is overdue: an idle instance wakes at the row's time and
 * looks at least every 5 s, so a healthy deployment takes every due row well within it.
 */
export const OVERDUE_AFTER_S = 10;

export interface SchedulerBacklog {
  kind: string;
  /** Rows whose time has not come (a future send, a retry waiting for its attempt). */
  waiting: number;
  /** Rows whose time has come and that nobody holds (never claimed, or a dead claimer's lease ran out). */
  due: number;
  /** Rows held by a live lease: being run now. */
  running: number;
  /** Due rows whose time passed more than OVERDUE_AFTER_S ago. */
  overdue: number;
  /** How long past its time the oldest due row is, in seconds (0 when none is due). */
  oldestOverdueSeconds: number;
  /** Due rows of priority 1 (critical envelopes) that nobody holds. */
  criticalDue: number;
}

/** The ScheduledJob table by kind, read with the database's clock (shared by every instance). */
export async function readSchedulerBacklog(sql: SqlClient): Promise<SchedulerBacklog[]> {
  const { rows } = await sql.query<{
    kind: string;
    waiting: string;
    due: string;
    running: string;
    overdue: string;
    critical: string;
    oldest: number | null;
  }>(
    `SELECT kind,
            count(*) FILTER (WHERE "runAt" > now() AND "claimToken" IS NULL)::text AS waiting,
            count(*) FILTER (WHERE "runAt" <= now())::text AS due,
            count(*) FILTER (WHERE "runAt" > now() AND "claimToken" IS NOT NULL)::text AS running,
            count(*) FILTER (WHERE "runAt" <= now() - $1 * interval '1 second')::text AS overdue,
            count(*) FILTER (WHERE "runAt" <= now() AND priority > 0)::text AS critical,
            EXTRACT(EPOCH FROM now() - min("runAt") FILTER (WHERE "runAt" <= now()))::float8 AS oldest
     FROM "ScheduledJob" GROUP BY kind ORDER BY kind`,
    [OVERDUE_AFTER_S],
  );
  return rows.map((r) => ({
    kind: r.kind,
    waiting: Number(r.waiting),
    due: Number(r.due),
    running: Number(r.running),
    overdue: Number(r.overdue),
    criticalDue: Number(r.critical),
    oldestOverdueSeconds: r.oldest === null ? 0 : Math.max(0, Math.round(Number(r.oldest) * 10) / 10),
  }));
}
