import type { FastifyBaseLogger } from 'fastify';
import path from 'node:path';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { registerLiveHeapGauge } from './liveHeapGauge';
import { createAppContext, type AppContext, type ReadinessCheck } from './appContext';
import { connectBroker, type BrokerConnection } from './broker/brokerConnection';
import { startChangeBroadcast } from './broker/changeBroadcast';
import { topologyNames } from './broker/topologyNames';
import { updateCriticalRoute } from './consumer/criticalRoutes';
import { publicUrlOf, type Config } from './config/loadConfig';
import { channelSchema } from './contract/envelope';
import { resolveLocalSecrets, type LocalSecrets } from './config/localSecrets';
import { createPipelineMetrics } from './consumer/pipelineMetrics';
import type { FollowUpChannel } from './consumer/followUps';
import { startPipeline } from './consumer/pipeline';
import { registerQueueDepthGauge } from './consumer/queueDepthGauge';
import { registerSchedulerBacklogGauges } from './scheduler/backlogGauges';
import { bindTemplates } from './consumer/templateBinding';
import { createConcurrencyLimit, reservedSlotsFor } from './consumer/concurrencyLimit';
import { openDatabase, type Database } from './db/database';
import { migrateDatabase } from './db/migrateDatabase';
import { createImRuntime } from './gateway/imRuntime';
import { createAccountTester } from './accounts/accountTest';
import { createSecretHealth } from './accounts/secretHealth';
import { verifyStoredSecrets } from './accounts/verifyStoredSecrets';
import { createInboxStore } from './inbox/inboxStore';
import { inboxJobHandlers } from './inbox/inboxJobs';
import { schedulerChannel } from './scheduler/scheduler';
import { bindChannels, concurrencyVariable } from './senders/channelSet';
import type { AnyChannel, SenderAudience } from './senders/channel';
import { channels } from './senders/registry';
import { registerSendHoldGauge } from './senders/sendHoldGauge';
import { createServices, statusWebhookEgress } from './services';
import { registerWebhookGauges, startStatusWebhooks } from './webhooks/webhookRunner';
import { createPreferenceStore } from './audience/subscriberStore';

export interface Runtime {
  ctx: AppContext;
  /** Stops taking work and finishes what is in flight (acking it), then closes sockets with a reason. */
  drain(): Promise<void>;
  /** Closes senders' pools, the broker and the database. Call after drain() and the HTTP server's close. */
  close(): Promise<void>;
}

/** A context without a pipeline or gateway (tests that exercise the admin API alone). */
export function createContext(config: Config, db: Database, secrets: LocalSecrets): AppContext {
  const metrics = new Registry();
  const secretHealth = createSecretHealth(metrics);
  return createAppContext({
    config,
    db,
    secrets,
    services: createServices({
      db,
      secrets,
      secretHealth,
      apiKeyCacheTtlMs: config.HERALD_API_KEY_CACHE_MS,
      webhookAllowHosts: config.HERALD_WEBHOOK_ALLOW_HOSTS,
      statusWebhookAllowHosts: config.HERALD_STATUS_WEBHOOK_ALLOW_HOSTS,
      unsubscribe: unsubscribeOptions(config),
    }),
    metrics,
    readiness: { secrets: secretHealth.readiness },
  });
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

    // Built in dependency order, each part complete when made: infrastructure, IM, services, channels,
    // pipeline, then the context the routes see.
    const secrets = resolveLocalSecrets(config);
    await verifyStoredSecrets(db.prisma, secrets, log);
    const metrics = new Registry();
    collectDefaultMetrics({ register: metrics, prefix: 'herald_' });
    const stopLiveHeap = registerLiveHeapGauge(metrics);
    closers.push(async () => stopLiveHeap());
    const roles = new Set(config.HERALD_ROLES);
    const names = topologyNames(config.HERALD_QUEUE_PREFIX);
    const secretHealth = createSecretHealth(metrics);
    const readiness: Record<string, ReadinessCheck> = { secrets: secretHealth.readiness };

    let broker: BrokerConnection | undefined;
    if (config.AMQP_URL) {
      const b = await connectBroker(config.AMQP_URL, log);
      broker = b;
      closers.push(() => b.close());
      readiness.broker = async () => {
        if (!b.isConnected()) throw new Error('not connected to RabbitMQ; reconnecting');
      };
    } else if (roles.size < 3) {
      log.warn(
        { roles: [...roles] },
        'without AMQP_URL every role runs in this process; envelopes queue durably in the database',
      );
    }

    const im = await createImRuntime({
      preferences: createPreferenceStore(db.sql),
      inbox: createInboxStore(db.sql, { schedulerChannel: schedulerChannel(db.schema) }),
      gateway: roles.has('gateway'),
      gatewayOptions: {
        heartbeatMs: config.HERALD_WS_HEARTBEAT_MS,
        maxBufferedBytes: config.HERALD_WS_MAX_BUFFERED_BYTES,
        maxSocketsPerUser: config.HERALD_WS_MAX_SOCKETS_PER_USER,
      },
      jwtSecret: secrets.jwtSecret,
      jwtMaxTtlMs: config.HERALD_JWT_MAX_TTL,
      broker,
      names,
      log,
      metrics,
    });
    const base = createServices({
      db,
      secrets,
      secretHealth,
      inbox: im.inbox,
      imBus: im.bus,
      apiKeyCacheTtlMs: config.HERALD_API_KEY_CACHE_MS,
      webhookAllowHosts: config.HERALD_WEBHOOK_ALLOW_HOSTS,
      statusWebhookAllowHosts: config.HERALD_STATUS_WEBHOOK_ALLOW_HOSTS,
      unsubscribe: unsubscribeOptions(config),
    });
    if (broker) {
      const stopBroadcast = await startChangeBroadcast(broker, names.events, base, log);
      closers.push(async () => stopBroadcast());
      const b = broker;
      // Before the write answers: an alert published right after its template turned critical is routed so.
      const offRoutes = base.templates.onChange((code) =>
        updateCriticalRoute(b, names, db.sql, code).catch((err: unknown) =>
          log.warn(
            { err: (err as Error).message, template: code },
            'could not update the critical binding; the next consumer start does',
          ),
        ),
      );
      closers.push(async () => offRoutes());
    }

    const accounts = base.accounts;
    const senderDeps = {
      db,
      log,
      homeDir: config.homeDir,
      inbox: im.inbox,
      imBus: im.bus,
      onAccountChange: (listener: (name: string) => void) => accounts.onChange((name) => listener(name)),
      webhookAllowHosts: config.HERALD_WEBHOOK_ALLOW_HOSTS,
      audience: {
        unsubscribeUrl: ({ channel, userId, address, category, deliveryId }: UnsubscribeScope) =>
          base.unsubscribeLinks.url({
            subject: userId ? { userId } : { address },
            channel: channelSchema.parse(channel),
            category,
            deliveryId,
          }),
        addressRejected: async (r: AddressRejected) => {
          await base.suppressions.suppress(db.sql, { ...r, reason: 'bounced' });
        },
      },
    };
    if (!config.HERALD_PUBLIC_URL && (roles.has('consumer') || !broker))
      log.warn(
        { publicUrl: publicUrlOf(config) },
        'HERALD_PUBLIC_URL is not set: unsubscribe links in mails point to this machine and work only here',
      );
    const channelRuntimes = bindChannels(channels, {
      accounts,
      deps: senderDeps,
      slotFor: (name) => {
        const limit = config[concurrencyVariable(name)];
        return createConcurrencyLimit(limit, reservedSlotsFor(limit));
      },
    });
    const followUps = new Map<string, FollowUpChannel>();
    const registered: readonly AnyChannel[] = channels;
    for (const c of registered)
      if (c.followUp)
        followUps.set(c.name, {
          runner: c.followUp.createRunner(senderDeps, accounts),
          delaysMs: config.HERALD_FOLLOW_UP_DELAYS ?? c.followUp.delaysMs,
        });
    closers.push(() => Promise.all([...channelRuntimes.values()].map((c) => c.close())));

    const pipeline = await startPipeline({
      config,
      db,
      broker,
      templates: bindTemplates(base.templates),
      channels: channelRuntimes,
      metrics: createPipelineMetrics(metrics),
      log,
      consume: roles.has('consumer') || !broker,
      followUps,
      jobs: inboxJobHandlers({ inbox: im.inbox, bus: im.bus, log }),
      suppressions: base.suppressions,
    });
    if (broker)
      registerQueueDepthGauge(metrics, broker, pipeline.services.names, config.HERALD_RETRY_DELAYS, db.sql);
    registerSchedulerBacklogGauges(metrics, db.sql);
    registerWebhookGauges(metrics, db);
    registerSendHoldGauge(metrics, db.sql);
    let stopWebhooks: () => Promise<void> = async () => undefined;
    if (roles.has('consumer') || !broker) {
      const webhooks = await startStatusWebhooks({
        db,
        log,
        secretKey: secrets.secretKey,
        previousSecretKeys: secrets.previousSecretKeys,
        egress: statusWebhookEgress(config.HERALD_STATUS_WEBHOOK_ALLOW_HOSTS),
        metrics,
        retryDelays: config.HERALD_STATUS_WEBHOOK_RETRY_DELAYS,
        maxFailures: config.HERALD_STATUS_WEBHOOK_MAX_FAILURES,
        timeoutMs: config.HERALD_STATUS_WEBHOOK_TIMEOUT_MS,
        pollMs: config.HERALD_STATUS_WEBHOOK_POLL_MS,
      });
      stopWebhooks = () => webhooks.stop();
    }

    const ctx = createAppContext({
      config,
      db,
      secrets,
      services: Object.freeze({
        ...base,
        pipeline: pipeline.services,
        testAccount: createAccountTester({ accounts, channels: channelRuntimes }),
      }),
      metrics,
      readiness,
      gatewayRoutes: im.routes,
    });

    await im.start();
    let drained = false;
    return {
      ctx,
      async drain() {
        if (drained) return;
        drained = true;
        await pipeline.stop();
        await stopWebhooks();
        await im.close();
      },
      async close() {
        if (!drained) {
          drained = true;
          await pipeline.stop().catch(() => undefined);
          await stopWebhooks().catch(() => undefined);
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

type UnsubscribeScope = Parameters<SenderAudience['unsubscribeUrl']>[0];
type AddressRejected = Parameters<SenderAudience['addressRejected']>[0];

function unsubscribeOptions(config: Config): { publicUrl: string; ttlMs: number } {
  return { publicUrl: publicUrlOf(config), ttlMs: config.HERALD_UNSUBSCRIBE_LINK_TTL };
}
