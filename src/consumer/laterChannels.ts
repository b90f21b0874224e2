import { audienceOf, envelopeSchema, type ChannelName, type Envelope } from '../contract/envelope';
import type { TransactionalSqlClient } from '../db/sqlClient';
import type { AttemptResult, DeliveryRow, DeliveryStatus } from '../delivery/deliveryState';
import { addLaterDeliveries } from '../delivery/laterDeliveries';
import { CHANNELS } from '../contract/envelope';
import { dueEnvelopePayload, ENVELOPE_JOB } from '../scheduler/envelopeJobs';
import type { JobHandler, Scheduler } from '../scheduler/scheduler';
import type { ResolvedTemplate, TemplateResolver } from './dispatchTypes';
import { channelByName } from '../senders/registry';
import { planDeliveries } from './planDeliveries';
import { directAudience } from './directAudience';
import type { EscalateSpec } from '../contract/templatePolicy';
import { lookupSubscribers } from '../audience/subscriberStore';

/** The job kind of an escalation check, keyed by message id. */
export const ESCALATION_JOB = 'escalation';

/** The channels sent at first: all selected but those kept for an escalation or a fallback. */
export function firstChannels(selected: readonly ChannelName[], template: ResolvedTemplate): ChannelName[] {
  const later = new Set([...(template.escalate?.channels ?? []), ...(template.fallback ?? [])]);
  return selected.filter((c) => !later.has(c));
}

const MET: Record<'read' | 'delivered' | 'sent', ReadonlySet<DeliveryStatus>> = {
  read: new Set(['read']),
  delivered: new Set(['delivered', 'read']),
  sent: new Set(['sent', 'delivered', 'read']),
};

/**
 * The channel an escalation watches: the first one sent at first (a readable one for "read"), in
 * template order, among those the message has deliveries on.
 */
export function watchedChannel(
  escalate: Pick<EscalateSpec, 'unless' | 'channels'>,
  present: readonly ChannelName[],
): ChannelName | undefined {
  return CHANNELS.find(
    (c) =>
      !escalate.channels.includes(c) &&
      (escalate.unless !== 'read' || channelByName.get(c)?.readable) &&
      present.includes(c),
  );
}

/** Queues the envelope on the scheduler, due now, so dispatch sends what was added (it claims every queued one). */
const requeue = (scheduler: Scheduler, env: Envelope, sql: Parameters<Scheduler['schedule']>[1]) => {
  const payload = dueEnvelopePayload(env);
  return scheduler.schedule({ kind: ENVELOPE_JOB, key: env.id, payload, dueAt: new Date() }, sql);
};

/**
 * The escalation check, when its time has come: each recipient whose first-wave delivery has not reached
 * the template's `unless` state gets the escalation channels, each a delivery with the reason; a group
 * channel posts once if any recipient escalates. Met for everyone (the item was read in time): nothing is
 * added. A cancelled message escalates nothing.
 */
export function createEscalationHandler(deps: {
  sql: TransactionalSqlClient;
  scheduler: Scheduler;
  templates: TemplateResolver;
}): JobHandler {
  return async (job) => {
    const messageId = (job.payload as { messageId?: unknown } | null)?.messageId;
    if (typeof messageId !== 'string') throw new Error(`escalation job ${job.id} names no message`);
    const { rows } = await deps.sql.query<{
      status: string;
      envelope: unknown;
      templateVersion: number | null;
    }>(`SELECT status, envelope, "templateVersion" FROM "Message" WHERE id = $1`, [messageId]);
    const m = rows[0];
    if (!m || m.status === 'cancelled' || m.status === 'rejected') return;
    const env = envelopeSchema.parse(m.envelope);
    const template = await deps.templates.resolve(env.template, m.templateVersion ?? undefined);
    const escalate = template?.escalate;
    if (!template || !escalate) return;
    const { rows: deliveries } = await deps.sql.query<{
      channel: ChannelName;
      recipientIndex: number | null;
      status: DeliveryStatus;
    }>(`SELECT channel::text AS channel, "recipientIndex", status FROM "Delivery" WHERE "messageId" = $1`, [
      messageId,
    ]);
    const watched = watchedChannel(
      escalate,
      deliveries.map((d) => d.channel),
    );
    const met = (index: number) =>
      deliveries.some(
        (d) =>
          d.channel === watched &&
          (d.recipientIndex === index || d.recipientIndex === -1) &&
          MET[escalate.unless].has(d.status),
      );
    // The envelope's own recipients escalate; a topic's members do not (they have no position to check).
    const { direct } = await directAudience((ids) => lookupSubscribers(deps.sql, ids), env);
    const escalated = new Set(direct.flatMap((t) => (t.index !== null && !met(t.index) ? [t.index] : [])));
    if (!escalated.size) return;
    const reason = `escalation: ${watched ?? 'the first channel'} not ${escalate.unless} within ${escalate.after}`;
    const rules = { category: template.category, critical: template.critical };
    const planned = planDeliveries(direct, escalate.channels, { group: true, rules })
      .planned.filter(
        (p) => p.recipientIndex === -1 || (p.recipientIndex !== null && escalated.has(p.recipientIndex)),
      )
      .map((p) => ({ ...p, cause: reason, ...(p.status === 'queued' ? { reason } : {}) }));
    await deps.sql.transaction(async (tx) => {
      const added = await addLaterDeliveries(tx, { messageId, templateCode: env.template, planned });
      if (added) await requeue(deps.scheduler, env, tx);
    });
  };
}

/** Schedules a new message's escalation check (once per message: a redelivery finds the row or its result). */
export async function scheduleEscalation(
  scheduler: Scheduler,
  env: Envelope,
  template: ResolvedTemplate,
  now: number,
): Promise<void> {
  if (!template.escalate) return;
  await scheduler.schedule({
    kind: ESCALATION_JOB,
    key: env.id,
    payload: { messageId: env.id },
    dueAt: new Date(now + template.escalate.afterMs),
  });
}

/**
 * The fallback deliveries a batch of results calls for: each recipient with a delivery that failed
 * (permanently, or out of retries) on a first-wave channel gets the template's fallback channels, with
 * the failure as its reason; a failed group post falls back for every recipient. Returns how many were
 * added (the caller sends them).
 */
export async function addFallbacks(
  sql: TransactionalSqlClient,
  env: Envelope,
  template: ResolvedTemplate,
  claimed: readonly DeliveryRow[],
  results: readonly AttemptResult[],
): Promise<number> {
  const fallback = template.fallback;
  if (!fallback?.length) return 0;
  const rowOf = new Map(claimed.map((d) => [d.id, d]));
  const reasonFor = new Map<number, string>();
  for (const r of results) {
    const row = rowOf.get(r.deliveryId);
    if (r.status !== 'failed' || !row || fallback.includes(row.channel)) continue;
    const why = `fallback: ${row.channel} failed: ${r.reason ?? r.errorCode ?? 'permanent failure'}`.slice(
      0,
      500,
    );
    if (row.recipientIndex === null) continue; // a topic member: no fallback (see the README)
    const indices =
      row.recipientIndex === -1 ? audienceOf(env).recipients.map((r) => r.index) : [row.recipientIndex];
    for (const i of indices) if (!reasonFor.has(i)) reasonFor.set(i, why);
  }
  if (!reasonFor.size) return 0;
  const { direct } = await directAudience((ids) => lookupSubscribers(sql, ids), env);
  const rules = { category: template.category, critical: template.critical };
  const firstReason = [...reasonFor.values()][0] as string;
  const planned = planDeliveries(direct, fallback, { group: true, rules })
    .planned.filter(
      (p) => p.recipientIndex === -1 || (p.recipientIndex !== null && reasonFor.has(p.recipientIndex)),
    )
    .map((p) => {
      const cause = (p.recipientIndex !== null && reasonFor.get(p.recipientIndex)) || firstReason;
      return { ...p, cause, ...(p.status === 'queued' ? { reason: cause } : {}) };
    });
  return sql.transaction((tx) =>
    addLaterDeliveries(tx, { messageId: env.id, templateCode: env.template, planned }),
  );
}
