import type { Channel } from 'amqplib';
import {
  dispatchQueues,
  followUpQueues,
  topologyExchanges,
  type TopologyNames,
} from '../../src/broker/topologyNames';
import type { AnyChannel } from '../../src/senders/channel';
import { channels } from '../../src/senders/registry';

/** The follow-up delays of every registered channel that has a later check: what a consumer declares by default. */
function registeredFollowUpDelays(): number[] {
  const registered: readonly AnyChannel[] = channels;
  return registered.flatMap((c) => c.followUp?.delaysMs ?? []);
}

/**
 * Deletes what a test's Herald declared on the shared broker: its dispatch queues, its follow-up queues
 * (for `followUpDelaysMs` and every registered channel's delays), its exchanges. A queue
 * left behind is not only clutter: each quorum queue holds three of the broker's file handles, and a
 * broker out of them accepts no connection at all (RabbitMQ started with `ulimit -n 1024` has 927).
 */
export async function deleteTopology(
  ch: Channel,
  names: TopologyNames,
  retryDelays: readonly number[],
  opts: { followUpDelaysMs?: readonly number[] } = {},
): Promise<void> {
  const queues = [
    ...dispatchQueues(names, retryDelays),
    ...followUpQueues(names, [...(opts.followUpDelaysMs ?? []), ...registeredFollowUpDelays()]),
  ];
  for (const q of queues) await ch.deleteQueue(q);
  for (const x of topologyExchanges(names)) await ch.deleteExchange(x);
}
