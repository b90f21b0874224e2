import type { FastifyBaseLogger } from 'fastify';
import type { BrokerConnection } from '../broker/brokerConnection';
import { topologyNames, type TopologyNames } from '../broker/topologyNames';
import type { Config } from '../config/loadConfig';
import type { Database } from '../db/database';
import { createDeadLetterStore, type DeadLetterStore } from '../deadLetters/deadLetterStore';
import type { ChannelRuntimes } from '../senders/channelSet';
import type { Channels } from '../senders/registry';
import { createAmqpRunner } from './amqpRunner';
import { syncCriticalRoutes } from './criticalRoutes';
import { createDeliveryStore } from '../delivery/deliveryStore';
import { batchedSubscriberLookup } from '../audience/subscriberStore';
import { dispatch, type DispatchDeps } from './dispatch';
import type { TemplateResolver } from './dispatchTypes';
import { createAmqpEnvelopePublisher, type EnvelopePublisher } from '../broker/envelopePublisher';
import { createFollowUpQueue, type FollowUpChannel } from './followUps';
import { createEnvelopeJobRunner, createLocalRunner } from './localRunner';
import { ENVELOPE_JOB, type DispatchOptions } from '../scheduler/envelopeJobs';
import { createScheduler, type JobHandler } from '../scheduler/scheduler';
import { DIGEST_JOB } from '../delivery/digestState';
import { createDigestCollector, createDigestFlushHandler } from './digests';
import { startDigestSweep } from './digestSweep';
import { createEscalationHandler, ESCALATION_JOB } from './laterChannels';
import { createQuietHoursHandler, QUIET_HOURS_JOB } from './quietHours';
import type { PipelineMetrics } from './pipelineMetrics';
import { retryQueueDelays } from './retryPolicy';
import { startRetention } from '../retention/retentionJob';
import type { Suppressions } from '../audience/suppressionList';

export interface PipelineServices {
  publisher: EnvelopePublisher;
  deadLetters: DeadLetterStore;
  names: TopologyNames;
}

export interface PipelineOptions {
  config: Config;
  db: Database;
  broker?: BrokerConnection;
  templates: TemplateResolver;
  /** Every channel bound to its sender and concurrency limit. */
  channels: ChannelRuntimes<Channels>;
  metrics: PipelineMetrics;
  log: FastifyBaseLogger;
  /** Whether this instance consumes (HERALD_ROLES has `consumer`). */
  consume: boolean;
  /** Channels with a later check, by name (run on RabbitMQ only). */
  followUps?: ReadonlyMap<string, FollowUpChannel>;
  /** More kinds of due work for the scheduler, run on every instance (the inbox's snooze and expiry). */
  jobs?: ReadonlyMap<string, JobHandler>;
  suppressions: Suppressions;
}

/** Send leases outlast the slowest send (SMTP and DingTalk time out well within it). */
const SEND_LEASE_MS = 60_000;

/**
 * Builds the publish side (every instance with the API) and, where the consumer role runs, the runner:
 * RabbitMQ when a broker is given, else the durable queue on the scheduler's table. Scheduled sends wait
 * on the scheduler in both modes, and every consumer runs those that come due.
 */
export async function startPipeline(
  opts: PipelineOptions,
): Promise<{ services: PipelineServices; stop(): Promise<void> }> {
  const { config, db, broker, log } = opts;
  const names = topologyNames(config.HERALD_QUEUE_PREFIX);
  const followUps =
    broker && opts.consume && opts.followUps?.size
      ? createFollowUpQueue({ broker, names, channels: opts.followUps, sql: db.sql, log })
      : undefined;
  const scheduler = createScheduler({
    db,
    log,
    concurrency: config.HERALD_PREFETCH,
    reserved: config.HERALD_PREFETCH_CRITICAL,
  });
  const dispatchDeps: DispatchDeps = {
    sql: db.sql,
    scheduler,
    digests: createDigestCollector({ sql: db.sql, scheduler }),
    templates: opts.templates,
    channels: opts.channels,
    retryDelays: config.HERALD_RETRY_DELAYS,
    now: Date.now,
    log,
    metrics: opts.metrics,
    store: createDeliveryStore(db.sql, SEND_LEASE_MS),
    criticalStore: createDeliveryStore(db.sql, SEND_LEASE_MS),
    directory: batchedSubscriberLookup(db.sql),
    followUps,
    quietHours: { window: config.HERALD_QUIET_HOURS, timeZone: config.HERALD_QUIET_HOURS_TIMEZONE },
    suppressions: opts.suppressions,
  };
  const run = (input: unknown, options?: DispatchOptions) => dispatch(input, dispatchDeps, options);
  let publisher: EnvelopePublisher;
  const deadLetters = createDeadLetterStore(db, () => publisher);
  let stop: () => Promise<void> = async () => undefined;
  let stopping = false;
  if (opts.consume || !broker) {
    scheduler.register(DIGEST_JOB, createDigestFlushHandler({ sql: db.sql, scheduler }));
    scheduler.register(
      ESCALATION_JOB,
      createEscalationHandler({ sql: db.sql, scheduler, templates: opts.templates }),
    );
    const envelopeRunner = createEnvelopeJobRunner({
      dispatch: run,
      recordDeadLetter: (d) => deadLetters.record(d),
      stopping: () => stopping,
      log,
      metrics: opts.metrics,
    });
    scheduler.register(ENVELOPE_JOB, envelopeRunner);
    scheduler.register(
      QUIET_HOURS_JOB,
      createQuietHoursHandler({ sql: db.sql, runEnvelope: envelopeRunner }),
    );
  }

  for (const [kind, handler] of opts.jobs ?? []) scheduler.register(kind, handler);

  if (broker) {
    const amqpPublisher = createAmqpEnvelopePublisher(broker, names);
    publisher = amqpPublisher;
    if (opts.consume) {
      const runner = createAmqpRunner({
        broker,
        names,
        prefetch: config.HERALD_PREFETCH,
        prefetchCritical: config.HERALD_PREFETCH_CRITICAL,
        syncCriticalRoutes: async (model) => {
          const count = await syncCriticalRoutes(model, names, db.sql);
          log.info({ queue: names.critical, templates: count }, 'consumer: critical templates bound');
        },
        retryQueueDelays: retryQueueDelays(config.HERALD_RETRY_DELAYS),
        deliveryLimit: config.HERALD_DELIVERY_LIMIT,
        dispatch: (input) => run(input),
        recordDeadLetter: (d) => deadLetters.record(d),
        log,
        metrics: opts.metrics,
      });
      // Topology first (the runner declares it), then the publisher that relies on the exchange.
      await runner.start();
      await followUps?.start();
      stop = async () => {
        await runner.stop();
        await followUps?.stop();
      };
    }
    await amqpPublisher.start();
  } else {
    const local = createLocalRunner({ scheduler, sql: db.sql, log, templates: opts.templates });
    publisher = local.publisher;
    await local.start();
  }
  if (opts.consume && config.HERALD_RETENTION)
    await startRetention({
      sql: db.sql,
      scheduler,
      log,
      retentionMs: config.HERALD_RETENTION,
      removed: opts.metrics.retentionRemoved,
    });
  if (opts.consume || !broker) await startDigestSweep({ sql: db.sql, scheduler, log });
  await scheduler.start();
  const stopRunner = stop;
  const stopAll = async () => {
    stopping = true;
    await stopRunner();
    await scheduler.stop();
  };
  return { services: { publisher, deadLetters, names }, stop: stopAll };
}
