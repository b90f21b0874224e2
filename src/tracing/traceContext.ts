import {
  context,
  defaultTextMapSetter,
  isSpanContextValid,
  ROOT_CONTEXT,
  trace,
  type Context,
  type TextMapGetter,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

/** W3C trace context as it travels with an envelope: AMQP headers, the scheduler's row, HTTP headers. */
export interface TraceHeaders {
  traceparent: string;
  tracestate?: string;
}

/**
 * Always W3C, whatever propagator the process registered: `traceparent` is the header the envelope
 * contract names, so the SDK writes it and Herald reads it even where no OpenTelemetry SDK is set up.
 */
const w3c = new W3CTraceContextPropagator();

type Carrier = Record<string, unknown>;
const getter: TextMapGetter<Carrier> = {
  keys: (carrier) => Object.keys(carrier),
  get(carrier, key) {
    const v = carrier[key];
    if (typeof v === 'string') return v;
    // A raw AMQP publisher may send the header as bytes; HTTP may repeat it.
    if (Buffer.isBuffer(v)) return v.toString('utf8');
    if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
    return undefined;
  },
};

/** The trace context of `ctx` (the active one by default) as headers; undefined when there is no span. */
export function traceHeadersOf(ctx: Context = context.active()): TraceHeaders | undefined {
  const carrier: Record<string, string> = {};
  w3c.inject(ctx, carrier, defaultTextMapSetter);
  const { traceparent, tracestate } = carrier;
  if (!traceparent) return undefined;
  return tracestate ? { traceparent, tracestate } : { traceparent };
}

/** The remote parent named by `traceparent`/`tracestate` in `headers`; the root context without one. */
export function contextFromHeaders(headers: Carrier | undefined): Context {
  if (!headers || headers.traceparent === undefined) return ROOT_CONTEXT;
  return w3c.extract(ROOT_CONTEXT, headers, getter);
}

/** The W3C trace id of the active span, when Herald is tracing and there is one. */
export function activeTraceId(): string | undefined {
  const sc = trace.getSpanContext(context.active());
  return sc && isSpanContextValid(sc) ? sc.traceId : undefined;
}
