import { Gauge, type Registry } from 'prom-client';
import type { BrokerConnection } from '../broker/brokerConnection';
import type { TopologyNames } from '../broker/topologyNames';
import type { SqlClient } from '../db/sqlClient';
import { backlogFromDatabase, inspectQueues, type QueueStats } from './queueInspector';
import { retryQueueDelays } from './retryPolicy';

/**
 * herald_queue_messages{queue} and herald_queue_consumers{queue}, read from RabbitMQ, and the backlog
 * read from the database (oldest unfinished message, dead letters not replayed): all when Prometheus
 * scrapes, so an idle Herald does no work for them.
 */
export function registerQueueDepthGauge(
  registry: Registry,
  broker: BrokerConnection,
  names: TopologyNames,
  retryDelays: readonly number[],
  sql: SqlClient,
): void {
  const delays = retryQueueDelays(retryDelays);
  // One look at the broker serves both gauges of a scrape (prom-client collects them concurrently).
  let inspection: { at: number; stats: Promise<QueueStats[]> } | undefined;
  const inspect = (): Promise<QueueStats[]> => {
    const model = broker.current();
    if (!model) return Promise.resolve([]);
    if (!inspection || Date.now() - inspection.at > 1000)
      inspection = { at: Date.now(), stats: inspectQueues(model, names, delays) };
    return inspection.stats;
  };
  new Gauge({
    name: 'herald_queue_messages',
    help: 'Messages ready in each Herald queue',
    labelNames: ['queue'] as const,
    registers: [registry],
    async collect() {
      const stats = await inspect();
      this.reset();
      for (const q of stats) if (q.messages >= 0) this.set({ queue: q.queue }, q.messages);
    },
  });
  new Gauge({
    name: 'herald_queue_consumers',
    help: 'Consumers attached to each Herald queue',
    labelNames: ['queue'] as const,
    registers: [registry],
    async collect() {
      const stats = await inspect();
      this.reset();
      for (const q of stats) if (q.consumers >= 0) this.set({ queue: q.queue }, q.consumers);
    },
  });
  let backlog: { at: number; read: ReturnType<typeof backlogFromDatabase> } | undefined;
  const readBacklog = () => {
    if (!backlog || Date.now() - backlog.at > 1000)
      backlog = { at: Date.now(), read: backlogFromDatabase(sql) };
    return backlog.read;
  };
  new Gauge({
    name: 'herald_dead_letters_pending',
    help: 'Dead letters recorded and not replayed',
    registers: [registry],
    async collect() {
      this.set((await readBacklog()).deadLetters);
    },
  });
  new Gauge({
    name: 'herald_oldest_unfinished_message_seconds',
    help: 'Age of the oldest message accepted or dispatched and not yet finished (0 when there is none)',
    registers: [registry],
    async collect() {
      this.set((await readBacklog()).oldestUnfinishedSeconds ?? 0);
    },
  });
}
