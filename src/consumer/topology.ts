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
  // The same arguments for both: RabbitMQ 3.10's quorum queues have no priorities, so critical
  // templates' envelopes get a queue of their own instead (criticalRoutes.ts binds them).
  for (const queue of [names.dispatch, names.critical])
    await ch.assertQueue(queue, {
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
    await declareDelayQueue(ch, names.retryQueue(ms), ms, names.dispatch);
    await declareDelayQueue(ch, names.criticalRetryQueue(ms), ms, names.critical);
  }
  await ch.assertExchange(names.im, 'direct', { durable: true });
  await ch.assertExchange(names.events, 'fanout', { durable: true });
}

/**
 * A quorum queue whose messages wait `ms` and then dead-letter into `target`: replicated like the queues
 * it feeds, so losing a cluster node loses no waiting message and blocks no redeclaration. Dead-lettering
 * is at least once (RabbitMQ 3.10+, which needs `reject-publish`): a message leaves only once `target`
 * has it.
 */
export async function declareDelayQueue(
  ch: Channel,
  name: string,
  ms: number,
  target: string,
): Promise<void> {
  await ch.assertQueue(name, {
    durable: true,
    arguments: {
      'x-queue-type': 'quorum',
      'x-message-ttl': ms,
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': target,
      'x-dead-letter-strategy': 'at-least-once',
      'x-overflow': 'reject-publish',
    },
  });
}
