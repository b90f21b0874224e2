import { randomBytes } from 'node:crypto';
import amqplib, { type ChannelModel } from 'amqplib';
import pino from 'pino';
import { connectBroker, type BrokerConnection } from '../../src/broker/brokerConnection';
import { topologyNames } from '../../src/broker/topologyNames';
import { createHeraldPublisher, PublishError, type HeraldPublisher } from '../../src/sdk/publisher';
import { describeWith, TEST_AMQP_URL } from '../support/services';
import { startTcpProxy, type TcpProxy } from '../support/tcpProxy';
import { waitUntil } from '../chaos/support/waitUntil';

const log = pino({ level: 'silent' });
const broker = new URL(TEST_AMQP_URL);
const credentials = `${broker.username || 'guest'}:${broker.password || 'guest'}`;
const vhost = broker.pathname.length > 1 ? broker.pathname : '';
const target = { host: broker.hostname, port: Number(broker.port || 5672) };

/**
 * Several "nodes" (TCP forwarders to the one test broker, each of which can go away as a node does) in
 * one AMQP_URL: the connection takes the first that answers, moves to another when its node goes, runs
 * its hooks (topology) again there, and the SDK's publish resolves only on a confirm.
 */
describeWith(['rabbitmq'], 'a broker URL list as a cluster', () => {
  const proxies: TcpProxy[] = [];
  const open: Array<{ close(): Promise<void> }> = [];
  let side: ChannelModel;
  const prefix = `fo${randomBytes(4).toString('hex')}.`;
  const names = topologyNames(prefix);
  const queue = `${prefix}probe`;

  const node = async () => {
    const p = await startTcpProxy(target);
    proxies.push(p);
    return p;
  };
  const urlOf = (p: TcpProxy) => `${p.url(credentials)}${vhost}`;
  /** A port nothing listens on: a node that is down from the start. */
  const deadUrl = async () => {
    const p = await node();
    await p.down();
    return urlOf(p);
  };

  beforeAll(async () => {
    side = await amqplib.connect(TEST_AMQP_URL);
  });
  afterAll(async () => {
    for (const o of open) await o.close().catch(() => undefined);
    for (const p of proxies) await p.close();
    const ch = await side.createChannel();
    await ch.deleteQueue(queue);
    await ch.deleteExchange(names.exchange);
    await side.close();
  });

  it('skips a node that is down, and when its node goes, reconnects to the next and declares again', async () => {
    const a = await node();
    const b = await node();
    let hookRuns = 0;
    const conn: BrokerConnection = await connectBroker(`${await deadUrl()}, ${urlOf(a)},${urlOf(b)}`, log, {
      initialDelayMs: 50,
    });
    open.push(conn);
    await conn.onConnect(async (model) => {
      hookRuns++;
      const ch = await model.createChannel();
      await ch.assertQueue(queue, { durable: true });
      await ch.close();
    });
    expect(conn.node()).toBe(`amqp://127.0.0.1:${a.port}`);
    expect(hookRuns).toBe(1);

    // The queue removed behind its back: only a fresh declaration on the next node brings it back.
    const ch = await side.createChannel();
    await ch.deleteQueue(queue);
    await a.down();
    await waitUntil(async () => conn.node() === `amqp://127.0.0.1:${b.port}`, 10_000, 'a connection via b');
    expect(hookRuns).toBe(2);
    await expect(ch.checkQueue(queue)).resolves.toMatchObject({ queue });
    await ch.close();
  });

  it('retries every node with backoff while all are down, and connects when one comes back', async () => {
    const a = await node();
    const b = await node();
    const conn = await connectBroker([urlOf(a), urlOf(b)], log, { initialDelayMs: 50, maxDelayMs: 400 });
    open.push(conn);
    await a.down();
    await b.down();
    await waitUntil(async () => !conn.isConnected(), 5000, 'the connection to notice');
    await new Promise((r) => setTimeout(r, 1500));
    expect(conn.isConnected()).toBe(false);
    await a.up();
    await waitUntil(async () => conn.isConnected(), 10_000, 'a reconnect via a');
    expect(conn.node()).toBe(`amqp://127.0.0.1:${a.port}`);
  });

  it('fails the first connect, naming the last error, when no node answers', async () => {
    const started = Date.now();
    await expect(
      connectBroker(`${await deadUrl()},${await deadUrl()}`, log, { initialDelayMs: 50, initialRounds: 3 }),
    ).rejects.toThrow(/ECONNREFUSED/);
    // two pauses between three rounds: at least 0.8 × (50 + 100) ms
    expect(Date.now() - started).toBeGreaterThanOrEqual(120);
  });

  describe('the SDK', () => {
    const envelope = (id: string) => ({ id, template: 'failover_probe', to: [{ email: 'a@example.com' }] });
    let sdk: HeraldPublisher;
    let a: TcpProxy;
    let b: TcpProxy;

    beforeAll(async () => {
      a = await node();
      b = await node();
      sdk = await createHeraldPublisher({ url: [urlOf(a), urlOf(b)], prefix, confirmTimeoutMs: 3000 });
      open.push(sdk);
      const ch = await side.createChannel();
      await ch.assertQueue(queue, { durable: true });
      await ch.purgeQueue(queue);
      await ch.bindQueue(queue, names.exchange, 'notify.#');
      await ch.close();
    });

    it('resolves each publish only once it is confirmed, across the loss of its node', async () => {
      const resolved: string[] = [];
      const rejected: string[] = [];
      const publishing = Promise.all(
        Array.from({ length: 400 }, async (_, i) => {
          await new Promise((r) => setTimeout(r, i * 2));
          const id = `fo-${i}`;
          await sdk.publish(envelope(id)).then(
            () => resolved.push(id),
            () => rejected.push(id),
          );
        }),
      );
      await new Promise((r) => setTimeout(r, 300));
      await a.down();
      await publishing;

      expect(resolved.length + rejected.length).toBe(400);
      expect(rejected).toEqual([]);
      // The loss fell in the middle of the stream, and the publishes after it went through b.
      expect(b.accepted()).toBeGreaterThan(0);
      const seen = new Set<string>();
      const ch = await side.createChannel();
      for (;;) {
        const msg = await ch.get(queue, { noAck: true });
        if (!msg) break;
        seen.add((JSON.parse(msg.content.toString('utf8')) as { id: string }).id);
      }
      await ch.close();
      // Nothing resolved and missing: a resolved publish was confirmed by the broker.
      expect(resolved.filter((id) => !seen.has(id))).toEqual([]);
    });

    it('rejects (does not hang) when no node can take the envelope', async () => {
      await a.down();
      await b.down();
      const started = Date.now();
      const err = await sdk.publish(envelope('fo-nobody')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PublishError);
      // not_confirmed when the publish went out on the channel just before it noticed its node was gone
      expect(['broker_unavailable', 'not_confirmed']).toContain((err as PublishError).code);
      expect(Date.now() - started).toBeGreaterThanOrEqual(3000 - 50);
    });

    it('rejects as not confirmed when the node takes the envelope but never confirms it', async () => {
      await a.up();
      await waitUntil(
        async () => (await sdk.publish(envelope('fo-back')).then(() => true)) === true,
        15_000,
        'publishing again via a',
      );
      a.mute();
      const err = await sdk.publish(envelope('fo-unconfirmed')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PublishError);
      expect((err as PublishError).code).toBe('not_confirmed');
    });
  });
});
