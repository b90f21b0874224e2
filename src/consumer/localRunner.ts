import { SpanKind } from '@opentelemetry/api';
import type { FastifyBaseLogger } from 'fastify';
import type { EnvelopePublisher } from '../broker/envelopePublisher';
import type { SqlClient } from '../db/sqlClient';
import type { DeadLetterInput } from '../deadLetters/deadLetterStore';
import {
  createScheduledEnvelopePublisher,
  ENVELOPE_JOB,
  envelopeJobPayloadSchema,
  type DispatchOptions,
} from '../scheduler/envelopeJobs';
import type { JobHandler, Scheduler } from '../scheduler/scheduler';
import type { DispatchResult, TemplateResolver } from './dispatchTypes';
import type { PipelineMetrics } from './pipelineMetrics';
import { runEnvelope } from './runnerPolicy';
import {
  MESSAGING_DESTINATION,
  MESSAGING_MESSAGE_ID,
  MESSAGING_OPERATION,
} from '../tracing/messagingAttributes';
import { inSpan } from '../tracing/spans';
import { contextFromHeaders } from '../tracing/traceContext';

/**
 * The scheduler's side of the consumer, the counterpart of amqpRunner.ts: runs one envelope row (the
 * embedded queue's, or a scheduled send that has come due in either mode) and carries out the shared
 * runner policy (runnerPolicy.ts) on it: a dead letter is recorded and the row goes; a retry moves the
 * row to the time of its next attempt; an ack deletes the row. The row goes only when the envelope is done.
 */
export function createEnvelopeJobRunner(opts: {
  dispatch(input: unknown, options: DispatchOptions): Promise<DispatchResult>;
  recordDeadLetter(d: DeadLetterInput): Promise<void>;
  stopping(): boolean;
  log: FastifyBaseLogger;
  metrics?: PipelineMetrics;
}): JobHandler {
  return async (job) => {
    const parsed = envelopeJobPayloadSchema.safeParse(job.payload);
    if (!parsed.success) {
      // Not written by Herald (or by an incompatible version): keep it as a dead letter, never drop it.
      await opts.recordDeadLetter({
        routingKey: ENVELOPE_JOB,
        code: 'malformed_job',
        reason: `scheduled job ${job.id} has no envelope payload`,
        payload: Buffer.from(JSON.stringify(job.payload ?? null)),
      });
      return;
    }
    const p = parsed.data;
    const content = Buffer.from(p.body, 'base64');
    const span = {
      kind: SpanKind.CONSUMER,
      attributes: {
        [MESSAGING_OPERATION]: 'process',
        [MESSAGING_DESTINATION]: ENVELOPE_JOB,
        ...(p.messageId ? { [MESSAGING_MESSAGE_ID]: p.messageId } : {}),
        ...(p.due ? { 'herald.scheduled': true } : {}),
      },
    };
    const action = await inSpan(
      `process ${ENVELOPE_JOB}`,
      span,
      () =>
        runEnvelope(content, {
          dispatch: (input) => opts.dispatch(input, { due: p.due }),
          stopping: opts.stopping,
          onInfraWait: (err, delayMs) =>
            opts.log.warn(
              { err: (err as Error).message, delayMs },
              'database unavailable; holding the envelope',
            ),
          metrics: opts.metrics,
        }),
      contextFromHeaders(p.trace),
    );
    if (action.kind === 'deadLetter') {
      await opts.recordDeadLetter({
        messageId: action.messageId ?? p.messageId,
        routingKey: p.routingKey,
        code: action.code,
        reason: action.reason,
        payload: content,
      });
    } else if (action.kind === 'retryLater') {
      // A retry of a send that was due stays due, so the envelope's sendAt cannot hold it back again.
      return { retryAt: new Date(Date.now() + action.delayMs), payload: p };
    }
  };
}

/**
 * The embedded default without RabbitMQ: envelopes are rows of the scheduler's table (PGlite by default),
 * committed before publish() resolves (critical templates' rows first), and run by createEnvelopeJobRunner (registered by startPipeline).
 * Retries are rows too, so a crash or restart forgets nothing.
 */
export function createLocalRunner(opts: {
  scheduler: Scheduler;
  sql: SqlClient;
  log: FastifyBaseLogger;
  templates: TemplateResolver;
}): {
  publisher: EnvelopePublisher;
  start(): Promise<void>;
} {
  // A critical template's envelope row is claimed before the others (into slots kept for it), as
  // herald.dispatch.critical is consumed beside herald.dispatch on RabbitMQ.
  const publisher = createScheduledEnvelopePublisher(
    opts.scheduler,
    async (code) => (await opts.templates.resolve(code))?.critical === true,
  );
  return {
    publisher,
    async start() {
      opts.log.info('broker: none configured (AMQP_URL unset); envelopes queue durably in the database');
      // Messages left unfinished by a version that queued in memory have no row: give them one.
      const { rows } = await opts.sql.query<{ id: string; templateCode: string; envelope: unknown }>(
        `SELECT m.id, m."templateCode", m.envelope FROM "Message" m
         WHERE m.status IN ('accepted', 'dispatched') AND m.envelope IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM "ScheduledJob" j WHERE j.kind = $1 AND j.key = m.id)`,
        [ENVELOPE_JOB],
      );
      for (const r of rows)
        await publisher.publish(`notify.${r.templateCode}`, Buffer.from(JSON.stringify(r.envelope)), r.id);
      if (rows.length) opts.log.info({ count: rows.length }, 'consumer: resuming unfinished messages');
    },
  };
}
