import { trace } from '@opentelemetry/api';
import type { FastifyBaseLogger } from 'fastify';
import {
  audienceOf,
  envelopeSchema,
  type ChannelName,
  type Envelope,
  type Recipient,
} from '../contract/envelope';
import { describeIssues } from '../contract/zodIssues';
import type { TransactionalSqlClient } from '../db/sqlClient';
import {
  claimDueByIds,
  ensureDeliveryPage,
  messageStatusOf,
  rejectMessage,
  tallyDeliveries,
  TERMINAL,
  type AcceptedMessage,
  type AttemptResult,
  type DeliveryRow,
  type EnsuredDelivery,
  type MessageStatus,
} from '../delivery/deliveryState';
import { plannedSkipReason } from '../delivery/statuses';
import type { DeliveryStore } from '../delivery/deliveryStore';
import type { PlannedFollowUp } from '../senders/channel';
import type { DispatchResult, ResolvedTemplate, TemplateResolver } from './dispatchTypes';
import type { PipelineMetrics } from './pipelineMetrics';
import { planDeliveries, planKey, selectChannels, type Plan } from './planDeliveries';
import { sendDeliveries, type SendAudience, type SendDeps } from './sendDeliveries';
import { fillRecipient, type Target } from '../audience/recipients';
import type { SubscriberLookup } from '../audience/subscriberStore';
import { directAudience } from './directAudience';
import { withoutSuppressed } from './suppressedDeliveries';
import type { Suppressions } from '../audience/suppressionList';
import { channelByName } from '../senders/registry';
import { membersAsOf, unknownTopics } from '../audience/topicStore';
import { retryWhileInfraDown } from './waitForInfra';
import type { DispatchOptions } from '../scheduler/envelopeJobs';
import { holdIfScheduled } from './scheduledSends';
import type { Scheduler } from '../scheduler/scheduler';
import type { DigestCollector } from './digests';
import { withAdmission } from './admission';
import { createRenderCache } from './renderCache';
import { addFallbacks, firstChannels, scheduleEscalation } from './laterChannels';
import { activeTraceId } from '../tracing/traceContext';
import { applyAudienceRules } from './audienceRules';
import type { QuietHoursDefaults } from './quietHours';

const SENDING_RECHECK_MS = 5000;
/** The lease a claimed delivery of a topic page holds while it is sent (the pipeline's send lease). */
const SEND_LEASE_MS = 60_000;

export interface DispatchDeps extends SendDeps {
  sql: TransactionalSqlClient;
  /** The hot-path writes, batched across the envelopes in flight (createDeliveryStore). */
  store: DeliveryStore;
  /** The same for critical templates' envelopes: their batches never wait behind ordinary ones. */
  criticalStore?: DeliveryStore;
  /** Directory entries of the envelopes' own recipients (batchedSubscriberLookup on the hot path). */
  directory: SubscriberLookup;
  templates: TemplateResolver;
  log: FastifyBaseLogger;
  metrics?: PipelineMetrics;
  /** Schedules channels' later checks durably (RabbitMQ); without it (in-process queue) there are none. */
  followUps?: { schedule(planned: readonly PlannedFollowUp[]): Promise<void> };
  /** Where envelopes with a sendAt or delay ahead wait (src/scheduler); without it they are sent now. */
  scheduler?: Scheduler;
  /** Collects the deliveries of templates with a digest; without it they are sent one by one. */
  digests?: DigestCollector;
  /** The workspace's quiet hours and the zone of people without one (HERALD_QUIET_HOURS…). */
  quietHours?: QuietHoursDefaults;
  /** The mail suppression list, checked as deliveries are planned (with a throttle) and sent. */
  suppressions: Suppressions;
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
  trace.getActiveSpan()?.setAttribute('herald.template', env.template);
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

  // A critical envelope's writes go in batches of their own, never behind a topic page's 500 rows.
  const lane = template.critical && deps.criticalStore ? { ...deps, store: deps.criticalStore } : deps;
  if (!options.due) {
    const held = await holdIfScheduled(env, lane, template.critical);
    if (held) return held;
  }
  const accepted = await lane.store.accept({
    id: env.id,
    templateCode: env.template,
    templateVersion: template.version,
    source: stringField(env.meta, 'source'),
    // The business's own id if it gave one, else the trace it came in on: GET /v1/messages/:id names it.
    traceId: stringField(env.meta, 'traceId') ?? activeTraceId(),
    recipientCount: audienceOf(env).recipients.length,
    envelope: env,
  });
  if (accepted.status === 'cancelled' || accepted.purged)
    return { kind: 'done', messageId: env.id, status: accepted.status };
  // A redelivered or retried envelope keeps rendering with the version it started with.
  if (accepted.templateVersion !== null && accepted.templateVersion !== template.version) {
    template = (await lane.templates.resolve(env.template, accepted.templateVersion)) ?? template;
  }
  const channels = firstChannels(selected.channels, template);
  if (accepted.status === 'accepted' && template.escalate && lane.scheduler)
    await scheduleEscalation(lane.scheduler, env, template, lane.now());
  return sendDue(env, template, { first: channels, all: selected.channels }, accepted, lane);
}

/** The channels sent at first, and all the envelope selected (escalation and fallback channels too). */
interface SendChannels {
  first: readonly ChannelName[];
  all: readonly ChannelName[];
}

async function sendDue(
  env: Envelope,
  template: ResolvedTemplate,
  channels: SendChannels,
  accepted: AcceptedMessage,
  deps: DispatchDeps,
): Promise<DispatchResult> {
  const { direct, mentions } = await directAudience(deps.directory, env);
  const rules = { category: template.category, critical: template.critical };
  const plan = planDeliveries(direct, channels.first, { group: true, rules });
  if (audienceOf(env).topics.length)
    return sendToTopics(env, template, channels.first, { plan, mentions, direct, accepted }, deps);
  // Deliveries added later (escalation, fallback) are on the other channels: their recipients too.
  const known =
    channels.all.length === channels.first.length
      ? plan
      : planDeliveries(direct, channels.all, { group: true, rules });

  const renders = createRenderCache(env, template);
  const planned = await withAdmission(env, template, plan, renders, deps);
  const ensure = () => deps.store.ensure({ messageId: env.id, templateCode: env.template, planned });
  const ensured = await ensure();
  countPlannedSkips(deps.metrics, ensured);
  const sendAudience = { ...audienceFor(known, mentions), renders };
  const all = await applyAudienceRules(env, template, ensured, sendAudience, deps, ensure);
  const claimed = all.some((d) => !TERMINAL.has(d.status)) ? await deps.store.claim(env.id) : [];
  const { results, followUps, merged } = await sendClaimed(env, template, claimed, deps, sendAudience);

  const byId = new Map(all.map((d) => [d.id, { status: d.status, next: d.nextAttemptAt?.getTime() }]));
  for (const c of claimed) byId.set(c.id, { status: c.status, next: c.nextAttemptAt?.getTime() });
  for (const r of results) byId.set(r.deliveryId, { status: r.status, next: r.nextAttemptAt?.getTime() });
  for (const id of merged) byId.set(id, { status: 'digested', next: undefined });
  const states = [...byId.values()];
  // A permanent failure calls for the template's fallback channels: added before the outcome is
  // recorded, so the message never reads finished while its fallback is still to be sent.
  const fellBack = template.fallback ? await addFallbacks(deps.sql, env, template, claimed, results) : 0;
  const status = fellBack ? 'dispatched' : messageStatusOf(states.map((s) => s.status));
  // The sends have gone out: if the database blinks now, wait and write their outcome rather than fail,
  // or the redelivered envelope would find them claimed and send them again once the lease ran out.
  // Also when nothing was sent: a consumer that died after its sends were recorded in their own
  // transaction (IM) left the message's status behind.
  if (results.length || claimed.length || status !== accepted.status)
    await recordHeld(env.id, results, status, deps);

  // Only now that the sent rows are committed: a check must never find its delivery not yet `sent`.
  if (followUps.length && deps.followUps) await deps.followUps.schedule(followUps);

  if (fellBack) return sendDue(env, template, channels, { ...accepted, status: 'dispatched' }, deps);

  // A delivery another consumer is sending (the same id published twice) usually finishes in
  // milliseconds: look again soon rather than at the end of its lease. A deferred one has its own
  // scheduler row (quietHours.ts), so the envelope does not circle the retry queues for hours.
  const pending = states
    .filter((s) => !TERMINAL.has(s.status) && s.status !== 'deferred')
    .map((s) => {
      const wait = (s.next ?? deps.now()) - deps.now();
      return s.status === 'sending' ? Math.min(wait, SENDING_RECHECK_MS) : wait;
    });
  const retryInMs = pending.length ? Math.max(0, Math.min(...pending)) : undefined;
  return { kind: 'done', messageId: env.id, status, retryInMs };
}

function audienceFor(plan: Plan, mentions: readonly Recipient[]): SendAudience {
  return {
    recipientOf: (row) => plan.recipients.get(planKey(row.channel, row.recipientKey)),
    subscriberOf: (row) => plan.subscribers.get(planKey(row.channel, row.recipientKey)),
    mentions,
  };
}

async function sendClaimed(
  env: Envelope,
  template: ResolvedTemplate,
  claimed: readonly DeliveryRow[],
  deps: DispatchDeps,
  audience: SendAudience,
): Promise<{ results: AttemptResult[]; followUps: PlannedFollowUp[]; merged: string[] }> {
  const followUps: PlannedFollowUp[] = [];
  const collect = deps.followUps ? (p: PlannedFollowUp[]) => followUps.push(...p) : undefined;
  const { send, skipped } = await withoutSuppressed(
    deps.sql,
    deps.suppressions,
    claimed,
    audience,
    template.critical,
  );
  const sent = send.length ? await sendDeliveries(env, template, send, deps, audience, collect) : [];
  const all = [...skipped, ...sent];
  if (deps.metrics) countResults(deps.metrics, claimed, all);
  const { results, merged } = await mergeRateLimited(env, template, claimed, all, deps, audience);
  return { results, followUps, merged };
}

/**
 * digest.onRateLimit: the robot posts the rate budget made wait go into one digest post each robot sends
 * when a slot frees, instead of waiting one by one. Should that fail, they wait as usual: the sends that
 * did go out must still be recorded.
 */
async function mergeRateLimited(
  env: Envelope,
  template: ResolvedTemplate,
  claimed: readonly DeliveryRow[],
  results: AttemptResult[],
  deps: DispatchDeps,
  audience: SendAudience,
): Promise<{ results: AttemptResult[]; merged: string[] }> {
  if (!template.mergeOnRateLimit || !deps.digests || !results.some((r) => r.outcome === 'waiting'))
    return { results, merged: [] };
  try {
    const m = await deps.digests.mergeWaiting({
      env,
      claimed,
      results,
      mentions: audience.mentions,
      now: deps.now(),
    });
    return { results: m.results, merged: [...m.merged.keys()] };
  } catch (err) {
    deps.log.warn(
      { err: (err as Error).message, messageId: env.id },
      'could not merge robot posts waiting for the rate budget; they wait one by one',
    );
    return { results, merged: [] };
  }
}

function recordHeld(
  messageId: string,
  results: readonly AttemptResult[],
  status: MessageStatus,
  deps: DispatchDeps,
): Promise<void> {
  return retryWhileInfraDown(() => deps.store.record(messageId, results, status), {
    stopping: () => false,
    onWait: (err, delayMs) =>
      deps.log.warn(
        { err: (err as Error).message, delayMs, messageId },
        'database unavailable; holding the outcome of sent deliveries',
      ),
  });
}

/** Members per page of a topic expansion: what one step holds in memory. */
const TOPIC_PAGE = 500;
/** Topic pages sent at once by one envelope. */
const TOPIC_PAGES_IN_FLIGHT = 2;

/**
 * An envelope with topics: the envelope's own recipients and group posts first, then the topics' members
 * as they stood at `acceptedAt`, a page at a time in userId order (a redelivery walks the same pages and
 * sends only what is still due). Someone the envelope names, or in two topics, gets one delivery.
 */
async function sendToTopics(
  env: Envelope,
  template: ResolvedTemplate,
  channels: readonly ChannelName[],
  first: { plan: Plan; mentions: readonly Recipient[]; direct: readonly Target[]; accepted: AcceptedMessage },
  deps: DispatchDeps,
): Promise<DispatchResult> {
  const topics = audienceOf(env).topics;
  const missing = await unknownTopics(deps.sql, topics);
  if (missing.length && first.accepted.status === 'accepted')
    return reject(
      deps,
      env.id,
      env.template,
      'unknown_topic',
      `no topic ${missing.map((k) => `"${k}"`).join(', ')}`,
    );
  const named = new Set(first.direct.flatMap((t) => (t.recipient.userId ? [t.recipient.userId] : [])));
  const rules = { category: template.category, critical: template.critical };

  const sendPage = async (plan: Plan) => {
    const renders = createRenderCache(env, template);
    const planned = await withAdmission(env, template, plan, renders, deps);
    const page = { messageId: env.id, templateCode: env.template, planned };
    const reread = () => ensureDeliveryPage(deps.sql, page);
    const ensured = await reread();
    countPlannedSkips(deps.metrics, ensured);
    const sendAudience = { ...audienceFor(plan, first.mentions), renders };
    const rows = await applyAudienceRules(env, template, ensured, sendAudience, deps, reread);
    const due = rows.filter((d) => !TERMINAL.has(d.status)).map((d) => d.id);
    const claimed = await claimDueByIds(deps.sql, env.id, due, SEND_LEASE_MS);
    const { results, followUps } = await sendClaimed(env, template, claimed, deps, sendAudience);
    if (results.length) await recordHeld(env.id, results, 'dispatched', deps);
    if (followUps.length && deps.followUps) await deps.followUps.schedule(followUps);
  };

  await sendPage(first.plan);
  // Members get only per-person channels: a message on group posts alone (a robot's digest) reads none.
  const perPerson = channels.some((c) => channelByName.get(c)?.fanOut !== 'group');
  // Pages overlap: while PostgreSQL writes one, this process reads and plans the next, so a topic keeps
  // both the database and the process busy instead of taking turns. Pages hold different members, so
  // they never wait on each other's rows.
  const inFlight: Array<Promise<void>> = [];
  try {
    let after = '';
    while (perPerson) {
      const page = await membersAsOf(deps.sql, topics, first.accepted.acceptedAt, after, TOPIC_PAGE);
      const last = page[page.length - 1];
      if (!last) break;
      after = last.userId;
      const targets: Target[] = page
        .filter((m) => !named.has(m.userId))
        .map((m) => ({
          index: null,
          recipient: fillRecipient({ userId: m.userId }, m.subscriber),
          subscriber: m.subscriber,
        }));
      const sent = sendPage(planDeliveries(targets, channels, { group: false, rules }));
      sent.catch(() => undefined); // awaited below, in order; this only keeps a later page's failure handled
      inFlight.push(sent);
      if (inFlight.length >= TOPIC_PAGES_IN_FLIGHT) await inFlight.shift();
    }
    for (let sent = inFlight.shift(); sent; sent = inFlight.shift()) await sent;
  } finally {
    // A failed page fails the envelope only once no other page of it is still writing.
    await Promise.allSettled(inFlight);
  }

  const tally = await tallyDeliveries(deps.sql, env.id);
  const status = messageStatusOf([...tally.counts].flatMap(([s, n]) => (n > 0 ? [s] : [])));
  await recordHeld(env.id, [], status, deps);
  const waits = [
    tally.nextDue && tally.nextDue.getTime() - deps.now(),
    tally.sendingDue && Math.min(tally.sendingDue.getTime() - deps.now(), SENDING_RECHECK_MS),
  ].filter((w): w is number => w !== undefined);
  const retryInMs = waits.length ? Math.max(0, Math.min(...waits)) : undefined;
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

/** Skips the ensure step just recorded (preference, no address, deduplicated, throttled), once each. */
function countPlannedSkips(metrics: PipelineMetrics | undefined, rows: readonly EnsuredDelivery[]): void {
  if (!metrics) return;
  for (const r of rows)
    if (r.skippedNow)
      metrics.deliveries.inc({
        channel: r.channel,
        status: 'skipped',
        reason: plannedSkipReason(r.skippedNow),
      });
}

function countResults(
  metrics: PipelineMetrics,
  claimed: readonly DeliveryRow[],
  results: readonly AttemptResult[],
): void {
  const channelOf = new Map(claimed.map((d) => [d.id, d.channel]));
  for (const r of results) {
    const channel = channelOf.get(r.deliveryId) ?? 'unknown';
    // A skip decided at send time (suppressed, or a channel finding no address) by its reason too.
    metrics.deliveries.inc({
      channel,
      status: r.status,
      ...(r.status === 'skipped' ? { reason: plannedSkipReason(r.reason ?? '') } : {}),
    });
    if (r.outcome) metrics.attemptSeconds.observe({ channel, outcome: r.outcome }, r.durationMs / 1000);
    if (r.status === 'retrying') metrics.retries.inc({ channel });
  }
}
