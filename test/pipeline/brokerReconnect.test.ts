import { createHeraldPublisher, type HeraldPublisher } from '../../src/sdk/publisher';
import { TEST_AMQP_URL } from '../support/services';
import {
  createTestDeployment,
  eventually,
  type TestDeployment,
  type TestHerald,
} from '../support/testHerald';
import { amqpPortsOf, closeFromBroker, describeWithBrokerCli, queueCounts } from './support/brokerSide';
import { heraldApi } from '../support/heraldApi';
import { pipelineCounts } from './support/pipelineCounts';

const TOTAL = 300;
const CLOSE_AFTER = 100;
// Publishing pauses here until the connections are closed, so envelopes still arrive after the drop
// however long rabbitmqctl takes (seconds on a loaded machine: long enough for all 300 to finish).
const HOLD_AT = 200;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeWithBrokerCli('pipeline on RabbitMQ: connection closed by the broker', () => {
  let dep: TestDeployment;
  let h: TestHerald;
  let sdk: HeraldPublisher;
  let heraldPorts: number[];
  let sdkPorts: number[];

  beforeAll(async () => {
    dep = createTestDeployment();
    h = await dep.start();
    await heraldApi(h.baseUrl).createTemplate({
      code: 'ping',
      name: 'Ping',
      variables: { n: 'number' },
      channels: { im: { title: 'Ping {{ n }}', body: 'pong' } },
    });
    // Taken before the SDK connects: every AMQP connection this process holds now is Herald's.
    heraldPorts = amqpPortsOf(process.pid);
    sdk = await createHeraldPublisher({ url: TEST_AMQP_URL, prefix: dep.prefix });
    sdkPorts = amqpPortsOf(process.pid).filter((p) => !heraldPorts.includes(p));
  });
  afterAll(async () => {
    await sdk?.close();
    await dep?.destroy();
  });

  it('reconnects by itself and completes every envelope, none lost and none sent twice', async () => {
    expect(heraldPorts.length).toBeGreaterThanOrEqual(1);
    const publish = (n: number) =>
      sdk.publish({ id: `ping-${n}`, template: 'ping', to: [{ userId: `u-${n % 10}` }], data: { n } });

    // Paced, so that envelopes are still arriving and being dispatched when the connection drops.
    let closeDone = () => {};
    const closing = new Promise<void>((resolve) => (closeDone = resolve));
    const publishing = (async () => {
      for (let n = 0; n < TOTAL; n++) {
        if (n === HOLD_AT) await closing;
        await publish(n);
        await sleep(10);
      }
    })();
    await eventually(
      async () => (await pipelineCounts(h.runtime.ctx.db.sql)).messages >= CLOSE_AFTER,
      30_000,
      `${CLOSE_AFTER} envelopes taken`,
    );
    const closed = await closeFromBroker(heraldPorts, 'test: connection closed by the broker');
    closeDone();
    expect(closed).toBe(heraldPorts.length);
    await publishing;

    await eventually(
      async () => {
        const now = amqpPortsOf(process.pid).filter((p) => !sdkPorts.includes(p));
        return now.length === heraldPorts.length && heraldPorts.every((p) => !now.includes(p));
      },
      20_000,
      'Herald to hold new connections in place of the closed ones',
    );
    await eventually(
      async () => (await fetch(`${h.baseUrl}/ready`)).status === 200,
      30_000,
      'Herald to be ready again',
    );
    const counts = await eventually(
      async () => {
        const c = await pipelineCounts(h.runtime.ctx.db.sql);
        return c.completed === TOTAL ? c : undefined;
      },
      90_000,
      `${TOTAL} completed messages`,
    );
    expect(counts).toEqual({
      messages: TOTAL,
      completed: TOTAL,
      deliveries: TOTAL,
      deliveriesSent: TOTAL,
      attemptsSent: TOTAL,
      inboxItems: TOTAL,
    });
    // Everything was acked on the new connection: nothing waits or hangs in the dispatch queue.
    // RabbitMQ refreshes these statistics every few seconds, hence the wait.
    await eventually(
      async () => {
        const q = await queueCounts(`${dep.prefix}herald.dispatch`);
        return q.ready === 0 && q.unacked === 0 && q.consumers === 1;
      },
      30_000,
      'an empty dispatch queue with its one consumer back',
    );
    expect((await heraldApi(h.baseUrl).deadLetters()).items).toEqual([]);
  });
});
