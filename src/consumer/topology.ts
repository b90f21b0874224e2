import type { Channel } from 'amqplib';
import type { TopologyNames } from '../broker/topologyNames';
import { declareUnroutableCapture } from './unroutableCapture';

export interface TopologyOptions {
  /** Every delay a retry may wait (see retryQueueDelays); one queue each. */
  retryQueueDelays: readonly number[];
  /** Redeliveries of one envelope before RabbitMQ dead-letters it (x-delivery-limit). */
  deliveryLimit: number;
}

/** Declares Herald's exchanges and queues; idempotent, so every instance runs it at start and reconnect. */
export async function declareTopology(
  ch: Channel,
  names: TopologyNames,
  opts: TopologyOptions,
): Promise<void> {
  await ch.assertExchange(names.exchange, 'topic', { durable: true });
  await ch.assertQueue(names.dead, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await ch.assertQueue(names.dispatch, {
    durable: true,
    arguments: {
      'x-queue-type': 'quorum',
      // RabbitMQ 3.10 has no default limit: a message that keeps crashing consumers would loop forever.
      'x-delivery-limit': opts.deliveryLimit,
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': names.dead,
    },
  });
  await declareUnroutableCapture(ch, names);
  for (const ms of opts.retryQueueDelays) {
    await ch.assertQueue(names.retryQueue(ms), {
      durable: true,
      arguments: {
        'x-message-ttl': ms,
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': names.dispatch,
      },
    });
  }
  await ch.assertExchange(names.im, 'fanout', { durable: true });
  await ch.assertExchange(names.events, 'fanout', { durable: true });
}
