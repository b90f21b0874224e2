import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { FastifyBaseLogger } from 'fastify';
import type { BrokerConnection } from '../broker/brokerConnection';
import type { TopologyNames } from '../broker/topologyNames';
import { decodeEnvelope } from './decodeEnvelope';
import type { DispatchResult } from './dispatchTypes';
import type { PipelineMetrics } from './pipelineMetrics';
import { queueDelayFor } from './retryPolicy';
import { declareTopology } from './topology';
import { deadLetterCause } from './deadLetterCause';
import { retryWhileInfraDown } from './waitForInfra';

export const MAX_ENVELOPE_BYTES = 1024 * 1024;
const SETTLE_BEFORE_CLOSE_MS = 500;
/**
 * An envelope over MAX_ENVELOPE_BYTES can never be accepted, so its dead letter keeps only this much of
 * it: enough to see what it was, without copying megabytes to herald.dead and into the database.
 */
export const OVERSIZE_DEAD_LETTER_BYTES = 64 * 1024;

export interface AmqpRunnerOptions {
  broker: BrokerConnection;
  names: TopologyNames;
  prefetch: number;
  retryQueueDelays: readonly number[];
  deliveryLimit: number;
  dispatch(input: unknown): Promise<DispatchResult>;
  /** Records a dead-lettered envelope before it is acked off herald.dead. */
  recordDeadLetter(d: DeadLetterInput): Promise<void>;
  /** Rejected envelopes are recorded as messages before they are dead-lettered. */
  log: FastifyBaseLogger;
  metrics?: PipelineMetrics;
}

export interface DeadLetterInput {
  messageId?: string;
  routingKey?: string;
  code: string;
  reason: string;
  payload: Buffer;
}

const header = (msg: ConsumeMessage, name: string): string | undefined => {
  const v = msg.properties.headers?.[name];
  return typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('utf8') : undefined;
};

/**
 * The RabbitMQ side of the consumer: prefetch, decode, dispatch, then (re)publish retries and dead
 * letters on a confirm channel, and ack only once the outcome is durable in PostgreSQL and RabbitMQ.
 */
export function createAmqpRunner(opts: AmqpRunnerOptions) {
  const { names, log } = opts;
  let channel: ConfirmChannel | undefined;
  let stopping = false;
  const inFlight = new Set<Promise<void>>();

  async function publishConfirmed(
    ch: ConfirmChannel,
    queue: string,
    content: Buffer,
    options: Parameters<ConfirmChannel['sendToQueue']>[2],
  ) {
    await new Promise<void>((resolve, reject) => {
      ch.sendToQueue(queue, content, { persistent: true, ...options }, (err) =>
        err ? reject(err) : resolve(),
      );
    });
  }

  async function deadLetter(
    ch: ConfirmChannel,
    msg: ConsumeMessage,
    code: string,
    reason: string,
    messageId?: string,
  ) {
    opts.metrics?.deadLettered.inc({ code });
    const oversize = msg.content.length > MAX_ENVELOPE_BYTES;
    const content = oversize ? msg.content.subarray(0, OVERSIZE_DEAD_LETTER_BYTES) : msg.content;
    const note = oversize ? ` (payload cut to its first ${OVERSIZE_DEAD_LETTER_BYTES} bytes)` : '';
    await publishConfirmed(ch, names.dead, content, {
      contentType: msg.properties.contentType,
      messageId: messageId ?? msg.properties.messageId,
      headers: {
        'x-herald-code': code,
        'x-herald-reason': `${reason.slice(0, 1000)}${note}`,
        'x-herald-routing-key': msg.fields.routingKey,
      },
    });
  }

  async function handle(ch: ConfirmChannel, msg: ConsumeMessage): Promise<void> {
    const decoded = decodeEnvelope(msg.content, MAX_ENVELOPE_BYTES);
    if (!decoded.ok) {
      opts.metrics?.envelopes.inc({ outcome: 'rejected' });
      await deadLetter(ch, msg, decoded.code, decoded.reason);
      ch.ack(msg);
      return;
    }
    const result = await retryWhileInfraDown(() => opts.dispatch(decoded.value), {
      stopping: () => stopping,
      onWait: (err, delayMs) =>
        log.warn({ err: (err as Error).message, delayMs }, 'database unavailable; holding the envelope'),
    });
    if (result.kind === 'rejected') {
      opts.metrics?.envelopes.inc({ outcome: 'rejected' });
      await deadLetter(ch, msg, result.code, result.reason, result.messageId);
    } else if (result.retryInMs !== undefined) {
      opts.metrics?.envelopes.inc({ outcome: 'retry_scheduled' });
      const queueDelay = queueDelayFor(result.retryInMs, opts.retryQueueDelays);
      await publishConfirmed(ch, names.retryQueue(queueDelay), msg.content, {
        contentType: 'application/json',
        messageId: result.messageId,
        expiration: String(Math.max(0, Math.min(result.retryInMs, queueDelay))),
        headers: { 'x-herald-retry': true },
      });
    } else {
      opts.metrics?.envelopes.inc({ outcome: result.status });
    }
    ch.ack(msg);
  }

  function onMessage(ch: ConfirmChannel, msg: ConsumeMessage | null) {
    if (!msg) return; // consumer cancelled by the broker (queue deleted); recovery re-subscribes
    // Shutting down: leave it unacked; the broker gives it to another consumer once this channel closes.
    if (stopping) return;
    const work = handle(ch, msg).catch((err: unknown) => {
      if (stopping || ch !== channel) return; // left unacked: the broker redelivers it
      log.error(
        { err, routingKey: msg.fields.routingKey },
        'dispatch failed; returning the envelope to the queue',
      );
      // reject (not nack) so the quorum queue counts it toward x-delivery-limit, then dead-letters it.
      try {
        ch.reject(msg, true);
      } catch {
        // channel already closed: the broker will redeliver
      }
    });
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  }

  async function recordDead(ch: ConfirmChannel, msg: ConsumeMessage) {
    await retryWhileInfraDown(
      () =>
        opts.recordDeadLetter({
          messageId: msg.properties.messageId as string | undefined,
          routingKey: header(msg, 'x-herald-routing-key') ?? msg.fields.routingKey,
          ...deadLetterCause(msg, names, opts.deliveryLimit),
          payload: msg.content,
        }),
      { stopping: () => stopping },
    );
    ch.ack(msg);
  }

  return {
    async start() {
      await opts.broker.onConnect(async (model) => {
        const ch = await model.createConfirmChannel();
        ch.on('error', (err: Error) => log.warn({ err: err.message }, 'consumer channel error'));
        await declareTopology(ch, names, {
          retryQueueDelays: opts.retryQueueDelays,
          deliveryLimit: opts.deliveryLimit,
        });
        await ch.prefetch(opts.prefetch);
        channel = ch;
        if (stopping) return;
        await ch.consume(names.dispatch, (msg) => onMessage(ch, msg));
        await ch.consume(names.dead, (msg) => {
          if (!msg || stopping) return;
          const work = recordDead(ch, msg).catch((err: unknown) =>
            log.error({ err }, 'could not record a dead letter'),
          );
          inFlight.add(work);
          void work.finally(() => inFlight.delete(work));
        });
        log.info({ queue: names.dispatch, prefetch: opts.prefetch }, 'consumer: consuming');
      });
    },
    /** Stops taking work, finishes what is in flight (acking it), then closes the channel. */
    /**
     * Stops taking work, finishes what is in flight (acking it), then closes the channel. Deliveries that
     * arrive while stopping are left unacked and go back to the queue when the channel closes.
     */
    async stop() {
      stopping = true;
      while (inFlight.size) await Promise.allSettled([...inFlight]);
      // RabbitMQ 3.10 settles a quorum queue's acks asynchronously: a channel closed right after its last
      // acks had a few of those messages returned as if unacked (test/pipeline/sigtermBurst, ~5 % of a
      // prefetch window). A short pause lets the settlements land first.
      await new Promise((resolve) => setTimeout(resolve, SETTLE_BEFORE_CLOSE_MS));
      await channel?.close().catch(() => undefined);
    },
    inFlightCount: () => inFlight.size,
  };
}

export type AmqpRunner = ReturnType<typeof createAmqpRunner>;
