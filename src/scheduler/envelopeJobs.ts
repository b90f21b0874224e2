import type { FastifyBaseLogger } from 'fastify';
import type { DeadLetterInput } from '../consumer/amqpRunner';
import { MAX_ENVELOPE_BYTES } from '../consumer/amqpRunner';
import { decodeEnvelope } from '../consumer/decodeEnvelope';
import type { DispatchResult } from '../consumer/dispatchTypes';
import type { EnvelopePublisher } from '../consumer/envelopePublisher';
import type { PipelineMetrics } from '../consumer/pipelineMetrics';
import { retryWhileInfraDown } from '../consumer/waitForInfra';
import type { JobHandler, Scheduler } from './scheduler';

/** The job kind of an envelope waiting to be dispatched (embedded queue, scheduled send, their retries). */
export const ENVELOPE_JOB = 'envelope';

export interface EnvelopeJobPayload {
  routingKey: string;
  /** The envelope bytes as received, base64 (they may not be valid JSON or UTF-8: a dead letter's). */
  body: string;
  messageId?: string;
  /** Set on a scheduled send's row: its time has come, so dispatch sends instead of scheduling again. */
  due?: boolean;
}

export interface DispatchOptions {
  /** The envelope's sendAt or delay has passed: send now, whatever the envelope says. */
  due?: boolean;
}

/**
 * Publishing onto the scheduler: the envelope is a committed ScheduledJob row, due now, before publish()
 * resolves (so before the API's 202). The message id is the row's key: publishing it again while it waits
 * adds nothing (dispatch is idempotent on the id anyway).
 */
export function createScheduledEnvelopePublisher(scheduler: Scheduler): EnvelopePublisher {
  return {
    async publish(routingKey, content, messageId) {
      const payload: EnvelopeJobPayload = { routingKey, body: content.toString('base64'), messageId };
      await scheduler.schedule({ kind: ENVELOPE_JOB, key: messageId, payload, dueAt: new Date() });
    },
  };
}

/**
 * Runs one envelope row: decode, dispatch, then record a rejection as a dead letter, or move the row to
 * the time of its next retry. The row goes only when the envelope is finished.
 */
export function createEnvelopeJobHandler(opts: {
  dispatch(input: unknown, options: DispatchOptions): Promise<DispatchResult>;
  recordDeadLetter(d: DeadLetterInput): Promise<void>;
  stopping(): boolean;
  log: FastifyBaseLogger;
  metrics?: PipelineMetrics;
}): JobHandler {
  return async (job) => {
    const p = job.payload as EnvelopeJobPayload;
    const content = Buffer.from(p.body, 'base64');
    const decoded = decodeEnvelope(content, MAX_ENVELOPE_BYTES);
    const result: DispatchResult = decoded.ok
      ? await retryWhileInfraDown(() => opts.dispatch(decoded.value, { due: p.due }), {
          stopping: opts.stopping,
        })
      : { kind: 'rejected', code: decoded.code, reason: decoded.reason, messageId: p.messageId };
    if (result.kind === 'rejected') {
      opts.metrics?.envelopes.inc({ outcome: 'rejected' });
      opts.metrics?.deadLettered.inc({ code: result.code });
      await opts.recordDeadLetter({
        messageId: result.messageId,
        routingKey: p.routingKey,
        code: result.code,
        reason: result.reason,
        payload: content,
      });
      return;
    }
    if (result.retryInMs !== undefined) {
      opts.metrics?.envelopes.inc({ outcome: 'retry_scheduled' });
      // A retry of a send that was due stays due, so the envelope's sendAt cannot hold it back again.
      return { retryAt: new Date(Date.now() + result.retryInMs), payload: p };
    }
    opts.metrics?.envelopes.inc({ outcome: result.status });
  };
}
