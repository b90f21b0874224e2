import { SpanKind, type Context } from '@opentelemetry/api';
import type { ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import type { FastifyBaseLogger } from 'fastify';
import type { BrokerConnection } from '../broker/brokerConnection';
import { publishConfirmed } from '../broker/confirmPublish';
import type { TopologyNames } from '../broker/topologyNames';
import type { DeadLetterInput } from '../deadLetters/deadLetterStore';
import type { DispatchResult } from './dispatchTypes';
import type { PipelineMetrics } from './pipelineMetrics';
import { queueDelayFor } from './retryPolicy';
import { MAX_ENVELOPE_BYTES, runEnvelope } from './runnerPolicy';
import { declareTopology } from './topology';
import { deadLetterCause } from './deadLetterCause';
import { retryWhileInfraDown } from './waitForInfra';
import {
  MESSAGING_DESTINATION,
  MESSAGING_MESSAGE_ID,
  MESSAGING_OPERATION,
  MESSAGING_ROUTING_KEY,
  MESSAGING_SYSTEM,
} from '../tracing/messagingAttributes';
import { inSpan } from '../tracing/spans';
import { contextFromHeaders, traceHeadersOf } from '../tracing/traceContext';

export { MAX_ENVELOPE_BYTES };
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
  /** Unacked envelopes of herald.dispatch.critical at a time, on top of `prefetch` (HERALD_PREFETCH_CRITICAL). */
  prefetchCritical: number;
  retryQueueDelays: readonly number[];
  deliveryLimit: number;
  dispatch(input: unknown): Promise<DispatchResult>;
  /** Records a dead-lettered envelope before it is acked off herald.dead. */
  recordDeadLetter(d: DeadLetterInput): Promise<void>;
  /** Binds critical templates' routing keys (criticalRoutes.ts) once the topology is declared. */
  syncCriticalRoutes?(model: ChannelModel): Promise<void>;
  /** Rejected envelopes are recorded as messages before they are dead-lettered. */
  log: FastifyBaseLogger;
  metrics?: PipelineMetrics;
}

/** The broker's account of why it dead-lettered a message (x-death, newest first). */

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

  async function deadLetter(
    ch: ConfirmChannel,
    msg: ConsumeMessage,
    code: string,
    reason: string,
    messageId?: string,
  ) {
    const oversize = msg.content.length > MAX_ENVELOPE_BYTES;
    const content = oversize ? msg.content.subarray(0, OVERSIZE_DEAD_LETTER_BYTES) : msg.content;
    const note = oversize ? ` (payload cut to its first ${OVERSIZE_DEAD_LETTER_BYTES} bytes)` : '';
    await publishConfirmed(ch, '', names.dead, content, {
      contentType: msg.properties.contentType,
      messageId: messageId ?? msg.properties.messageId,
      headers: {
        'x-herald-code': code,
        'x-herald-reason': `${reason.slice(0, 1000)}${note}`,
        'x-herald-routing-key': msg.fields.routingKey,
      },
    });
  }

  /** The consumer span of one delivery from a dispatch queue, continuing the publisher's trace. */
  function handle(ch: ConfirmChannel, msg: ConsumeMessage, queue: string): Promise<void> {
    const parent = contextFromHeaders(msg.properties.headers);
    const messageId: unknown = msg.properties.messageId;
    return inSpan(
      `process ${queue}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          [MESSAGING_SYSTEM]: 'rabbitmq',
          [MESSAGING_OPERATION]: 'process',
          [MESSAGING_DESTINATION]: queue,
          [MESSAGING_ROUTING_KEY]: msg.fields.routingKey,
          ...(typeof messageId === 'string' ? { [MESSAGING_MESSAGE_ID]: messageId } : {}),
          ...(msg.fields.redelivered ? { 'herald.redelivered': true } : {}),
        },
      },
      () => run(ch, msg, parent, queue === names.critical),
      parent,
    );
  }

  async function run(
    ch: ConfirmChannel,
    msg: ConsumeMessage,
    parent: Context,
    critical: boolean,
  ): Promise<void> {
    const action = await runEnvelope(msg.content, {
      dispatch: opts.dispatch,
      stopping: () => stopping,
      onInfraWait: (err, delayMs) =>
        log.warn({ err: (err as Error).message, delayMs }, 'database unavailable; holding the envelope'),
      metrics: opts.metrics,
    });
    if (action.kind === 'deadLetter') {
      await deadLetter(ch, msg, action.code, action.reason, action.messageId);
    } else if (action.kind === 'retryLater') {
      const queueDelay = queueDelayFor(action.delayMs, opts.retryQueueDelays);
      // A critical envelope waits in retry queues of its own, which lead back to the critical queue.
      const retryQueue = critical ? names.criticalRetryQueue(queueDelay) : names.retryQueue(queueDelay);
      await publishConfirmed(ch, '', retryQueue, msg.content, {
        contentType: 'application/json',
        messageId: action.messageId,
        expiration: String(Math.max(0, Math.min(action.delayMs, queueDelay))),
        // The retry continues its publisher's trace, beside this attempt.
        headers: { 'x-herald-retry': true, ...traceHeadersOf(parent) },
      });
    }
    ch.ack(msg);
  }

  function onMessage(ch: ConfirmChannel, msg: ConsumeMessage | null, queue: string) {
    if (!msg) return; // consumer cancelled by the broker (queue deleted); recovery re-subscribes
    // Shutting down: leave it unacked; the broker gives it to another consumer once this channel closes.
    if (stopping) return;
    const work = handle(ch, msg, queue).catch((err: unknown) => {
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
    const messageId: unknown = msg.properties.messageId;
    await retryWhileInfraDown(
      () =>
        opts.recordDeadLetter({
          messageId: typeof messageId === 'string' ? messageId : undefined,
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
        if (opts.syncCriticalRoutes)
          await opts.syncCriticalRoutes(model).catch((err: unknown) =>
            // The bindings are durable: those already made keep routing; the next start or change retries.
            log.warn({ err: (err as Error).message }, 'could not bind the critical templates'),
          );
        channel = ch;
        if (stopping) return;
        // basic.qos applies to the consumers started after it: each queue gets its own window, so a full
        // herald.dispatch (a topic send, a flood of envelopes) never holds back herald.dispatch.critical.
        await ch.prefetch(opts.prefetchCritical);
        await ch.consume(names.critical, (msg) => onMessage(ch, msg, names.critical));
        await ch.prefetch(opts.prefetch);
        await ch.consume(names.dispatch, (msg) => onMessage(ch, msg, names.dispatch));
        await ch.consume(names.dead, (msg) => {
          if (!msg || stopping) return;
          const work = recordDead(ch, msg).catch((err: unknown) =>
            log.error({ err }, 'could not record a dead letter'),
          );
          inFlight.add(work);
          void work.finally(() => inFlight.delete(work));
        });
        log.info(
          { queue: names.dispatch, prefetch: opts.prefetch, prefetchCritical: opts.prefetchCritical },
          'consumer: consuming',
        );
      });
    },
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
  };
}

export type AmqpRunner = ReturnType<typeof createAmqpRunner>;
