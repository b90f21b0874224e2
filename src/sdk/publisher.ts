import amqplib, { type ChannelModel, type ConfirmChannel, type RecoveringChannelModel } from 'amqplib';
import { envelopeSchema, routingKeyFor, type Envelope, type EnvelopeInput } from '../contract/envelope';
import { ConfirmTimeoutError, publishConfirmed } from '../broker/confirmPublish';
import { topologyNames } from '../broker/topologyNames';
import { describeIssues } from '../contract/zodIssues';
import type { CancelOutcome } from '../delivery/cancelMessage';
import { cancelOverHttp, type HeraldApiOptions } from './cancel';

export interface HeraldPublisherOptions {
  /** amqp://user:pass@host:5672/vhost */
  url: string;
  /** The HERALD_QUEUE_PREFIX of the Herald deployment, if it has one. */
  prefix?: string;
  /** How long a publish waits for the broker's confirm before it fails. Default 10 s. */
  confirmTimeoutMs?: number;
  /** Herald's HTTP API, for cancel(); publishing does not need it. */
  api?: HeraldApiOptions;
}

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
   * Validates the envelope against the v1 schema and publishes it persistently; resolves once RabbitMQ
   * has confirmed it, rejects with a PublishError otherwise. Safe to retry: the id is the idempotency key.
   */
  publish(envelope: EnvelopeInput): Promise<{ id: string }>;
  /** Cancels what of message `id` has not been sent (over the HTTP API in `api`); rejects with a CancelError. */
  cancel(id: string, by?: string): Promise<CancelOutcome>;
  close(): Promise<void>;
}

/** The publisher business services use: `const herald = await createHeraldPublisher({ url }); await herald.publish({...})`. */
export async function createHeraldPublisher(opts: HeraldPublisherOptions): Promise<HeraldPublisher> {
  const names = topologyNames(opts.prefix);
  let channel: ConfirmChannel | undefined;
  const connection: RecoveringChannelModel = await amqplib.connect(opts.url, {
    recovery: {
      initialMaxRetries: 3,
      maxRetries: Infinity,
      maxDelay: 5000,
      async setup(model: ChannelModel) {
        const ch = await model.createConfirmChannel();
        ch.on('error', () => undefined);
        ch.on('close', () => {
          if (channel === ch) channel = undefined;
        });
        await ch.assertExchange(names.exchange, 'topic', { durable: true });
        channel = ch;
      },
    },
  });
  connection.on('error', () => undefined);

  return {
    cancel: (id, by) => cancelOverHttp(opts.api, id, by),
    async publish(input) {
      const parsed = envelopeSchema.safeParse(input);
      if (!parsed.success) {
        const detail = describeIssues(parsed.error, { root: 'envelope' });
        throw new PublishError(`envelope is not valid: ${detail}`, 'invalid_envelope');
      }
      const envelope: Envelope = parsed.data;
      const ch = channel;
      if (!ch)
        throw new PublishError(
          'RabbitMQ is not reachable right now; the envelope was not published',
          'broker_unavailable',
        );
      const timeoutMs = opts.confirmTimeoutMs ?? 10_000;
      await publishConfirmed(
        ch,
        names.exchange,
        routingKeyFor(envelope.template),
        Buffer.from(JSON.stringify(envelope)),
        { contentType: 'application/json', messageId: envelope.id },
        timeoutMs,
      ).catch((err: unknown) => {
        throw err instanceof ConfirmTimeoutError
          ? new PublishError(
              'RabbitMQ did not confirm the envelope in time; publish it again',
              'not_confirmed',
            )
          : new PublishError('RabbitMQ did not confirm the envelope; publish it again', 'not_confirmed');
      });
      return { id: envelope.id };
    },
    async close() {
      await connection.close();
    },
  };
}
