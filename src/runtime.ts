import type { FastifyBaseLogger } from 'fastify';
import path from 'node:path';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { AppContext } from './appContext';
import { connectBroker, type BrokerConnection } from './broker/brokerConnection';
import { startChangeBroadcast } from './broker/changeBroadcast';
import { topologyNames } from './broker/topologyNames';
import type { Config } from './config/loadConfig';
import { resolveLocalSecrets, type LocalSecrets } from './config/localSecrets';
import { createPipelineMetrics } from './consumer/pipelineMetrics';
import { startPipeline } from './consumer/pipeline';
import { registerQueueDepthGauge } from './consumer/queueDepthGauge';
import { bindTemplates } from './consumer/templateBinding';
import type { ChannelName } from './contract/envelope';
import { openDatabase, type Database } from './db/database';
import { migrateDatabase } from './db/migrateDatabase';
import { createImRuntime } from './gateway/imRuntime';
import { createAdminTokenCheck } from './http/adminAuth';
import { createDingTalkSender } from './senders/dingtalk/dingtalkSender';
import { createRobotBudget } from './senders/dingtalk/robotBudget';
import { createMailSender } from './senders/mail/mailSender';
import type { Sender } from './senders/types';
import { registerServices } from './services';
import { verifyStoredSecrets } from './accounts/verifyStoredSecrets';

export interface Runtime {
  ctx: AppContext;
  /** Stops taking work and finishes what is in flight (acking it), then closes sockets with a reason. */
  drain(): Promise<void>;
  /** Closes senders' pools, the broker and the database. Call after drain() and the HTTP server's close. */
  close(): Promise<void>;
}

/** The context every role shares; services are filled in by registerServices. */
export function createContext(config: Config, db: Database, secrets: LocalSecrets): AppContext {
  const ctx: AppContext = {
    config,
    db,
    secrets,
    isAdmin: createAdminTokenCheck(secrets.adminTokens),
    readiness: { database: () => db.ping() },
    metrics: new Registry(),
    services: {} as AppContext['services'],
  };
  registerServices(ctx);
  return ctx;
}

/** Opens the database (migrating it) and the broker, and starts the roles in HERALD_ROLES. */
export async function startRuntime(config: Config, log: FastifyBaseLogger): Promise<Runtime> {
  const closers: Array<() => Promise<unknown>> = [];
  const closeAll = async () => {
    for (const close of closers.reverse())
      await close().catch((err: unknown) => log.warn({ err }, 'error while closing'));
    closers.length = 0;
  };
  try {
    const db = await openDatabase({
      url: config.DATABASE_URL,
      poolSize: config.DATABASE_POOL_SIZE,
      homeDir: config.homeDir,
    });
    closers.push(() => db.close());
    if (db.kind === 'pglite')
      log.info(
        { dataDir: path.join(config.homeDir, 'data') },
        'database: embedded PGlite (set DATABASE_URL for PostgreSQL)',
      );
    const applied = await migrateDatabase(db);
    log.info({ applied }, applied.length ? 'database: migrations applied' : 'database: schema up to date');

    const ctx = createContext(config, db, resolveLocalSecrets(config));
    await verifyStoredSecrets(db.prisma, ctx.secrets, log);
    collectDefaultMetrics({ register: ctx.metrics, prefix: 'herald_' });
    const roles = new Set(config.HERALD_ROLES);
    const names = topologyNames(config.HERALD_QUEUE_PREFIX);

    let broker: BrokerConnection | undefined;
    if (config.AMQP_URL) {
      broker = await connectBroker(config.AMQP_URL, log);
      closers.push(() => (broker as BrokerConnection).close());
      const b = broker;
      ctx.readiness.broker = async () => {
        if (!b.isConnected()) throw new Error('not connected to RabbitMQ; reconnecting');
      };
      const stopBroadcast = await startChangeBroadcast(broker, names.events, ctx.services, log);
      closers.push(async () => stopBroadcast());
    } else if (roles.size < 3) {
      log.warn(
        { roles: [...roles] },
        'without AMQP_URL every role runs in this process on the in-process queue',
      );
    }

    const im = await createImRuntime({ ctx, broker, names, log });
    const mail = createMailSender({ outboxDir: path.join(config.homeDir, 'outbox'), log });
    closers.push(() => mail.close());
    const offAccounts = ctx.services.accounts.onChange((name) => void mail.forgetAccount(name));
    closers.push(async () => offAccounts());
    const senders = new Map<ChannelName, Sender>([
      ['mail', mail as Sender],
      ['dingtalk', createDingTalkSender({ budget: createRobotBudget(db), log }) as Sender],
      ['im', im.sender as Sender],
    ]);

    const pipelineMetrics = createPipelineMetrics(ctx.metrics);
    const pipeline = await startPipeline({
      config,
      db,
      broker,
      templates: bindTemplates(ctx.services.templates),
      accounts: ctx.services.accounts,
      senders,
      metrics: pipelineMetrics,
      log,
      consume: roles.has('consumer') || !broker,
    });
    ctx.services.pipeline = pipeline.services;
    if (broker)
      registerQueueDepthGauge(ctx.metrics, broker, pipeline.services.names, config.HERALD_RETRY_DELAYS);

    await im.start();
    let drained = false;
    return {
      ctx,
      async drain() {
        if (drained) return;
        drained = true;
        await pipeline.stop();
        await im.close();
      },
      async close() {
        if (!drained) {
          drained = true;
          await pipeline.stop().catch(() => undefined);
          await im.close().catch(() => undefined);
        }
        await closeAll();
      },
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
