import { randomBytes } from 'node:crypto';
import { trace } from '@opentelemetry/api';
import amqplib from 'amqplib';
import { signUserToken } from '../../src/auth/userToken';
import { publishConfirmed } from '../../src/broker/confirmPublish';
import { topologyNames } from '../../src/broker/topologyNames';
import { loadConfig } from '../../src/config/loadConfig';
import { createHeraldPublisher, type HeraldPublisher } from '../../src/sdk/publisher';
import { startTracing, type Tracing } from '../../src/tracing/tracing';
import { connect, type TestClient } from '../gateway/support/wsClient';
import { startSmtpSink, type SmtpSink } from '../senders/support/smtpSink';
import { heraldApi, orderShipped, type HeraldApi } from '../support/heraldApi';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlpReceiver';
import { describeWith, TEST_AMQP_URL } from '../support/services';
import { ADMIN_TOKEN } from '../support/testApp';
import { createTestDeployment, eventually, JWT_SECRET, type TestDeployment } from '../support/testHerald';

const PRODUCER = 4;
const CONSUMER = 5;
const CLIENT = 3;
const ERROR = 2;
const EMAIL = 'li.trace@example.com';

/**
 * Issue 17, traces across the hop: the SDK, POST /v1/messages and a raw AMQP publisher hand their W3C trace
 * context to Herald with the envelope; the consumer (one instance) and the gateway (another, reached over
 * the IM bus on RabbitMQ) continue it, and a local OTLP/HTTP collector receives it as one trace.
 */
describeWith(['postgres', 'rabbitmq'], 'traces across the hop (OTLP/HTTP to a local collector)', () => {
  jest.setTimeout(90_000);
  let receiver: OtlpReceiver;
  let tracing: Tracing;
  let dep: TestDeployment;
  let api: HeraldApi;
  let sink: SmtpSink;
  let sdk: HeraldPublisher;
  let client: TestClient;
  let baseUrl: string;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    tracing = startTracing(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url }));
    dep = createTestDeployment();
    const worker = await dep.start({ HERALD_ROLES: 'api,consumer' });
    const gateway = await dep.start({ HERALD_ROLES: 'gateway' });
    baseUrl = worker.baseUrl;
    api = heraldApi(worker.baseUrl);
    sink = await startSmtpSink();
    await api.createSmtpAccount('sink', sink.port);
    await api.createTemplate(orderShipped('traced'));
    sdk = await createHeraldPublisher({ url: TEST_AMQP_URL, prefix: dep.prefix });
    client = await connect(gateway.baseUrl, { token: signUserToken(JWT_SECRET, 'u-trace') });
  });
  afterAll(async () => {
    client?.ws.close();
    await sdk?.close();
    await dep?.destroy();
    await sink?.close();
    await tracing?.shutdown();
    await receiver?.close();
  });

  const envelope = (id: string) => ({
    id,
    template: 'traced',
    to: [{ userId: 'u-trace', email: EMAIL, name: 'Li' }],
    data: { orderNo: id },
  });

  /** Waits for the message's mail and socket push, then for the trace's spans to reach the collector. */
  async function traceOf(id: string, traceId: string, spanNames: string[]): Promise<ReceivedSpan[]> {
    expect(await api.finished(id)).toMatchObject({ status: 'completed' });
    await client.waitFor('message', (f) => f.item.title === `Order ${id}`, 20_000);
    await eventually(
      async () => sink.messages.some((m) => m.subject === `Order ${id} shipped`),
      20_000,
      `the mail of ${id}`,
    );
    return eventually(
      async () => {
        await tracing.flush();
        const spans = receiver.spans.filter((s) => s.traceId === traceId);
        const names = new Set(spans.map((s) => s.name));
        return spanNames.every((n) => names.has(n)) ? spans : undefined;
      },
      20_000,
      `spans ${spanNames.join(', ')} of trace ${traceId}`,
    );
  }

  /** The one span of this name in the trace. */
  function only(spans: ReceivedSpan[], name: string): ReceivedSpan {
    const found = spans.filter((s) => s.name === name);
    expect(found.map((s) => s.name)).toEqual([name]);
    return found[0] as ReceivedSpan;
  }

  /** Span names from `span` up to the trace's root (or a parent the trace does not hold). */
  function ancestry(spans: ReceivedSpan[], span: ReceivedSpan): string[] {
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const names: string[] = [];
    for (let s: ReceivedSpan | undefined = span; s; s = byId.get(s.parentSpanId)) names.push(s.name);
    return names;
  }

  const dispatchQueue = () => `process ${topologyNames(dep.prefix).dispatch}`;
  const exchangeSend = () => `send ${topologyNames(dep.prefix).exchange}`;

  it('an envelope published with the SDK inside a span arrives as one trace, from the caller to the socket push', async () => {
    const caller = trace.getTracer('test-caller');
    let traceId = '';
    await caller.startActiveSpan('checkout', async (span) => {
      traceId = span.spanContext().traceId;
      await sdk.publish(envelope('trace-sdk'));
      span.end();
    });
    const spans = await traceOf('trace-sdk', traceId, [
      'checkout',
      exchangeSend(),
      dispatchQueue(),
      'decode',
      'dispatch',
      'render',
      'send mail',
      'send im',
      'publish im',
      'push im',
    ]);

    // Without a meta.traceId the message row names the trace, for whoever reads it over the API.
    expect(await api.message('trace-sdk')).toMatchObject({ traceId });
    const root = only(spans, 'checkout');
    expect(root.parentSpanId).toBe('');
    const publish = only(spans, exchangeSend());
    expect(publish.kind).toBe(PRODUCER);
    expect(publish.attributes['messaging.message.id']).toBe('trace-sdk');
    const processing = only(spans, dispatchQueue());
    expect(processing.kind).toBe(CONSUMER);
    expect(ancestry(spans, processing)).toEqual([dispatchQueue(), exchangeSend(), 'checkout']);
    expect(ancestry(spans, only(spans, 'decode'))).toEqual([
      'decode',
      dispatchQueue(),
      exchangeSend(),
      'checkout',
    ]);
    const dispatch = only(spans, 'dispatch');
    expect(ancestry(spans, dispatch)).toEqual(['dispatch', dispatchQueue(), exchangeSend(), 'checkout']);
    expect(dispatch.attributes).toMatchObject({
      'herald.message.id': 'trace-sdk',
      'herald.template': 'traced',
      'herald.message.status': 'completed',
    });
    expect(ancestry(spans, only(spans, 'render'))[1]).toBe('dispatch');

    const mail = only(spans, 'send mail');
    expect(mail.kind).toBe(CLIENT);
    expect(ancestry(spans, mail).slice(1)).toEqual(['dispatch', dispatchQueue(), exchangeSend(), 'checkout']);
    expect(mail.attributes).toMatchObject({
      'herald.channel': 'mail',
      'herald.message.id': 'trace-sdk',
      'herald.attempt': 1,
      'herald.send.outcome': 'sent',
      'herald.send.answer': '250',
    });
    expect(mail.status).not.toBe(ERROR);

    // The push ran on the gateway instance: its only link to the trace is the IM bus event's headers.
    const push = only(spans, 'push im');
    expect(push.kind).toBe(CONSUMER);
    expect(push.attributes['herald.im.sockets']).toBe(1);
    expect(ancestry(spans, push)).toEqual([
      'push im',
      'publish im',
      'send im',
      'dispatch',
      dispatchQueue(),
      exchangeSend(),
      'checkout',
    ]);
    // Children start within their parents (clocks of one process).
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    for (const s of spans) {
      const parent = byId.get(s.parentSpanId);
      if (parent && s.name !== 'push im') expect(s.startNs >= parent.startNs).toBe(true);
    }
    // Nothing of the recipient's address in any span.
    expect(JSON.stringify(spans, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).not.toContain(
      'li.trace',
    );
  });

  it('a raw AMQP publish with a traceparent header joins its trace', async () => {
    const traceId = randomBytes(16).toString('hex');
    const parentSpanId = randomBytes(8).toString('hex');
    const names = topologyNames(dep.prefix);
    const conn = await amqplib.connect(TEST_AMQP_URL);
    try {
      const ch = await conn.createConfirmChannel();
      await publishConfirmed(
        ch,
        names.exchange,
        'notify.traced',
        Buffer.from(JSON.stringify(envelope('trace-raw'))),
        {
          contentType: 'application/json',
          messageId: 'trace-raw',
          headers: { traceparent: `00-${traceId}-${parentSpanId}-01`, tracestate: 'shop=raw' },
        },
      );
      await ch.close();
    } finally {
      await conn.close();
    }
    const spans = await traceOf('trace-raw', traceId, [dispatchQueue(), 'dispatch', 'send mail', 'push im']);
    const processing = only(spans, dispatchQueue());
    expect(processing.parentSpanId).toBe(parentSpanId);
    expect(ancestry(spans, only(spans, 'send mail')).slice(1)).toEqual(['dispatch', dispatchQueue()]);
    expect(ancestry(spans, only(spans, 'push im')).slice(-3)).toEqual([
      'send im',
      'dispatch',
      dispatchQueue(),
    ]);
  });

  it('POST /v1/messages with a traceparent header joins the caller trace', async () => {
    const traceId = randomBytes(16).toString('hex');
    const parentSpanId = randomBytes(8).toString('hex');
    const res = await fetch(`${baseUrl}/v1/messages`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        'content-type': 'application/json',
        traceparent: `00-${traceId}-${parentSpanId}-01`,
      },
      body: JSON.stringify(envelope('trace-http')),
    });
    expect(res.status).toBe(202);
    const spans = await traceOf('trace-http', traceId, [
      exchangeSend(),
      dispatchQueue(),
      'send mail',
      'push im',
    ]);
    const publish = only(spans, exchangeSend());
    expect(publish.parentSpanId).toBe(parentSpanId);
    expect(ancestry(spans, only(spans, 'dispatch'))).toEqual(['dispatch', dispatchQueue(), exchangeSend()]);
  });
});
