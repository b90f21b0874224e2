import type { FastifyBaseLogger } from 'fastify';
import { envelopeSchema, type Envelope } from '../contract/envelope';
import { describeIssues } from '../contract/zodIssues';
import type { TransactionalSqlClient } from '../db/sqlClient';
import {
  messageStatusOf,
  rejectMessage,
  TERMINAL,
  type AttemptResult,
  type DeliveryRow,
  type MessageStatus,
} from '../delivery/deliveryState';
import type { DeliveryStore } from '../delivery/deliveryStore';
import type { PlannedFollowUp } from '../senders/channel';
import type { DispatchResult, ResolvedTemplate, TemplateResolver } from './dispatchTypes';
import type { PipelineMetrics } from './pipelineMetrics';
import { planDeliveries, selectChannels } from './planDeliveries';
import { sendDeliveries, type SendDeps } from './sendDeliveries';
import { retryWhileInfraDown } from './waitForInfra';
import type { DispatchOptions } from '../scheduler/envelopeJobs';
import { holdIfScheduled } from './scheduledSends';
import type { Scheduler } from '../scheduler/scheduler';

const SENDING_RECHECK_MS = 5000;

export interface DispatchDeps extends SendDeps {
  sql: TransactionalSqlClient;
  /** The hot-path writes, batched across the envelopes in flight (createDeliveryStore). */
  store: DeliveryStore;
  templates: TemplateResolver;
  log: FastifyBaseLogger;
  metrics?: PipelineMetrics;
  /** Schedules channels' later checks durably (RabbitMQ); without it (in-process queue) there are none. */
  followUps?: { schedule(planned: readonly PlannedFollowUp[]): Promise<void> };
  /** Where envelopes with a sendAt or delay ahead wait (src/scheduler); without it they are sent now. */
  scheduler?: Scheduler;
}

const stringField = (input: unknown, key: string): string | undefined => {
  const v = input && typeof input === 'object' ? (input as Record<string, unknown>)[key] : undefined;
  // An id the database cannot hold (NUL) is no key to record a rejection under; the dead letter keeps it.
  return typeof v === 'string' && v.length > 0 && v.length <= 128 && !v.includes('\u0000') ? v : undefined;
};

/**
 * The use-case: one envelope in, deliveries sent and logged. Knows nothing about AMQP; the runners
 * (RabbitMQ or the scheduler) and the tests call it. Safe to call again with the same envelope: what was
 * sent is not sent again, what is due is sent, what waits is reported in `retryInMs`.
 */
export async function dispatch(
  input: unknown,
  deps: DispatchDeps,
  options: DispatchOptions = {},
): Promise<DispatchResult> {
  const parsed = envelopeSchema.safeParse(input);
  if (!parsed.success) {
    return reject(
      deps,
      stringField(input, 'id'),
      stringField(input, 'template'),
      'invalid_envelope',
      describeIssues(parsed.error, { root: 'envelope', limit: 10 }),
    );
  }
  const env = parsed.data;
  let template = await deps.templates.resolve(env.template);
  if (!template)
    return reject(deps, env.id, env.template, 'unknown_template', `no active template "${env.template}"`);
  const selected = selectChannels(env, template.channels);
  if ('unknown' in selected) {
    return reject(
      deps,
      env.id,
      env.template,
      'unknown_channel',
      `template "${env.template}" has no ${selected.unknown.join(', ')} channel`,
    );
  }
  const problems = template.checkData(env.data);
  if (problems.length) return reject(deps, env.id, env.template, 'invalid_variables', problems.join('; '));

  if (!options.due) {
    const held = await holdIfScheduled(env, deps);
    if (held) return held;
  }
  const accepted = await deps.store.accept({
    id: env.id,
    templateCode: env.template,
    templateVersion: template.version,
    source: stringField(env.meta, 'source'),
    traceId: stringField(env.meta, 'traceId'),
    recipientCount: env.to.length,
    envelope: env,
  });
  if (accepted.status === 'cancelled') return { kind: 'done', messageId: env.id, status: 'cancelled' };
  // A redelivered or retried envelope keeps rendering with the version it started with.
  if (accepted.templateVersion !== null && accepted.templateVersion !== template.version) {
    template = (await deps.templates.resolve(env.template, accepted.templateVersion)) ?? template;
  }
  return sendDue(env, template, selected.channels, accepted.status, deps);
}

async function sendDue(
  env: Envelope,
  template: ResolvedTemplate,
  channels: Parameters<typeof planDeliveries>[1],
  storedStatus: MessageStatus,
  deps: DispatchDeps,
): Promise<DispatchResult> {
  const all = await deps.store.ensure({
    messageId: env.id,
    templateCode: env.template,
    planned: planDeliveries(env, channels),
  });
  const claimed = all.some((d) => !TERMINAL.has(d.status)) ? await deps.store.claim(env.id) : [];
  const planned: PlannedFollowUp[] = [];
  const collect = deps.followUps ? (p: PlannedFollowUp[]) => planned.push(...p) : undefined;
  const results = claimed.length ? await sendDeliveries(env, template, claimed, deps, collect) : [];
  if (deps.metrics) countResults(deps.metrics, claimed, results);

  const byId = new Map(all.map((d) => [d.id, { status: d.status, next: d.nextAttemptAt?.getTime() }]));
  for (const c of claimed) byId.set(c.id, { status: c.status, next: c.nextAttemptAt?.getTime() });
  for (const r of results) byId.set(r.deliveryId, { status: r.status, next: r.nextAttemptAt?.getTime() });
  const states = [...byId.values()];
  const status = messageStatusOf(states.map((s) => s.status));
  // The sends have gone out: if the database blinks now, wait and write their outcome rather than fail,
  // or the redelivered envelope would find them claimed and send them again once the lease ran out.
  // Also when nothing was sent: a consumer that died after its sends were recorded in their own
  // transaction (IM) left the message's status behind.
  if (results.length || claimed.length || status !== storedStatus)
    await retryWhileInfraDown(() => deps.store.record(env.id, results, status), {
      stopping: () => false,
      onWait: (err, delayMs) =>
        deps.log.warn(
          { err: (err as Error).message, delayMs, messageId: env.id },
          'database unavailable; holding the outcome of sent deliveries',
        ),
    });

  // Only now that the sent rows are committed: a check must never find its delivery not yet `sent`.
  if (planned.length && deps.followUps) await deps.followUps.schedule(planned);

  // A delivery another consumer is sending (the same id published twice) usually finishes in
  // milliseconds: look again soon rather than at the end of its lease.
  const pending = states
    .filter((s) => !TERMINAL.has(s.status))
    .map((s) => {
      const wait = (s.next ?? deps.now()) - deps.now();
      return s.status === 'sending' ? Math.min(wait, SENDING_RECHECK_MS) : wait;
    });
  const retryInMs = pending.length ? Math.max(0, Math.min(...pending)) : undefined;
  return { kind: 'done', messageId: env.id, status, retryInMs };
}

async function reject(
  deps: DispatchDeps,
  messageId: string | undefined,
  templateCode: string | undefined,
  code: string,
  reason: string,
): Promise<DispatchResult> {
  if (messageId) await rejectMessage(deps.sql, { id: messageId, templateCode, reason: `${code}: ${reason}` });
  deps.log.warn({ messageId, code, reason }, 'envelope rejected');
  return { kind: 'rejected', messageId, code, reason };
}

function countResults(
  metrics: PipelineMetrics,
  claimed: readonly DeliveryRow[],
  results: readonly AttemptResult[],
): void {
  const channelOf = new Map(claimed.map((d) => [d.id, d.channel]));
  for (const r of results) {
    const channel = channelOf.get(r.deliveryId) ?? 'unknown';
    metrics.deliveries.inc({ channel, status: r.status });
    if (r.outcome) metrics.attemptSeconds.observe({ channel, outcome: r.outcome }, r.durationMs / 1000);
    if (r.status === 'retrying') metrics.retries.inc({ channel });
  }
}
