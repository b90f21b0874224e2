import type { FastifyBaseLogger } from 'fastify';
import type { SqlClient } from '../db/sqlClient';
import type { DeadLetterInput } from './amqpRunner';
import { MAX_ENVELOPE_BYTES } from './amqpRunner';
import { decodeEnvelope } from './decodeEnvelope';
import type { DispatchResult } from './dispatchTypes';
import type { EnvelopePublisher } from './envelopePublisher';
import type { PipelineMetrics } from './pipelineMetrics';
import { retryWhileInfraDown } from './waitForInfra';

interface Job {
  routingKey: string;
  content: Buffer;
  messageId?: string;
}

/**
 * The embedded default without RabbitMQ: the same dispatch on an in-process queue. Retries wait on timers
 * and dead letters go straight to the database. Not durable: a restart forgets queued envelopes and
 * timers, so at start it re-dispatches every stored message that has not finished.
 */
export function createLocalRunner(opts: {
  concurrency: number;
  dispatch(input: unknown): Promise<DispatchResult>;
  recordDeadLetter(d: DeadLetterInput): Promise<void>;
  sql: SqlClient;
  log: FastifyBaseLogger;
  metrics?: PipelineMetrics;
}) {
  const queue: Job[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const inFlight = new Set<Promise<void>>();
  let stopping = false;

  async function handle(job: Job): Promise<void> {
    const decoded = decodeEnvelope(job.content, MAX_ENVELOPE_BYTES);
    const result: DispatchResult = decoded.ok
      ? await retryWhileInfraDown(() => opts.dispatch(decoded.value), { stopping: () => stopping })
      : { kind: 'rejected', code: decoded.code, reason: decoded.reason, messageId: job.messageId };
    if (result.kind === 'rejected') {
      opts.metrics?.envelopes.inc({ outcome: 'rejected' });
      opts.metrics?.deadLettered.inc({ code: result.code });
      await opts.recordDeadLetter({
        messageId: result.messageId,
        routingKey: job.routingKey,
        code: result.code,
        reason: result.reason,
        payload: job.content,
      });
    } else if (result.retryInMs !== undefined) {
      opts.metrics?.envelopes.inc({ outcome: 'retry_scheduled' });
      const t = setTimeout(() => {
        timers.delete(t);
        enqueue(job);
      }, result.retryInMs);
      timers.add(t);
    } else {
      opts.metrics?.envelopes.inc({ outcome: result.status });
    }
  }

  function pump() {
    while (!stopping && inFlight.size < opts.concurrency && queue.length) {
      const job = queue.shift() as Job;
      const work = handle(job)
        .catch((err: unknown) => opts.log.error({ err, messageId: job.messageId }, 'dispatch failed'))
        .finally(() => {
          inFlight.delete(work);
          pump();
        });
      inFlight.add(work);
    }
  }

  function enqueue(job: Job) {
    queue.push(job);
    pump();
  }

  const publisher: EnvelopePublisher = {
    async publish(routingKey, content, messageId) {
      if (stopping) throw new Error('the consumer is shutting down');
      enqueue({ routingKey, content, messageId });
    },
  };

  return {
    publisher,
    async start() {
      opts.log.warn(
        'broker: none configured (AMQP_URL unset); using the in-process queue, which is NOT durable',
      );
      const { rows } = await opts.sql.query<{ id: string; templateCode: string; envelope: unknown }>(
        `SELECT id, "templateCode", envelope FROM "Message" WHERE status IN ('accepted', 'dispatched') AND envelope IS NOT NULL`,
      );
      for (const r of rows)
        enqueue({
          routingKey: `notify.${r.templateCode}`,
          content: Buffer.from(JSON.stringify(r.envelope)),
          messageId: r.id,
        });
      if (rows.length) opts.log.info({ count: rows.length }, 'consumer: resuming unfinished messages');
    },
    async stop() {
      stopping = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      while (inFlight.size) await Promise.allSettled([...inFlight]);
    },
  };
}
