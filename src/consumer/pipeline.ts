import type { FastifyBaseLogger } from 'fastify';
import type { BrokerConnection } from '../broker/brokerConnection';
import { topologyNames, type TopologyNames } from '../broker/topologyNames';
import type { Config } from '../config/loadConfig';
import type { Database } from '../db/database';
import { createDeadLetterStore, type DeadLetterStore } from '../deadLetters/deadLetterStore';
import type { ChannelName } from '../contract/envelope';
import { createAmqpRunner } from './amqpRunner';
import { createConcurrencyLimit, type ConcurrencyLimit } from './concurrencyLimit';
import { createDeliveryStore } from './deliveryStore';
import { dispatch, type DispatchDeps } from './dispatch';
import type { AccountLookup, SenderRegistry, TemplateResolver } from './dispatchTypes';
import { createAmqpEnvelopePublisher, type EnvelopePublisher } from './envelopePublisher';
import { createLocalRunner } from './localRunner';
import { createEnvelopeJobHandler, ENVELOPE_JOB, type DispatchOptions } from '../scheduler/envelopeJobs';
import { createScheduler, type Scheduler } from '../scheduler/scheduler';
import type { PipelineMetrics } from './pipelineMetrics';
import { retryQueueDelays } from './retryPolicy';

export interface PipelineServices {
  publisher: EnvelopePublisher;
  deadLetters: DeadLetterStore;
  dispatchDeps: DispatchDeps;
  names: TopologyNames;
  /** Durable due work shared by every instance (src/scheduler); only consumers run its jobs. */
  scheduler: Scheduler;
}

export interface PipelineOptions {
  config: Config;
  db: Database;
  broker?: BrokerConnection;
  templates: TemplateResolver;
  accounts: AccountLookup;
  senders: SenderRegistry;
  metrics: PipelineMetrics;
  log: FastifyBaseLogger;
  /** Whether this instance consumes (HERALD_ROLES has `consumer`). */
  consume: boolean;
}

/** Send leases outlast the slowest send (SMTP and DingTalk time out well within it). */
const SEND_LEASE_MS = 60_000;

/**
 * Builds the publish side (every instance with the API) and, where the consumer role runs, the runner:
 * RabbitMQ when a broker is given, else the in-process queue.
 */
export async function startPipeline(
  opts: PipelineOptions,
): Promise<{ services: PipelineServices; stop(): Promise<void> }> {
  const { config, db, broker, log } = opts;
  const names = topologyNames(config.HERALD_QUEUE_PREFIX);
  const limits = new Map<ChannelName, ConcurrencyLimit>([
    ['mail', createConcurrencyLimit(config.HERALD_CONCURRENCY_MAIL)],
    ['dingtalk', createConcurrencyLimit(config.HERALD_CONCURRENCY_DINGTALK)],
    ['im', createConcurrencyLimit(config.HERALD_CONCURRENCY_IM)],
  ]);
  const dispatchDeps: DispatchDeps = {
    sql: db.sql,
    templates: opts.templates,
    accounts: opts.accounts,
    senders: opts.senders,
    limits,
    retryDelays: config.HERALD_RETRY_DELAYS,
    now: Date.now,
    log,
    metrics: opts.metrics,
    store: createDeliveryStore(db.sql, SEND_LEASE_MS),
  };
  const run = (input: unknown, options?: DispatchOptions) => dispatch(input, dispatchDeps, options);
  let publisher: EnvelopePublisher;
  const deadLetters = createDeadLetterStore(db, () => publisher);
  let stop: () => Promise<void> = async () => undefined;
  const scheduler = createScheduler({ db, log, concurrency: config.HERALD_PREFETCH });
  dispatchDeps.scheduler = scheduler;
  let stopping = false;
  if (opts.consume || !broker)
    scheduler.register(
      ENVELOPE_JOB,
      createEnvelopeJobHandler({
        dispatch: run,
        recordDeadLetter: (d) => deadLetters.record(d),
        stopping: () => stopping,
        log,
        metrics: opts.metrics,
      }),
    );

  if (broker) {
    const amqpPublisher = createAmqpEnvelopePublisher(broker, names);
    publisher = amqpPublisher;
    if (opts.consume) {
      const runner = createAmqpRunner({
        broker,
        names,
        prefetch: config.HERALD_PREFETCH,
        retryQueueDelays: retryQueueDelays(config.HERALD_RETRY_DELAYS),
        deliveryLimit: config.HERALD_DELIVERY_LIMIT,
        dispatch: (input) => run(input),
        recordDeadLetter: (d) => deadLetters.record(d),
        log,
        metrics: opts.metrics,
      });
      // Topology first (the runner declares it), then the publisher that relies on the exchange.
      await runner.start();
      stop = () => runner.stop();
    }
    await amqpPublisher.start();
  } else {
    const local = createLocalRunner({ scheduler, sql: db.sql, log });
    publisher = local.publisher;
    await local.start();
  }
  await scheduler.start();
  const stopRunner = stop;
  const stopAll = async () => {
    stopping = true;
    await stopRunner();
    await scheduler.stop();
  };
  return { services: { publisher, deadLetters, dispatchDeps, names, scheduler }, stop: stopAll };
}
