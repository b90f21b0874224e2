import { audienceOf, type Envelope } from '../contract/envelope';
import { parseDuration } from '../contract/duration';
import type { TransactionalSqlClient } from '../db/sqlClient';
import type { DispatchResult } from './dispatchTypes';
import { holdMessage, storedSendAt } from '../delivery/deliveryState';
import { dueEnvelopePayload, ENVELOPE_JOB, envelopePriority } from '../scheduler/envelopeJobs';
import type { Scheduler } from '../scheduler/scheduler';
import { activeTraceId, traceHeadersOf } from '../tracing/traceContext';

/** When the envelope asks to be sent: its sendAt, or its delay counted from the first time it was seen. */
async function dueTimeOf(
  env: Envelope,
  sql: TransactionalSqlClient,
  now: number,
): Promise<number | undefined> {
  if (env.sendAt) return Date.parse(env.sendAt);
  if (!env.delay) return undefined;
  const stored = await storedSendAt(sql, env.id);
  return stored ? stored.getTime() : now + parseDuration(env.delay);
}

/**
 * Holds an envelope whose sendAt or delay lies ahead: the message becomes `scheduled` (no template version
 * yet, so the one current at send time is used) and a keyed envelope row waits in the scheduler, in one
 * transaction. Returns the result to answer, or undefined when the envelope is to be sent now (no time, a
 * time that has passed, or a message that has already started).
 */
export async function holdIfScheduled(
  env: Envelope,
  deps: { sql: TransactionalSqlClient; scheduler?: Scheduler; now(): number },
  critical = false,
): Promise<DispatchResult | undefined> {
  const now = deps.now();
  const due = await dueTimeOf(env, deps.sql, now);
  if (due === undefined || due <= now || !deps.scheduler) return undefined;
  const scheduler = deps.scheduler;
  const trace = traceHeadersOf();
  const status = await deps.sql.transaction(async (tx) => {
    const s = await holdMessage(tx, {
      id: env.id,
      templateCode: env.template,
      source: typeof env.meta?.source === 'string' ? env.meta.source.slice(0, 128) : undefined,
      traceId: typeof env.meta?.traceId === 'string' ? env.meta.traceId.slice(0, 128) : activeTraceId(),
      recipientCount: audienceOf(env).recipients.length,
      envelope: env,
      sendAt: new Date(due),
    });
    if (s === 'scheduled') {
      // When it comes due, the send continues the trace that scheduled it.
      const payload = { ...dueEnvelopePayload(env), ...(trace ? { trace } : {}) };
      // replace: the row may be this very envelope's (the embedded queue's), which must stay for the send.
      await scheduler.schedule(
        {
          kind: ENVELOPE_JOB,
          key: env.id,
          payload,
          dueAt: new Date(due),
          replace: true,
          // When it comes due, a critical send is claimed before the other due work.
          priority: envelopePriority(critical),
        },
        tx,
      );
    }
    return s;
  });
  if (status === 'scheduled' || status === 'cancelled') return { kind: 'done', messageId: env.id, status };
  return undefined;
}
