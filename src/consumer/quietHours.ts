import type { Envelope } from '../contract/envelope';
import type { QuietHours } from '../contract/subscriber';
import type { SqlClient, TransactionalSqlClient } from '../db/sqlClient';
import { quietUntil } from '../audience/quietHours';
import { deferDeliveries, QUIET_HOURS_REASON } from '../delivery/deferDeliveries';
import type { DeliveryRow } from '../delivery/deliveryState';
import { dueEnvelopePayload } from '../scheduler/envelopeJobs';
import type { JobHandler, Scheduler } from '../scheduler/scheduler';
import { channelByName } from '../senders/registry';
import type { ResolvedTemplate } from './dispatchTypes';
import type { SendAudience } from './sendDeliveries';

/** The job kind that dispatches a message again when quiet hours it waited for end. */
export const QUIET_HOURS_JOB = 'quiet-hours';

/** The workspace's quiet hours, for people without their own (HERALD_QUIET_HOURS, _TIMEZONE). */
export interface QuietHoursDefaults {
  window?: QuietHours;
  /** The zone quiet hours are read in for a subscriber (or recipient) without a timezone. */
  timeZone: string;
}

export interface QuietHoursDeps {
  sql: TransactionalSqlClient;
  /** Without it (nothing would wake a deferred delivery) nothing is deferred. */
  scheduler?: Scheduler;
  quietHours?: QuietHoursDefaults;
  now(): number;
}

/**
 * The last audience rule before sending (critical → preference → deduplication → throttle → digest →
 * quiet hours): each queued delivery to a person whose quiet hours (their own, else the workspace's, in
 * their timezone) hold now becomes `deferred` until they end, and a scheduler row keyed by message and end
 * time dispatches the envelope again then, in one transaction. Critical templates are never deferred, nor
 * group posts (a robot's post follows the group's settings, not a person's). Returns the rows as they now
 * stand, with the number deferred per channel.
 */
export async function deferForQuietHours(
  env: Envelope,
  template: ResolvedTemplate,
  rows: readonly DeliveryRow[],
  audience: SendAudience,
  deps: QuietHoursDeps,
): Promise<{ rows: DeliveryRow[]; deferred: DeliveryRow[] }> {
  const scheduler = deps.scheduler;
  if (template.critical || !scheduler) return { rows: [...rows], deferred: [] };
  const now = deps.now();
  const deferrals: Array<{ deliveryId: string; until: Date }> = [];
  for (const row of rows) {
    if (row.status !== 'queued' || channelByName.get(row.channel)?.fanOut === 'group') continue;
    const subscriber = audience.subscriberOf?.(row);
    const window = subscriber?.quietHours ?? deps.quietHours?.window;
    if (!window) continue;
    const zone = subscriber?.timezone ?? deps.quietHours?.timeZone ?? 'UTC';
    const until = quietUntil(window, zone, now);
    if (until !== undefined) deferrals.push({ deliveryId: row.id, until: new Date(until) });
  }
  if (!deferrals.length) return { rows: [...rows], deferred: [] };
  const changed = await deps.sql.transaction(async (tx) => {
    const ids = new Set(await deferDeliveries(tx, deferrals, QUIET_HOURS_REASON));
    const ends = new Set(deferrals.filter((d) => ids.has(d.deliveryId)).map((d) => d.until.getTime()));
    await scheduler.schedule(
      [...ends].map((end) => ({
        kind: QUIET_HOURS_JOB,
        key: `${env.id} ${new Date(end).toISOString()}`,
        payload: { messageId: env.id },
        dueAt: new Date(end),
      })),
      tx,
    );
    return ids;
  });
  const untilOf = new Map(deferrals.map((d) => [d.deliveryId, d.until]));
  const out = rows.map((r) =>
    changed.has(r.id) ? { ...r, status: 'deferred' as const, nextAttemptAt: untilOf.get(r.id) ?? null } : r,
  );
  return { rows: out, deferred: out.filter((r) => changed.has(r.id)) };
}

/**
 * Runs a quiet-hours row when its time comes: the message's stored envelope (with any erasure applied)
 * goes through the envelope runner as a due send, which claims the deferred deliveries now due; a retry
 * it calls for moves this row, so the message stays driven. A cancelled or unknown message is done.
 */
export function createQuietHoursHandler(deps: {
  sql: TransactionalSqlClient;
  runEnvelope: JobHandler;
}): JobHandler {
  return async (job) => {
    const messageId = (job.payload as { messageId?: unknown } | null)?.messageId;
    if (typeof messageId !== 'string') throw new Error(`quiet-hours job ${job.id} names no message`);
    const { rows } = await deps.sql.query<{ status: string; envelope: Record<string, unknown> | null }>(
      `SELECT status, envelope FROM "Message" WHERE id = $1`,
      [messageId],
    );
    const m = rows[0];
    const template = m?.envelope?.template;
    if (!m?.envelope || typeof template !== 'string' || m.status === 'cancelled' || m.status === 'rejected')
      return;
    const payload = dueEnvelopePayload({ ...m.envelope, id: messageId, template });
    const outcome = await deps.runEnvelope({ ...job, payload });
    // The row keeps naming the message, not carrying its envelope (which erasure could not reach).
    return outcome ? { retryAt: outcome.retryAt } : undefined;
  };
}

/** Removes a message's quiet-hours rows (its deferred deliveries were cancelled), in the caller's transaction. */
export async function dropQuietHoursJobs(tx: SqlClient, messageId: string): Promise<void> {
  await tx.query(`DELETE FROM "ScheduledJob" WHERE kind = $1 AND payload->>'messageId' = $2`, [
    QUIET_HOURS_JOB,
    messageId,
  ]);
}
