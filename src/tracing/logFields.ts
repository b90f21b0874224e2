import { context, isSpanContextValid, trace } from '@opentelemetry/api';

/** pino's mixin while tracing: every line written inside a span names it, as trace_id and span_id. */
export function traceLogFields(): { trace_id?: string; span_id?: string } {
  const sc = trace.getSpan(context.active())?.spanContext();
  return sc && isSpanContextValid(sc) ? { trace_id: sc.traceId, span_id: sc.spanId } : {};
}
