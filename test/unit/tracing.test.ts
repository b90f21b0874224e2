import { Writable } from 'node:stream';
import { context, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import pino from 'pino';
import { ConfigError, loadConfig } from '../../src/config/loadConfig';
import { traceLogFields } from '../../src/tracing/logFields';
import { contextFromHeaders, traceHeadersOf } from '../../src/tracing/traceContext';
import { startTracing, tracesEndpoint } from '../../src/tracing/tracing';

const PARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('tracing configuration', () => {
  it('derives the OTLP traces URL as the exporter specification does', () => {
    expect(tracesEndpoint(loadConfig({}))).toBeUndefined();
    expect(tracesEndpoint(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }))).toBe(
      'http://collector:4318/v1/traces',
    );
    expect(
      tracesEndpoint(
        loadConfig({
          OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example.com/otlp',
        }),
      ),
    ).toBe('https://traces.example.com/otlp');
    const off = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    expect(tracesEndpoint(loadConfig({ ...off, OTEL_SDK_DISABLED: 'TRUE' }))).toBeUndefined();
    expect(tracesEndpoint(loadConfig({ ...off, OTEL_TRACES_EXPORTER: 'none' }))).toBeUndefined();
    expect(tracesEndpoint(loadConfig({ ...off, OTEL_SDK_DISABLED: 'false' }))).toBe(
      'http://collector:4318/v1/traces',
    );
  });

  it('refuses what it would not honour: another protocol or exporter, an endpoint that is no URL', () => {
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' })).toThrow(/http\/json/);
    expect(() => loadConfig({ OTEL_TRACES_EXPORTER: 'zipkin' })).toThrow(ConfigError);
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(
      /OTEL_EXPORTER_OTLP_ENDPOINT/,
    );
  });

  it('starts no SDK without an endpoint: spans are the no-op API', async () => {
    const tracing = startTracing(loadConfig({}));
    expect(tracing.enabled).toBe(false);
    const span = trace.getTracer('t').startSpan('nothing');
    expect(span.isRecording()).toBe(false);
    expect(span.spanContext().traceId).toBe('00000000000000000000000000000000');
    span.end();
    await tracing.shutdown();
  });

  it('names the endpoint without its credentials', async () => {
    const tracing = startTracing(
      loadConfig({
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://user:s3cret@traces.example.com/v1/traces?key=k',
      }),
    );
    try {
      expect(tracing.enabled).toBe(true);
      expect(tracing.endpoint).toBe('https://traces.example.com/v1/traces');
      expect(trace.getTracer('t').startSpan('recorded').isRecording()).toBe(true);
    } finally {
      await tracing.shutdown();
    }
    // Shut down, the API is the no-op one again.
    expect(trace.getTracer('t').startSpan('after').isRecording()).toBe(false);
  });
});

describe('W3C trace context headers', () => {
  it('reads traceparent and tracestate, as strings or as the bytes a raw AMQP publisher may send', () => {
    for (const headers of [
      { traceparent: PARENT, tracestate: 'shop=1' },
      { traceparent: Buffer.from(PARENT), tracestate: Buffer.from('shop=1') },
      { traceparent: [PARENT], tracestate: ['shop=1'] },
    ]) {
      const sc = trace.getSpanContext(contextFromHeaders(headers));
      expect(sc).toMatchObject({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' });
      expect(sc?.isRemote).toBe(true);
      expect(traceHeadersOf(contextFromHeaders(headers))).toEqual({
        traceparent: PARENT,
        tracestate: 'shop=1',
      });
    }
  });

  it('ignores what is not a valid traceparent, and writes nothing without a span', () => {
    expect(contextFromHeaders(undefined)).toBe(ROOT_CONTEXT);
    expect(trace.getSpanContext(contextFromHeaders({ traceparent: 'not-a-trace' }))).toBeUndefined();
    expect(
      trace.getSpanContext(
        contextFromHeaders({ traceparent: '00-00000000000000000000000000000000-b7ad6b7169203331-01' }),
      ),
    ).toBeUndefined();
    expect(traceHeadersOf(ROOT_CONTEXT)).toBeUndefined();
  });
});

describe('log lines inside spans', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  beforeAll(() => provider.register());
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
  });

  it('carry trace_id and span_id of the active span, and none outside one', () => {
    const lines: Array<Record<string, unknown>> = [];
    const out = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
        done();
      },
    });
    const log = pino({ mixin: traceLogFields }, out);
    log.info('outside');
    let ids = { traceId: '', spanId: '' };
    trace.getTracer('t').startActiveSpan('work', (span) => {
      ids = span.spanContext();
      log.info('inside');
      span.end();
    });
    expect(lines[0]).not.toHaveProperty('trace_id');
    expect(lines[0]).not.toHaveProperty('span_id');
    expect(lines[1]).toMatchObject({ msg: 'inside', trace_id: ids.traceId, span_id: ids.spanId });
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['work']);
  });
});
