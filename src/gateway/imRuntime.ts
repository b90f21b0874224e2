import type { FastifyBaseLogger } from 'fastify';
import type { AppContext } from '../appContext';
import { createUserTokenVerifier } from '../auth/userToken';
import type { BrokerConnection } from '../broker/brokerConnection';
import type { TopologyNames } from '../broker/topologyNames';
import { createInboxStore } from '../inbox/inboxStore';
import { createImSender, type ImSender } from '../senders/imSender';
import { createAmqpImBus } from './amqpImBus';
import { demoPageRoute } from './demoPage';
import { createGateway, type Gateway } from './gateway';
import { createLocalImBus, type ImBus } from './imBus';
import { createSocketRoute } from './socketRoute';

export interface ImRuntime {
  bus: ImBus;
  sender: ImSender;
  /** Present when this process runs the `gateway` role. */
  gateway?: Gateway;
  /** Starts the gateway (bus subscription, heartbeat); call before listening. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Wires in-site IM on a context: the bus (AMQP with a broker, in-process without), the IM sender and,
 * with the `gateway` role, the socket route and demo page (added to `ctx.extraRoutes`, so call this
 * before buildApp). Replaces `ctx.services.imBus` so HTTP reads announce over the same bus.
 */
export async function createImRuntime(deps: {
  ctx: AppContext;
  broker?: BrokerConnection;
  names: TopologyNames;
  log: FastifyBaseLogger;
}): Promise<ImRuntime> {
  const { ctx, broker, names, log } = deps;
  const inbox = ctx.services.inbox ?? createInboxStore(ctx.db.sql);
  const bus = broker ? await createAmqpImBus(broker, names.im, log) : createLocalImBus();
  ctx.services.inbox = inbox;
  ctx.services.imBus = bus;
  const sender = createImSender({ inbox, bus, log });

  let gateway: Gateway | undefined;
  if (ctx.config.HERALD_ROLES.includes('gateway')) {
    gateway = createGateway({
      options: {
        heartbeatMs: ctx.config.HERALD_WS_HEARTBEAT_MS,
        maxBufferedBytes: ctx.config.HERALD_WS_MAX_BUFFERED_BYTES,
        maxSocketsPerUser: ctx.config.HERALD_WS_MAX_SOCKETS_PER_USER,
      },
      inbox,
      bus,
      log,
    });
    const verifyToken = createUserTokenVerifier(ctx.secrets.jwtSecret, ctx.config.HERALD_JWT_MAX_TTL);
    ctx.extraRoutes = [
      ...(ctx.extraRoutes ?? []),
      createSocketRoute({ gateway, verifyToken }),
      demoPageRoute,
    ];
  }

  return {
    bus,
    sender,
    gateway,
    async start() {
      await gateway?.start();
    },
    async close() {
      await gateway?.close();
      await sender.close?.();
    },
  };
}
