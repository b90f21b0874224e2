import { signUserToken } from '../../src/auth/userToken';
import { createHeraldPublisher, type HeraldPublisher } from '../../src/sdk/publisher';
import { connect, type TestClient } from '../gateway/support/wsClient';
import { heraldApi } from '../support/heraldApi';
import { TEST_AMQP_URL } from '../support/services';
import { createTestDeployment, eventually, JWT_SECRET, type TestDeployment } from '../support/testHerald';
import { amqpPortsOf, closeFromBroker, describeWithBrokerCli } from './support/brokerSide';

const TOTAL = 300;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A gateway whose broker connection drops loses its fan-out queue, and with it every IM event published
 * until it has subscribed again. Its sockets stay open, so without a catch-up they would never see those
 * items until they happened to reconnect.
 */
describeWithBrokerCli('IM fan-out gap on a gateway: live sockets still get every item', () => {
  jest.setTimeout(120_000);
  let dep: TestDeployment;
  let sdk: HeraldPublisher;
  let client: TestClient;

  beforeAll(async () => {
    dep = createTestDeployment();
  });
  afterAll(async () => {
    client?.close();
    await sdk?.close();
    await dep?.destroy();
  });

  it('sends a socket the items published while its gateway was resubscribing', async () => {
    const worker = await dep.start({ HERALD_ROLES: 'api,consumer' });
    await heraldApi(worker.baseUrl).createTemplate({
      code: 'gap',
      name: 'Gap',
      variables: { n: 'number' },
      channels: { im: { title: 'Item {{ n }}', body: 'b' } },
    });
    sdk = await createHeraldPublisher({ url: TEST_AMQP_URL, prefix: dep.prefix });
    const before = amqpPortsOf(process.pid);
    const gateway = await dep.start({ HERALD_ROLES: 'gateway' });
    const gatewayPorts = amqpPortsOf(process.pid).filter((p) => !before.includes(p));
    expect(gatewayPorts.length).toBeGreaterThanOrEqual(1);
    client = await connect(gateway.baseUrl, { token: signUserToken(JWT_SECRET, 'gap-user') });

    // Paced over about six seconds, longer than the two rabbitmqctl calls that find and close the
    // gateway's connection take, so that items are still being published while it has no queue.
    const publishing = (async () => {
      for (let n = 0; n < TOTAL; n++) {
        await sdk.publish({ id: `gap-${n}`, template: 'gap', to: [{ userId: 'gap-user' }], data: { n } });
        await sleep(20);
      }
    })();
    await eventually(async () => client.messages().length >= 10, 30_000, 'the first pushes');
    expect(await closeFromBroker(gatewayPorts, 'test: gateway connection closed')).toBe(gatewayPorts.length);
    const closedAt = client.messages().length;
    await publishing;
    // The drop happened mid-flow, or this test proves nothing.
    expect(closedAt).toBeLessThan(TOTAL - 50);

    const titles = await eventually(
      async () => {
        const got = new Set(client.messages().map((m) => m.item.title));
        return got.size === TOTAL ? got : undefined;
      },
      60_000,
      `all ${TOTAL} items on the socket (got ${client.messages().length} frames)`,
    );
    expect(titles).toEqual(new Set(Array.from({ length: TOTAL }, (_, n) => `Item ${n}`)));
    // The socket never had to reconnect.
    expect(client.ws.readyState).toBe(client.ws.OPEN);
  });
});
