import type { FastifyBaseLogger, FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../appContext';
import { createUserTokenVerifier } from '../auth/userToken';
import type { BrokerConnection } from '../broker/brokerConnection';
import type { TopologyNames } from '../broker/topologyNames';
import { createLocalImBus, type ImBus } from '../inbox/imBus';
import type { InboxStore } from '../inbox/inboxStore';
import { createAmqpImBus } from './amqpImBus';
import { demoPageRoute } from './demoPage';
import { createGateway, type Gateway, type GatewayOptions } from './gateway';
import { createSocketRoute } from './socketRoute';

export interface ImRuntime {
  bus: ImBus;
  inbox: InboxStore;
  /** Present when this process runs the `gateway` role. */
  gateway?: Gateway;
  /** The socket route and demo page where the gateway runs; none elsewhere. */
  routes: readonly FastifyPluginAsync<{ ctx: AppContext }>[];
  /** Starts the gateway (bus subscription, heartbeat); call before listening. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface ImRuntimeOptions {
  inbox: InboxStore;
  /** Whether this process runs the `gateway` role. */
  gateway: boolean;
  gatewayOptions: GatewayOptions;
  jwtSecret: string;
  /** HERALD_JWT_MAX_TTL: longer-lived user tokens are refused. */
  jwtMaxTtlMs: number;
  broker?: BrokerConnection;
  names: TopologyNames;
  log: FastifyBaseLogger;
}

/**
 * In-site IM's moving parts: the bus (AMQP with a broker, in-process without) and, with the `gateway`
 * role, the gateway with its socket route and demo page.
 */
export async function createImRuntime(opts: ImRuntimeOptions): Promise<ImRuntime> {
  const { inbox, broker, names, log } = opts;
  const bus = broker ? await createAmqpImBus(broker, names.im, log) : createLocalImBus();
  const gateway = opts.gateway ? createGateway({ options: opts.gatewayOptions, inbox, bus, log }) : undefined;
  const routes: FastifyPluginAsync<{ ctx: AppContext }>[] = gateway
    ? [
        createSocketRoute({
          gateway,
          verifyToken: createUserTokenVerifier(opts.jwtSecret, opts.jwtMaxTtlMs),
        }),
        demoPageRoute,
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
