import { context, diag, DiagLogLevel, propagation, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import {
  defaultResource,
  detectResources,
  envDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

/** The OTEL_* variables Herald decides on (src/config/envSchema.ts); the SDK reads the others itself. */
export interface TracingEnv {
  OTEL_SDK_DISABLED: boolean;
  OTEL_TRACES_EXPORTER: 'otlp' | 'none';
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string;
  OTEL_SERVICE_NAME?: string;
}

export interface Tracing {
  /** Whether an SDK runs and exports; false: only the API's no-op tracer is there. */
  readonly enabled: boolean;
  /** Where spans go (`…/v1/traces`, without credentials or query), when enabled. */
  readonly endpoint?: string;
  /** Exports what has ended and not yet gone out. */
  flush(): Promise<void>;
  /** Flushes, stops the SDK and unregisters it, leaving the no-op API behind. */
  shutdown(): Promise<void>;
}

interface DiagLog {
  warn(obj: object, msg: string): void;
}

/** The OTLP/HTTP traces URL the environment names, as the OTLP exporter specification derives it. */
export function tracesEndpoint(env: TracingEnv): string | undefined {
  if (env.OTEL_SDK_DISABLED || env.OTEL_TRACES_EXPORTER === 'none') return undefined;
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT)
    return `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`;
  return undefined;
}

const OFF: Tracing = { enabled: false, flush: async () => undefined, shutdown: async () => undefined };

/**
 * Starts the OpenTelemetry SDK when the environment names an OTLP endpoint: spans batched and exported as
 * OTLP/HTTP JSON, W3C trace context, async-local context across awaits. Without an endpoint nothing is
 * started, and every span Herald opens is the API's no-op one. The exporter's headers, timeout and
 * compression, the sampler, the batch sizes and OTEL_RESOURCE_ATTRIBUTES come from the SDK's own reading
 * of the OTEL_* variables.
 */
export function startTracing(env: TracingEnv, log?: DiagLog): Tracing {
  const url = tracesEndpoint(env);
  if (!url) return OFF;
  const resource = defaultResource()
    .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: 'herald' }))
    .merge(detectResources({ detectors: [envDetector] }))
    .merge(
      env.OTEL_SERVICE_NAME ? resourceFromAttributes({ [ATTR_SERVICE_NAME]: env.OTEL_SERVICE_NAME }) : null,
    );
  const provider = new NodeTracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }))],
  });
  provider.register();
  if (log) {
    // The SDK's own trouble (a collector that cannot be reached) in Herald's log; never its headers.
    const warn = (message: string) => log.warn({ component: 'opentelemetry' }, message);
    diag.setLogger(
      { error: warn, warn, info: () => undefined, debug: () => undefined, verbose: () => undefined },
      DiagLogLevel.WARN,
    );
  }
  const shown = new URL(url);
  return {
    enabled: true,
    // Credentials in the URL stay out of what is logged; the exporter's headers are never shown.
    endpoint: `${shown.origin}${shown.pathname}`,
    flush: () => provider.forceFlush(),
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
      diag.disable();
    },
  };
}
