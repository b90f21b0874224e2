import type { FastifyBaseLogger } from 'fastify';
import type { AppContext } from '../appContext';
import { createUserTokenVerifier } from '../auth/userToken';
import type { BrokerConnection } from '../broker/brokerConnection';
import type { TopologyNames } from '../broker/topologyNames';
import { createInboxStore } from '../inbox/inboxStore';
import { createAmqpImBus } from './amqpImBus';
import { demoPageRoute } from './demoPage';
import { createGateway, type Gateway } from './gateway';
import { createLocalImBus, type ImBus } from '../inbox/imBus';
import type { InboxStore } from '../inbox/inboxStore';
import { createSocketRoute } from './socketRoute';

export interface ImRuntime {
  bus: ImBus;
  inbox: InboxStore;
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

  let gateway: Gateway | undefined;
  if (ctx.config.HERALD_ROLES.includes('gateway')) {
    gateway = createGateway({
      options: {
        heartbeatMs: ctx.config.HERALD_WS_HEARTBEAT_MS,
        maxBufferedBytes: ctx.config.HERALD_WS_MAX_BUFFERED_BYTES,
      },
      inbox,
      bus,
      log,
    });
    const verifyToken = createUserTokenVerifier(ctx.secrets.jwtSecret);
    ctx.extraRoutes = [
      ...(ctx.extraRoutes ?? []),
      createSocketRoute({ gateway, verifyToken }),
      demoPageRoute,
    ];
  }

  return {
    bus,
    inbox,
    gateway,
    async start() {
      await gateway?.start();
    },
    async close() {
      await gateway?.close();
    },
  };
}
