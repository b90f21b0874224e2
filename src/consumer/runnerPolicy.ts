import type { DispatchResult } from './dispatchTypes';
import { decodeEnvelope } from './decodeEnvelope';
import type { PipelineMetrics } from './pipelineMetrics';
import { retryWhileInfraDown } from './waitForInfra';
import { failSpan, inSpan, tracer } from '../tracing/spans';

/** Envelopes larger than this are dead-lettered unread. */
export const MAX_ENVELOPE_BYTES = 1024 * 1024;

/** What a transport does with an envelope once it has been dispatched. */
export type RunnerAction =
  | { kind: 'ack'; status: string }
  | { kind: 'retryLater'; delayMs: number; messageId: string }
  | { kind: 'deadLetter'; code: string; reason: string; messageId?: string };

/**
 * The one policy both transports (RabbitMQ, the scheduler's table) carry out: rejected envelopes are
 * dead-lettered, envelopes with deliveries still due come back later, everything else is acked.
 */
export function decideAfterDispatch(result: DispatchResult): RunnerAction {
  if (result.kind === 'rejected')
    return { kind: 'deadLetter', code: result.code, reason: result.reason, messageId: result.messageId };
  if (result.retryInMs !== undefined)
    return { kind: 'retryLater', delayMs: result.retryInMs, messageId: result.messageId };
  return { kind: 'ack', status: result.status };
}

export interface RunEnvelopeOptions {
  dispatch(input: unknown): Promise<DispatchResult>;
  /** While the database is down the envelope is held, unless the runner is stopping. */
  stopping(): boolean;
  onInfraWait?(err: unknown, delayMs: number): void;
  metrics?: PipelineMetrics;
}

/** Decodes and dispatches raw envelope bytes and decides what becomes of them (counted in metrics). */
export async function runEnvelope(content: Buffer, opts: RunEnvelopeOptions): Promise<RunnerAction> {
  const decodeSpan = tracer().startSpan('decode', {
    attributes: { 'herald.envelope.bytes': content.length },
  });
  const decoded = decodeEnvelope(content, MAX_ENVELOPE_BYTES);
  if (!decoded.ok) failSpan(decodeSpan, undefined, decoded.code);
  decodeSpan.end();
  const action: RunnerAction = decoded.ok
    ? decideAfterDispatch(
        await inSpan('dispatch', {}, async (span) => {
          const result = await retryWhileInfraDown(() => opts.dispatch(decoded.value), {
            stopping: opts.stopping,
            onWait: opts.onInfraWait,
          });
          if (result.messageId) span.setAttribute('herald.message.id', result.messageId);
          if (result.kind === 'rejected') failSpan(span, undefined, result.code);
          else span.setAttribute('herald.message.status', result.status);
          return result;
        }),
      )
    : { kind: 'deadLetter', code: decoded.code, reason: decoded.reason };
  const m = opts.metrics;
  if (action.kind === 'deadLetter') {
    m?.envelopes.inc({ outcome: 'rejected' });
    m?.deadLettered.inc({ code: action.code });
  } else if (action.kind === 'retryLater') m?.envelopes.inc({ outcome: 'retry_scheduled' });
  else m?.envelopes.inc({ outcome: action.status });
  return action;
}
