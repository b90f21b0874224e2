import { Gauge, type Registry } from 'prom-client';
import type { BrokerConnection } from '../broker/brokerConnection';
import type { TopologyNames } from '../broker/topologyNames';
import { inspectQueues } from './queueInspector';
import { retryQueueDelays } from './retryPolicy';

/** herald_queue_messages{queue}: read from RabbitMQ when Prometheus scrapes. */
export function registerQueueDepthGauge(
  registry: Registry,
  broker: BrokerConnection,
  names: TopologyNames,
  retryDelays: readonly number[],
): void {
  const delays = retryQueueDelays(retryDelays);
  new Gauge({
    name: 'herald_queue_messages',
    help: 'Messages ready in each Herald queue',
    labelNames: ['queue'] as const,
    registers: [registry],
    async collect() {
      const model = broker.current();
      if (!model) return;
      this.reset();
      for (const q of await inspectQueues(model, names, delays)) {
        if (q.messages >= 0) this.set({ queue: q.queue }, q.messages);
      }
    },
  });
}
