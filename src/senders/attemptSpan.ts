import { SpanKind, SpanStatusCode, type Span } from '@opentelemetry/api';
import { ATTR_ERROR_TYPE } from '@opentelemetry/semantic-conventions';
import { tracer } from '../tracing/spans';
import type { JobBase, SendOutcome } from './sender';

/**
 * The span of one send attempt, as a child of the active (dispatch) context. It names the delivery and
 * what the vendor answered (an SMTP reply code, a robot's error code), never an address, a secret or the
 * vendor's message text, which may quote the address.
 */
export function startAttemptSpan(channel: string, job: JobBase): Span {
  return tracer().startSpan(`send ${channel}`, {
    kind: SpanKind.CLIENT,
    attributes: {
      'herald.channel': channel,
      'herald.message.id': job.messageId,
      'herald.delivery.id': job.deliveryId,
      'herald.attempt': job.attempt,
    },
  });
}

/** Records the outcome on the span and ends it. */
export function endAttemptSpan(span: Span, outcome: SendOutcome): void {
  span.setAttribute('herald.send.outcome', outcome.kind);
  if (outcome.kind === 'sent') {
    if (outcome.answer) span.setAttribute('herald.send.answer', outcome.answer);
  } else if (outcome.kind === 'deferred') {
    span.setAttribute('herald.send.retry_after_ms', outcome.retryAfterMs);
  } else {
    span.setAttribute('herald.send.answer', outcome.code);
    span.setAttribute(ATTR_ERROR_TYPE, outcome.code);
    span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.code });
  }
  span.end();
}
