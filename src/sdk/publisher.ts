import type { ConfirmChannel } from 'amqplib';
import { context, trace } from '@opentelemetry/api';
import pino from 'pino';
import { connectBroker } from '../broker/brokerConnection';
import { envelopeSchema, routingKeyFor, type Envelope, type EnvelopeInput } from '../contract/envelope';
import { ConfirmTimeoutError, publishConfirmed } from '../broker/confirmPublish';
import { topologyNames } from '../broker/topologyNames';
import { describeIssues } from '../contract/zodIssues';
import type { CancelOutcome } from '../delivery/cancelMessage';
import { cancelOverHttp, type HeraldApiOptions } from './cancel';
import { publishSpan } from '../tracing/messagingAttributes';
import { failSpan } from '../tracing/spans';
import { traceHeadersOf, type TraceHeaders } from '../tracing/traceContext';

export interface HeraldPublisherOptions {
  /**
   * amqp://user:pass@host:5672/vhost, or the nodes of a cluster: several such URLs, comma-separated or as
   * an array, tried in turn (on losing its node the publisher moves to another).
   */
  url: string | readonly string[];
  /** The HERALD_QUEUE_PREFIX of the Herald deployment, if it has one. */
  prefix?: string;
  /**
   * How long one publish may take in all (waiting for a node, publishing again on another after a node
   * loss, the confirm) before it rejects. Default 10 s.
   */
  confirmTimeoutMs?: number;
  /** Herald's HTTP API, for cancel(); publishing does not need it. */
  api?: HeraldApiOptions;
}

const SILENT = pino({ level: 'silent' });
/** The instrumentation scope of the publisher's spans, in the business service's own SDK. */
const SDK_TRACER = 'herald-sdk';

export class PublishError extends Error {
  constructor(
    message: string,
    readonly code: 'invalid_envelope' | 'broker_unavailable' | 'not_confirmed',
  ) {
    super(message);
    this.name = 'PublishError';
  }
}

export interface HeraldPublisher {
  /**
   * Validates the envelope against the v1 schema and publishes it persistently; resolves only once a
   * RabbitMQ node has confirmed it. Its node lost before the confirm, it is published again on another
   * within `confirmTimeoutMs`; past that it rejects with a PublishError (never hangs). Safe to retry: the
   * id is the idempotency key.
   */
  publish(envelope: EnvelopeInput): Promise<{ id: string }>;
  /** Cancels what of message `id` has not been sent (over the HTTP API in `api`); rejects with a CancelError. */
  cancel(id: string, by?: string): Promise<CancelOutcome>;
  close(): Promise<void>;
}

/** The publisher business services use: `const herald = await createHeraldPublisher({ url }); await herald.publish({...})`. */
export async function createHeraldPublisher(opts: HeraldPublisherOptions): Promise<HeraldPublisher> {
  const names = topologyNames(opts.prefix);
  const timeoutMs = opts.confirmTimeoutMs ?? 10_000;
  let channel: ConfirmChannel | undefined;
  let waiters: Array<() => void> = [];
  const broker = await connectBroker(opts.url, SILENT, {
    initialDelayMs: 100,
    maxDelayMs: 5000,
    initialRounds: 4,
  });
  await broker.onConnect(async (model) => {
    const ch = await model.createConfirmChannel();
    ch.on('error', () => undefined);
    ch.on('close', () => {
      if (channel === ch) channel = undefined;
    });
    await ch.assertExchange(names.exchange, 'topic', { durable: true });
    channel = ch;
    const woken = waiters;
    waiters = [];
    for (const w of woken) w();
  });

  /** The confirm channel, waiting up to `ms` for one while the connection moves to another node. */
  async function channelWithin(ms: number): Promise<ConfirmChannel | undefined> {
    if (channel || ms <= 0) return channel;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        waiters = waiters.filter((w) => w !== done);
        resolve();
      }
      waiters.push(done);
    });
    return channel;
  }

  return {
    cancel: (id, by) => cancelOverHttp(opts.api, id, by),
    async publish(input) {
      const parsed = envelopeSchema.safeParse(input);
      if (!parsed.success) {
        const detail = describeIssues(parsed.error, { root: 'envelope' });
        throw new PublishError(`envelope is not valid: ${detail}`, 'invalid_envelope');
      }
      const envelope: Envelope = parsed.data;
      const routingKey = routingKeyFor(envelope.template);
      // A producer span under the caller's active one (when the caller runs an OpenTelemetry SDK); its
      // context goes with the envelope as `traceparent`, so Herald's spans continue the caller's trace.
      const { name, options } = publishSpan(names.exchange, routingKey, envelope.id);
      const parent = context.active();
      const span = trace.getTracer(SDK_TRACER).startSpan(name, options, parent);
      const headers = traceHeadersOf(trace.setSpan(parent, span));
      try {
        return await send(envelope, routingKey, headers);
      } catch (err) {
        failSpan(span, err, err instanceof PublishError ? err.code : undefined);
        throw err;
      } finally {
        span.end();
      }
    },
    async close() {
      await broker.close();
    },
  };

  async function send(
    envelope: Envelope,
    routingKey: string,
    headers: TraceHeaders | undefined,
  ): Promise<{ id: string }> {
    const content = Buffer.from(JSON.stringify(envelope));
    const deadline = Date.now() + timeoutMs;
    let published = false;
    // A channel that closes before its confirm (its node went away) leaves the envelope unconfirmed:
    // it is published again on the next node within the same time budget; the id makes that safe.
    for (;;) {
      const ch = await channelWithin(deadline - Date.now());
      const left = deadline - Date.now();
      if (!ch || left <= 0) {
        throw published
          ? new PublishError(
              `RabbitMQ did not confirm the envelope within ${timeoutMs} ms; publish it again`,
              'not_confirmed',
            )
          : new PublishError(
              `no RabbitMQ node was reachable within ${timeoutMs} ms; the envelope was not published`,
              'broker_unavailable',
            );
      }
      published = true;
      try {
        await publishConfirmed(
          ch,
          names.exchange,
          routingKey,
          content,
          { contentType: 'application/json', messageId: envelope.id, ...(headers ? { headers } : {}) },
          left,
        );
        return { id: envelope.id };
      } catch (err) {
        if (err instanceof ConfirmTimeoutError)
          throw new PublishError(
            `RabbitMQ did not confirm the envelope within ${timeoutMs} ms; publish it again`,
            'not_confirmed',
          );
        // nacked, or the channel closed under it: once more after a short pause, on whatever node is up
        await new Promise((r) => setTimeout(r, Math.min(100, Math.max(0, deadline - Date.now()))));
      }
    }
  }
}
