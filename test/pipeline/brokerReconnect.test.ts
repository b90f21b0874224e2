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

    // Paced, and going on until 20 more have been published after the close (rabbitmqctl may take
    // seconds on a loaded machine): envelopes are still arriving and being dispatched when it drops.
    let published = 0;
    const close: { published?: number } = {};
    const publishing = (async () => {
      for (let n = 0; n < TOTAL || close.published === undefined || n < close.published + 20; n++) {
        await publish(n);
        published = n + 1;
        await sleep(10);
      }
    })();
    await eventually(
      async () => (await pipelineCounts(h.runtime.ctx.db.sql)).messages >= CLOSE_AFTER,
      30_000,
      `${CLOSE_AFTER} envelopes taken`,
    );
    const closed = await closeFromBroker(heraldPorts, 'test: connection closed by the broker');
    close.published = published;
    expect(closed).toBe(heraldPorts.length);
    await publishing;
    const total = published;
    expect(total).toBeGreaterThanOrEqual(close.published + 20);

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
        return c.completed === total ? c : undefined;
      },
      90_000,
      `${total} completed messages`,
    );
    expect(counts).toEqual({
      messages: total,
      completed: total,
      deliveries: total,
      deliveriesSent: total,
      attemptsSent: total,
      inboxItems: total,
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
