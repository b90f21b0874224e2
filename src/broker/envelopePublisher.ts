import type { ConfirmChannel } from 'amqplib';
import type { BrokerConnection } from './brokerConnection';
import { publishConfirmed } from './confirmPublish';
import type { TopologyNames } from './topologyNames';
import type { TraceHeaders } from '../tracing/traceContext';

/** Puts raw envelope bytes on the dispatch path: RabbitMQ's `herald` exchange, or the scheduler's table. */
export interface EnvelopePublisher {
  /** `trace`: the W3C context the envelope's spans continue (its publisher's), when there is one. */
  publish(routingKey: string, content: Buffer, messageId?: string, trace?: TraceHeaders): Promise<void>;
}

/** Publishes on a confirm channel, resolving only once the broker has taken responsibility for the message. */
export function createAmqpEnvelopePublisher(
  broker: BrokerConnection,
  names: TopologyNames,
): EnvelopePublisher & { start(): Promise<void> } {
  let channel: ConfirmChannel | undefined;
  return {
    async start() {
      await broker.onConnect(async (model) => {
        const ch = await model.createConfirmChannel();
        ch.on('error', () => undefined);
        ch.on('close', () => {
          if (channel === ch) channel = undefined;
        });
        await ch.assertExchange(names.exchange, 'topic', { durable: true });
        channel = ch;
      });
    },
    async publish(routingKey, content, messageId, trace) {
      const ch = channel;
      if (!ch) throw new Error('the broker is not connected');
      await publishConfirmed(ch, names.exchange, routingKey, content, {
        contentType: 'application/json',
        messageId,
        ...(trace ? { headers: trace } : {}),
      });
    },
  };
}
