import { context } from '@opentelemetry/api';
import type { Channel, ConfirmChannel } from 'amqplib';
import type { FastifyBaseLogger } from 'fastify';
import { publishConfirmed } from '../broker/confirmPublish';
import type { BrokerConnection } from '../broker/brokerConnection';
import { imEventSchema, type ImBus, type ImEvent, type ImSubscription } from '../inbox/imBus';
import { imRoutingKey } from './imRouting';
import { contextFromHeaders, traceHeadersOf, type TraceHeaders } from '../tracing/traceContext';

/** How long `hold` waits for a subscription that is between connections before it lets the hello go. */
const HOLD_WAIT_MS = 5000;

/**
 * IM events over a RabbitMQ direct exchange, routed by user: a publish carries the user's key, and each
 * gateway's server-named, exclusive, auto-delete queue is bound with the key of every user it holds a
 * socket of (bound at the first socket, unbound after the last), so a gateway receives only its users'
 * events and adding gateways adds capacity. After a reconnect the queue is re-created with every held
 * key bound before consuming. Events are transient: what was published while the queue was gone is read
 * from the database by the gateway (`onResubscribed`), and a socket that reconnects catches up with
 * `since`.
 */
export async function createAmqpImBus(
  broker: BrokerConnection,
  exchange: string,
  log: FastifyBaseLogger,
  onReceived?: () => void,
): Promise<ImBus> {
  let pub: ConfirmChannel | undefined;
  await broker.onConnect(async (model) => {
    const ch = await model.createConfirmChannel();
    ch.on('error', (err: Error) => log.warn({ err: err.message }, 'im bus: publish channel error'));
    ch.on('close', () => {
      if (pub === ch) pub = undefined;
    });
    await ch.assertExchange(exchange, 'direct', { durable: true });
    pub = ch;
  });

  // Not persistent: an event missed by a gateway is read from the database on (re)connect.
  const publishOne = (ch: ConfirmChannel, event: ImEvent, trace: TraceHeaders | undefined): Promise<void> =>
    publishConfirmed(ch, exchange, imRoutingKey(event.userId), Buffer.from(JSON.stringify(event)), {
      contentType: 'application/json',
      persistent: false,
      ...(trace ? { headers: trace } : {}),
    });

  async function publishMany(events: ImEvent[]): Promise<void> {
    if (events.length === 0) return;
    const ch = pub;
    if (!ch) throw new Error('im bus: broker not connected');
    // The publisher's trace context (the IM send's) goes with each event, for the gateway's push span.
    const trace = traceHeadersOf();
    await Promise.all(events.map((e) => publishOne(ch, e, trace)));
  }

  return {
    publish: (event) => publishMany([event]),
    publishMany,
    async subscribe(handler, opts = {}): Promise<ImSubscription> {
      let active = true;
      let live: { ch: Channel; queue: string } | undefined;
      let waiting: Array<() => void> = [];
      let subscribedBefore = false;
      /** Sockets held per routing key, and the bind in progress or done for each key held. */
      const sockets = new Map<string, number>();
      const bound = new Map<string, Promise<void>>();

      const bind = (key: string): Promise<void> => {
        const sub = live;
        if (!sub) return Promise.resolve();
        const p = sub.ch.bindQueue(sub.queue, exchange, key).then(
          () => undefined,
          (err: Error) => log.warn({ err: err.message }, 'im bus: binding a user failed'),
        );
        bound.set(key, p);
        return p;
      };

      await broker.onConnect(async (model) => {
        if (!active) return;
        const ch = await model.createChannel();
        ch.on('error', (err: Error) => log.warn({ err: err.message }, 'im bus: subscribe channel error'));
        ch.on('close', () => {
          if (live?.ch === ch) live = undefined;
        });
        await ch.assertExchange(exchange, 'direct', { durable: true });
        const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
        live = { ch, queue };
        bound.clear();
        // Pipelined on the channel; a hold arriving meanwhile binds its own key on `live`.
        await Promise.all([...sockets.keys()].map(bind));
        await ch.consume(
          queue,
          (msg) => {
            if (!msg) return;
            onReceived?.();
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
              const event = parsed.data;
              context.with(contextFromHeaders(msg.properties.headers), () => handler(event));
            } catch (err) {
              log.error({ err }, 'im bus: handler failed');
            }
          },
          { noAck: true },
        );
        const woken = waiting;
        waiting = [];
        for (const w of woken) w();
        if (subscribedBefore) opts.onResubscribed?.();
        subscribedBefore = true;
      });

      /** Resolves once a subscription is live again, or after HOLD_WAIT_MS (the resubscribe catches up). */
      const untilLive = () =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(done, HOLD_WAIT_MS);
          function done() {
            clearTimeout(timer);
            waiting = waiting.filter((w) => w !== done);
            resolve();
          }
          waiting.push(done);
        });

      return {
        async hold(userId) {
          const key = imRoutingKey(userId);
          sockets.set(key, (sockets.get(key) ?? 0) + 1);
          if (!live) return untilLive();
          await (bound.get(key) ?? bind(key));
        },
        release(userId) {
          const key = imRoutingKey(userId);
          const n = (sockets.get(key) ?? 0) - 1;
          if (n > 0) {
            sockets.set(key, n);
            return;
          }
          sockets.delete(key);
          bound.delete(key);
          const sub = live;
          // Ordered after any bind of the same key on this channel; a later hold binds again after it.
          sub?.ch
            .unbindQueue(sub.queue, exchange, key)
            .catch((err: Error) => log.warn({ err: err.message }, 'im bus: unbinding a user failed'));
        },
        async close() {
          active = false;
          const sub = live;
          live = undefined;
          await sub?.ch.close().catch(() => undefined);
        },
      };
    },
  };
}
