import type { Channel } from 'amqplib';
import { dispatchQueues, topologyExchanges, type TopologyNames } from '../../src/broker/topologyNames';

/** Deletes what a test's Herald declared on the shared broker: its dispatch queues, `extraQueues`, its exchanges. */
export async function deleteTopology(
  ch: Channel,
  names: TopologyNames,
  retryDelays: readonly number[],
  extraQueues: readonly string[] = [],
): Promise<void> {
  for (const q of [...dispatchQueues(names, retryDelays), ...extraQueues]) await ch.deleteQueue(q);
  for (const x of topologyExchanges(names)) await ch.deleteExchange(x);
}
