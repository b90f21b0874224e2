import type { SqlClient } from '../db/sqlClient';

/** A unit of due work as a handler sees it. */
export interface ClaimedJob {
  id: string;
  kind: string;
  key: string | null;
  payload: unknown;
  dueAt: Date;
  /** 1 on the first claim; a lease that ran out (a crashed claimer) or a retry counts again. */
  attempts: number;
  claimToken: string;
}

export interface JobToSchedule {
  kind: string;
  /** Unique per kind: scheduling a key that exists either moves that row (`replace`) or does nothing. */
  key?: string;
  payload: unknown;
  dueAt: Date;
  /** With a key: true moves the existing row to this due time and payload; false (default) keeps it. */
  replace?: boolean;
  /** 1: claimed before the rest, into the slots a scheduler keeps for it (a critical envelope). */
  priority?: number;
}

// The condition only when a priority is asked for, so the planner sees a plain query otherwise.
const priorityIs = (priority: number | undefined, param: number): string =>
  priority === undefined ? '' : `AND priority = $${param}::smallint`;
const priorityParam = (priority: number | undefined): number[] => (priority === undefined ? [] : [priority]);

function toJob(r: ClaimedJob & { dueAt: Date | string }): ClaimedJob {
  return { ...r, dueAt: new Date(r.dueAt) };
}

/** The SQL of the ScheduledJob table; every time comes from the database's clock, shared by all instances. */
export const jobStore = {
  async insert(sql: SqlClient, jobs: readonly JobToSchedule[]): Promise<void> {
    if (!jobs.length) return;
    // One statement per conflict policy; NULL keys never conflict, so keyless jobs take the first.
    for (const replace of [false, true]) {
      const part = jobs.filter((j) => (j.replace ?? false) === replace);
      if (!part.length) continue;
      await sql.query(
        `INSERT INTO "ScheduledJob" (kind, key, payload, "dueAt", "runAt", priority)
         SELECT u.kind, u.key, u.payload, u.due, u.due, u.priority
         FROM unnest($1::text[], $2::text[], $3::text[]::jsonb[], $4::timestamptz[], $5::smallint[])
           AS u(kind, key, payload, due, priority)
         ON CONFLICT (kind, key) DO ${
           replace
             ? `UPDATE SET payload = EXCLUDED.payload, "dueAt" = EXCLUDED."dueAt", "runAt" = EXCLUDED."runAt",
                priority = EXCLUDED.priority, attempts = 0, "claimToken" = NULL, "claimedBy" = NULL, "lastError" = NULL`
             : 'NOTHING'
         }`,
        [
          part.map((j) => j.kind),
          part.map((j) => j.key ?? null),
          part.map((j) => JSON.stringify(j.payload ?? null)),
          part.map((j) => j.dueAt.toISOString()),
          part.map((j) => j.priority ?? 0),
        ],
      );
    }
  },

  /**
   * Takes up to `limit` due rows of the given kinds that nobody holds, oldest due first, and leases them:
   * their runAt moves `leaseMs` ahead, so they come back by themselves if this claimer dies. With
   * `urgentSlots`, rows of priority 1 are taken first, up to that many, and ordinary rows (up to `limit`)
   * only into what they left of it. `done` are jobs finished since the last claim: their rows go in the
   * same statement, so a burst of due work costs one round trip (and one commit) per claim, not two.
   * Urgent rows come first in the answer, then by due time.
   */
  async claim(
    sql: SqlClient,
    opts: {
      kinds: readonly string[];
      limit: number;
      leaseMs: number;
      claimedBy: string;
      urgentSlots?: number;
      done?: readonly ClaimedJob[];
    },
  ): Promise<Array<ClaimedJob & { urgent: boolean }>> {
    const lanes = opts.urgentSlots !== undefined;
    const due = `"runAt" <= now() AND kind = ANY($1::text[]) AND id <> ALL($5::bigint[])`;
    const { rows } = await sql.query<ClaimedJob & { dueAt: Date | string; urgent: boolean }>(
      `WITH done AS (
         DELETE FROM "ScheduledJob" j USING unnest($5::bigint[], $6::uuid[]) AS u(id, token)
         WHERE j.id = u.id AND j."claimToken" = u.token
       ), urgent AS (
         SELECT id FROM "ScheduledJob" WHERE ${due} AND priority = 1
         ORDER BY "runAt" LIMIT $7 FOR UPDATE SKIP LOCKED
       ), ordinary AS (
         SELECT id FROM "ScheduledJob" WHERE ${due} ${lanes ? 'AND priority = 0' : ''}
         ORDER BY "runAt" LIMIT ${lanes ? 'LEAST($2, $7 - (SELECT count(*) FROM urgent))' : '$2'}
         FOR UPDATE SKIP LOCKED
       )
       UPDATE "ScheduledJob" j
       SET "runAt" = now() + $3 * interval '1 millisecond', attempts = j.attempts + 1,
           "claimToken" = gen_random_uuid(), "claimedBy" = $4
       FROM (SELECT id, true AS urgent FROM urgent UNION ALL SELECT id, false FROM ordinary) c
       WHERE j.id = c.id
       RETURNING j.id::text AS id, j.kind, j.key, j.payload, j."dueAt", j.attempts,
                 j."claimToken"::text AS "claimToken", c.urgent`,
      [
        opts.kinds,
        Math.max(0, opts.limit),
        opts.leaseMs,
        opts.claimedBy,
        (opts.done ?? []).map((j) => j.id),
        (opts.done ?? []).map((j) => j.claimToken),
        lanes ? Math.max(0, opts.urgentSlots ?? 0) : 0,
      ],
    );
    return rows
      .map((r) => ({ ...toJob(r), urgent: r.urgent }))
      .sort((a, b) => Number(b.urgent) - Number(a.urgent) || a.dueAt.getTime() - b.dueAt.getTime());
  },

  /** Keeps the leases of jobs still running. */
  async renew(sql: SqlClient, jobs: readonly ClaimedJob[], leaseMs: number): Promise<void> {
    if (!jobs.length) return;
    await sql.query(
      `UPDATE "ScheduledJob" SET "runAt" = now() + $3 * interval '1 millisecond'
       WHERE id = ANY($1::bigint[]) AND "claimToken" = ANY($2::uuid[])`,
      [jobs.map((j) => j.id), jobs.map((j) => j.claimToken), leaseMs],
    );
  },

  /** Done: the rows go, unless one was rescheduled meanwhile (a new claim token or none). */
  async complete(sql: SqlClient, jobs: readonly ClaimedJob[]): Promise<void> {
    if (!jobs.length) return;
    await sql.query(
      `DELETE FROM "ScheduledJob" j USING unnest($1::bigint[], $2::uuid[]) AS u(id, token)
       WHERE j.id = u.id AND j."claimToken" = u.token`,
      [jobs.map((j) => j.id), jobs.map((j) => j.claimToken)],
    );
  },

  /** Releases the row to be claimed again at `runAt` (a retry, or a failure with its error). */
  async release(
    sql: SqlClient,
    job: ClaimedJob,
    opts: { runAt?: Date; delayMs?: number; payload?: unknown; error?: string },
  ): Promise<void> {
    await sql.query(
      `UPDATE "ScheduledJob"
       SET "runAt" = COALESCE($3::timestamptz, now() + $4 * interval '1 millisecond'),
           payload = COALESCE($5::jsonb, payload), "lastError" = $6, "claimToken" = NULL, "claimedBy" = NULL
       WHERE id = $1::bigint AND "claimToken" = $2::uuid`,
      [
        job.id,
        job.claimToken,
        opts.runAt?.toISOString() ?? null,
        opts.delayMs ?? 0,
        opts.payload === undefined ? null : JSON.stringify(opts.payload),
        opts.error ?? null,
      ],
    );
  },

  /** Milliseconds until the next row of these kinds (and priority) may be claimed (0 when one is due). */
  async msUntilNext(
    sql: SqlClient,
    kinds: readonly string[],
    priority?: number,
  ): Promise<number | undefined> {
    // Not GREATEST(0, …) in SQL: it skips NULLs, so no rows at all read as "one is due now". The min walks
    // the runAt index past every other kind's rows, so whether any row of these kinds exists is asked
    // first, of the (kind, key) index: a scheduler whose kinds have no rows (status webhooks before any
    // endpoint) no longer scans 100,000 future sends on each poll. With a priority, its index is short.
    const { rows } = await sql.query<{ ms: number | string | null }>(
      priority === undefined
        ? `SELECT CASE WHEN EXISTS (SELECT 1 FROM "ScheduledJob" WHERE kind = ANY($1::text[])) THEN
             (SELECT (EXTRACT(EPOCH FROM (min("runAt") - now())) * 1000)::float8
              FROM "ScheduledJob" WHERE kind = ANY($1::text[])) END AS ms`
        : `SELECT (EXTRACT(EPOCH FROM (min("runAt") - now())) * 1000)::float8 AS ms
           FROM "ScheduledJob" WHERE kind = ANY($1::text[]) ${priorityIs(priority, 2)}`,
      [kinds, ...priorityParam(priority)],
    );
    const ms = rows[0]?.ms;
    return ms === null || ms === undefined ? undefined : Math.max(0, Number(ms));
  },

  /** Removes the row of a key (a claimer still running it finds it gone when it completes); true when one was. */
  async removeKey(sql: SqlClient, kind: string, key: string): Promise<boolean> {
    const { rows } = await sql.query(`DELETE FROM "ScheduledJob" WHERE kind = $1 AND key = $2 RETURNING id`, [
      kind,
      key,
    ]);
    return rows.length > 0;
  },
};
