import { randomUUID } from 'node:crypto';
import { connectBroker } from '../../src/broker/brokerConnection';
import { createAmqpImBus } from '../../src/gateway/amqpImBus';
import type { ImBus, ImEvent, ImSubscription } from '../../src/inbox/imBus';
import { describeWith, TEST_AMQP_URL } from '../support/services';
import { startTcpProxy } from '../support/tcpProxy';
import { createBrokerFixture } from './support/brokerFixture';
import { eventually, sleep } from './support/imJobs';
import { silentLog } from './support/imTestServer';

/** A counts event whose version tells the events of one user apart. */
const unread = (userId: string, n: number): ImEvent => ({
  type: 'counts',
  userId,
  counts: { version: n, unread: n, unseen: n, tabs: {} },
});

/**
 * The bus as two gateway instances see it: each subscription receives the events of the users it
 * holds and of no one else, from the moment `hold` resolves until the last `release`.
 */
describeWith(['rabbitmq'], 'IM bus routed by user', () => {
  const broker = createBrokerFixture();
  let publisher: ImBus;
  const subs: ImSubscription[] = [];

  const gateway = async (conn?: Awaited<ReturnType<typeof broker.connect>>) => {
    const bus = await createAmqpImBus(conn ?? (await broker.connect()), broker.names.im, silentLog);
    const got: ImEvent[] = [];
    let resubscribed = 0;
    const sub = await bus.subscribe((e) => got.push(e), { onResubscribed: () => resubscribed++ });
    subs.push(sub);
    return { sub, got, resubscribed: () => resubscribed };
  };

  beforeAll(async () => {
    publisher = await createAmqpImBus(await broker.connect(), broker.names.im, silentLog);
  });
  afterAll(async () => {
    for (const s of subs) await s.close();
    await broker.cleanup();
  });

  it('delivers each event only to the gateways holding its user', async () => {
    const [g1, g2] = [await gateway(), await gateway()];
    const [alice, bob, carol] = [randomUUID(), randomUUID(), randomUUID()];
    await g1.sub.hold(alice);
    await g2.sub.hold(bob);
    await g2.sub.hold(alice);
    // Published right after hold resolved: the binding is already in place.
    await publisher.publishMany([unread(alice, 1), unread(bob, 2), unread(carol, 3)]);
    await eventually(async () => g1.got.length === 1 && g2.got.length === 2, 5000);
    await sleep(200);
    expect(g1.got).toEqual([unread(alice, 1)]);
    expect(g2.got.map((e) => e.userId).sort()).toEqual([alice, bob].sort());
  });

  it('keeps routing while any socket of the user is held, and stops after the last release', async () => {
    const g = await gateway();
    const user = randomUUID();
    await g.sub.hold(user);
    await g.sub.hold(user);
    g.sub.release(user);
    await publisher.publish(unread(user, 1));
    await eventually(async () => g.got.length === 1, 5000);
    g.sub.release(user);
    // The unbind is an RPC on the subscription's channel: give it a moment, then nothing more arrives.
    await sleep(300);
    await publisher.publish(unread(user, 2));
    await sleep(500);
    expect(g.got).toEqual([unread(user, 1)]);
    await g.sub.hold(user);
    await publisher.publish(unread(user, 3));
    await eventually(async () => g.got.length === 2, 5000);
    expect(g.got[1]).toEqual(unread(user, 3));
  });

  it('binds every held user again on the new queue after a reconnect, before it says it resubscribed', async () => {
    const u = new URL(TEST_AMQP_URL);
    const proxy = await startTcpProxy({ host: u.hostname, port: Number(u.port || 5672) });
    const conn = await connectBroker(`${proxy.url(`${u.username}:${u.password}`)}${u.pathname}`, silentLog, {
      initialDelayMs: 50,
    });
    try {
      const g = await gateway(conn);
      const users = Array.from({ length: 50 }, () => randomUUID());
      for (const user of users) await g.sub.hold(user);
      await proxy.down();
      await proxy.up();
      await eventually(async () => g.resubscribed() === 1, 10_000);
      await publisher.publishMany(users.map((user, i) => unread(user, i)));
      await eventually(async () => g.got.length === users.length, 5000);
    } finally {
      await conn.close();
      await proxy.close();
    }
  });
});
