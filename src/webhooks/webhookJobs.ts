import type { SqlClient } from '../db/sqlClient';
import { jobStore } from '../scheduler/jobStore';
import { schedulerChannel } from '../scheduler/scheduler';

/** The scheduler kind of an endpoint's delivery loop: one row per enabled endpoint, keyed by its id. */
export const STATUS_WEBHOOK_JOB = 'status-webhook';

/**
 * Makes sure the endpoint's loop row exists (`now`: due at once, moving an existing row, as after a
 * re-enable), and wakes the schedulers of every instance.
 */
export async function scheduleEndpoint(
  sql: SqlClient,
  schema: string,
  ids: readonly string[],
  opts: { now: boolean },
): Promise<void> {
  if (!ids.length) return;
  await jobStore.insert(
    sql,
    ids.map((id) => ({
      kind: STATUS_WEBHOOK_JOB,
      key: id,
      payload: {},
      dueAt: new Date(),
      replace: opts.now,
    })),
  );
  await sql.query(`SELECT pg_notify($1, '')`, [schedulerChannel(schema)]);
}
