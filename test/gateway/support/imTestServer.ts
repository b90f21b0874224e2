import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { buildApp, type App } from '../../../src/app';
import { createAppContext, type AppContext } from '../../../src/appContext';
import type { BrokerConnection } from '../../../src/broker/brokerConnection';
import type { TopologyNames } from '../../../src/broker/topologyNames';
import { loadConfig, publicUrlOf } from '../../../src/config/loadConfig';
import { resolveLocalSecrets } from '../../../src/config/localSecrets';
import type { Database } from '../../../src/db/database';
import { createImRuntime, type ImRuntime } from '../../../src/gateway/imRuntime';
import { createInboxStore } from '../../../src/inbox/inboxStore';
import { inboxJobHandlers } from '../../../src/inbox/inboxJobs';
import { createScheduler, schedulerChannel, type Scheduler } from '../../../src/scheduler/scheduler';
import { createServices } from '../../../src/services';
import { createImSender, type ImSender } from '../../../src/senders/im/imSender';
import { ADMIN_TOKEN } from '../../support/testApp';
import { createPreferenceStore } from '../../../src/audience/subscriberStore';

/** Shared by every instance of a suite, as one deployment shares HERALD_JWT_SECRET. */
export const JWT_SECRET = 'test-jwt-secret-0123456789abcdef0123456789';
export const silentLog = pino({ level: 'silent' });

export interface ImTestServer {
  app: App;
  ctx: AppContext;
  im: ImRuntime;
  /** The IM channel's sender, on this instance's inbox and bus. */
  imSender: ImSender;
  /** ws://127.0.0.1:<port> */
  wsBase: string;
  /** The instance's scheduler, running the inbox jobs (snooze, expiry) when `inboxJobs` was asked for. */
  scheduler?: Scheduler;
  close(): Promise<void>;
}

/** One Herald instance with the IM runtime, listening on an ephemeral port. */
export async function startImServer(opts: {
  db: Database;
  names: TopologyNames;
  broker?: BrokerConnection;
  env?: Record<string, string>;
  /** Run a scheduler with the inbox's jobs, as every instance of a deployment does. */
  inboxJobs?: boolean;
}): Promise<ImTestServer> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-im-'));
  const config = loadConfig({
    HERALD_HOME: home,
    HERALD_ADMIN_TOKENS: ADMIN_TOKEN,
    HERALD_JWT_SECRET: JWT_SECRET,
    LOG_LEVEL: 'silent',
    ...opts.env,
  });
  const secrets = resolveLocalSecrets(config);
  const im = await createImRuntime({
    preferences: createPreferenceStore(opts.db.sql),
    inbox: createInboxStore(opts.db.sql, { schedulerChannel: schedulerChannel(opts.db.schema) }),
    gateway: config.HERALD_ROLES.includes('gateway'),
    gatewayOptions: {
      heartbeatMs: config.HERALD_WS_HEARTBEAT_MS,
      maxBufferedBytes: config.HERALD_WS_MAX_BUFFERED_BYTES,
      maxSocketsPerUser: config.HERALD_WS_MAX_SOCKETS_PER_USER,
    },
    jwtSecret: secrets.jwtSecret,
    jwtMaxTtlMs: config.HERALD_JWT_MAX_TTL,
    broker: opts.broker,
    names: opts.names,
    log: silentLog,
  });
  const ctx = createAppContext({
    config,
    db: opts.db,
    secrets,
    services: createServices({
      db: opts.db,
      secrets,
      inbox: im.inbox,
      imBus: im.bus,
      webhookAllowHosts: config.HERALD_WEBHOOK_ALLOW_HOSTS,
      unsubscribe: { publicUrl: publicUrlOf(config), ttlMs: config.HERALD_UNSUBSCRIBE_LINK_TTL },
    }),
    metrics: new Registry(),
    gatewayRoutes: im.routes,
  });
  const app = await buildApp(ctx);
  await im.start();
  let scheduler: Scheduler | undefined;
  if (opts.inboxJobs) {
    scheduler = createScheduler({ db: opts.db, log: silentLog, pollMs: 1000 });
    for (const [kind, handler] of inboxJobHandlers({ inbox: im.inbox, bus: im.bus, log: silentLog }))
      scheduler.register(kind, handler);
    await scheduler.start();
  }
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return {
    app,
    ctx,
    im,
    imSender: createImSender({ inbox: im.inbox, bus: im.bus, log: silentLog }),
    wsBase: `ws://127.0.0.1:${address.port}`,
    scheduler,
    async close() {
      await scheduler?.stop();
      await im.close();
      await app.close();
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}
