import type { Channel, ConfirmChannel } from 'amqplib';
import type { FastifyBaseLogger } from 'fastify';
import { publishConfirmed } from '../broker/confirmPublish';
import type { BrokerConnection } from '../broker/brokerConnection';
import { imEventSchema, type ImBus, type ImEvent } from '../inbox/imBus';

/**
 * IM fan-out over a RabbitMQ fanout exchange. Publishing uses a confirm channel; every subscriber binds
 * its own server-named, exclusive, auto-delete queue, re-created after each reconnect. Events are
 * transient: what was published while the queue was gone is read from the database by the gateway
 * (`onResubscribed`), and a socket that reconnects catches up with `since`.
 */
export async function createAmqpImBus(
  broker: BrokerConnection,
  exchange: string,
  log: FastifyBaseLogger,
): Promise<ImBus> {
  let pub: ConfirmChannel | undefined;
  await broker.onConnect(async (model) => {
    const ch = await model.createConfirmChannel();
    ch.on('error', (err: Error) => log.warn({ err: err.message }, 'im bus: publish channel error'));
    ch.on('close', () => {
      if (pub === ch) pub = undefined;
    });
    await ch.assertExchange(exchange, 'fanout', { durable: true });
    pub = ch;
  });

  // Not persistent: an event missed by a gateway is read from the database on (re)connect.
  const publishOne = (ch: ConfirmChannel, event: ImEvent): Promise<void> =>
    publishConfirmed(ch, exchange, '', Buffer.from(JSON.stringify(event)), {
      contentType: 'application/json',
      persistent: false,
    });

  async function publishMany(events: ImEvent[]): Promise<void> {
    if (events.length === 0) return;
    const ch = pub;
    if (!ch) throw new Error('im bus: broker not connected');
    await Promise.all(events.map((e) => publishOne(ch, e)));
  }

  return {
    publish: (event) => publishMany([event]),
    publishMany,
    async subscribe(handler, opts = {}) {
      let active = true;
      let sub: Channel | undefined;
      let subscribedBefore = false;
      await broker.onConnect(async (model) => {
        if (!active) return;
        const ch = await model.createChannel();
        ch.on('error', (err: Error) => log.warn({ err: err.message }, 'im bus: subscribe channel error'));
        await ch.assertExchange(exchange, 'fanout', { durable: true });
        const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
        await ch.bindQueue(queue, exchange, '');
        await ch.consume(
          queue,
          (msg) => {
            if (!msg) return;
            let parsed: ReturnType<typeof imEventSchema.safeParse>;
            try {
              parsed = imEventSchema.safeParse(JSON.parse(msg.content.toString('utf8')));
            } catch {
              log.warn('im bus: dropped an event that is not JSON');
              return;
            }
            if (!parsed.success) {
              log.warn({ issues: parsed.error.issues.length }, 'im bus: dropped an invalid event');
              return;
            }
            try {
              handler(parsed.data);
            } catch (err) {
              log.error({ err }, 'im bus: handler failed');
            }
          },
          { noAck: true },
        );
        sub = ch;
        if (subscribedBefore) opts.onResubscribed?.();
        subscribedBefore = true;
      });
      return async () => {
        active = false;
        const ch = sub;
        sub = undefined;
        await ch?.close().catch(() => undefined);
      };
    },
  };
}
