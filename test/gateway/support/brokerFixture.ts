import { randomBytes } from 'node:crypto';
import amqplib from 'amqplib';
import { connectBroker, type BrokerConnection } from '../../../src/broker/brokerConnection';
import { topologyNames, type TopologyNames } from '../../../src/broker/topologyNames';
import { TEST_AMQP_URL } from '../../support/services';
import { silentLog } from './imTestServer';

/** A random name prefix per suite, and broker connections (one per simulated instance). */
export function createBrokerFixture(): {
  names: TopologyNames;
  connect(): Promise<BrokerConnection>;
  cleanup(): Promise<void>;
} {
  const names = topologyNames(`t${randomBytes(4).toString('hex')}.`);
  const open: BrokerConnection[] = [];
  return {
    names,
    async connect() {
      const b = await connectBroker(TEST_AMQP_URL, silentLog);
      open.push(b);
      return b;
    },
    async cleanup() {
      for (const b of open) await b.close().catch(() => undefined);
      const conn = await amqplib.connect(TEST_AMQP_URL);
      const ch = await conn.createChannel();
      await ch.deleteExchange(names.im).catch(() => undefined);
      await conn.close();
    },
  };
}
