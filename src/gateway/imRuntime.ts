import type { FastifyBaseLogger, FastifyPluginAsync } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import type { AppContext } from '../appContext';
import { createUserTokenVerifier } from '../auth/userToken';
import type { BrokerConnection } from '../broker/brokerConnection';
import type { TopologyNames } from '../broker/topologyNames';
import { createLocalImBus, type ImBus } from '../inbox/imBus';
import type { InboxStore } from '../inbox/inboxStore';
import type { PreferenceStore } from '../audience/subscriberStore';
import { createAmqpImBus } from './amqpImBus';
import { demoPageRoute } from './demoPage';
import { createGateway, type Gateway, type GatewayOptions } from './gateway';
import { inboxKitRoute } from './inboxKitRoute';
import { createSocketRoute } from './socketRoute';

export interface ImRuntime {
  bus: ImBus;
  inbox: InboxStore;
  /** Present when this process runs the `gateway` role. */
  gateway?: Gateway;
  /** The socket route, the inbox kit and the demo page where the gateway runs; none elsewhere. */
  routes: readonly FastifyPluginAsync<{ ctx: AppContext }>[];
  /** Starts the gateway (bus subscription, heartbeat); call before listening. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface ImRuntimeOptions {
  inbox: InboxStore;
  /** The users' own preferences, read and written over the socket. */
  preferences: PreferenceStore;
  /** Whether this process runs the `gateway` role. */
  gateway: boolean;
  gatewayOptions: GatewayOptions;
  jwtSecret: string;
  /** HERALD_JWT_MAX_TTL: longer-lived user tokens are refused. */
  jwtMaxTtlMs: number;
  broker?: BrokerConnection;
  names: TopologyNames;
  log: FastifyBaseLogger;
  /** Where the gateway counts the bus events routed to it (herald_im_bus_events_received_total). */
  metrics?: Registry;
}

/**
 * In-site IM's moving parts: the bus (AMQP with a broker, in-process without) and, with the `gateway`
 * role, the gateway with its socket route and demo page.
 */
export async function createImRuntime(opts: ImRuntimeOptions): Promise<ImRuntime> {
  const { inbox, broker, names, log } = opts;
  const received =
    opts.gateway && opts.metrics
      ? new Counter({
          name: 'herald_im_bus_events_received_total',
          help: 'IM events the bus routed to this gateway (its users, and the rare key collision)',
          registers: [opts.metrics],
        })
      : undefined;
  const bus = broker
    ? await createAmqpImBus(broker, names.im, log, received && (() => received.inc()))
    : createLocalImBus();
  const gateway = opts.gateway
    ? createGateway({ options: opts.gatewayOptions, inbox, bus, log, preferences: opts.preferences })
    : undefined;
  const routes: FastifyPluginAsync<{ ctx: AppContext }>[] = gateway
    ? [
        createSocketRoute({
          gateway,
          verifyToken: createUserTokenVerifier(opts.jwtSecret, opts.jwtMaxTtlMs),
        }),
        demoPageRoute,
        inboxKitRoute,
      ]
    : [];
  return {
    bus,
    inbox,
    gateway,
    routes,
    async start() {
      await gateway?.start();
    },
    async close() {
      await gateway?.close();
    },
  };
}
