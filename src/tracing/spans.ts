import {
  context,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type SpanOptions,
  type Tracer,
} from '@opentelemetry/api';
import { ATTR_ERROR_TYPE } from '@opentelemetry/semantic-conventions';

export const TRACER_NAME = 'herald';

/**
 * Asked for at each use, not once: a tracer kept from an SDK that was shut down (the benchmark turns
 * tracing on for one scenario) would go on making spans that are never exported.
 */
export const tracer = (): Tracer => trace.getTracer(TRACER_NAME);

/** Marks the span failed with the error's class as `error.type`; the message may hold an address, so it stays out. */
export function failSpan(span: Span, err: unknown, type?: string): void {
  const name = type ?? (err instanceof Error ? err.name : 'Error');
  span.setAttribute(ATTR_ERROR_TYPE, name);
  span.setStatus({ code: SpanStatusCode.ERROR, message: name });
}

/**
 * Runs `fn` inside a new span, child of `parent` (the active context by default), which is active within
 * `fn` and ended when it settles. Without an OpenTelemetry SDK the span is the API's no-op one.
 */
export async function inSpan<T>(
  name: string,
  options: SpanOptions,
  fn: (span: Span) => Promise<T>,
  parent: Context = context.active(),
): Promise<T> {
  const span = tracer().startSpan(name, options, parent);
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (err) {
    failSpan(span, err);
    throw err;
  } finally {
    span.end();
  }
}
