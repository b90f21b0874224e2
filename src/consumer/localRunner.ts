import type { FastifyBaseLogger } from 'fastify';
import type { SqlClient } from '../db/sqlClient';
import type { EnvelopePublisher } from '../broker/envelopePublisher';
import type { DeadLetterInput } from '../deadLetters/deadLetterStore';
import type { DispatchResult } from './dispatchTypes';
import type { PipelineMetrics } from './pipelineMetrics';
import { runEnvelope } from './runnerPolicy';

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
    const action = await runEnvelope(job.content, {
      dispatch: opts.dispatch,
      stopping: () => stopping,
      metrics: opts.metrics,
    });
    if (action.kind === 'deadLetter') {
      await opts.recordDeadLetter({
        messageId: action.messageId ?? job.messageId,
        routingKey: job.routingKey,
        code: action.code,
        reason: action.reason,
        payload: job.content,
      });
    } else if (action.kind === 'retryLater') {
      const t = setTimeout(() => {
        timers.delete(t);
        enqueue(job);
      }, action.delayMs);
      timers.add(t);
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
