import type { FastifyBaseLogger } from 'fastify';
import type { SqlClient } from '../db/sqlClient';
import { createScheduledEnvelopePublisher, ENVELOPE_JOB } from '../scheduler/envelopeJobs';
import type { Scheduler } from '../scheduler/scheduler';
import type { EnvelopePublisher } from './envelopePublisher';

/**
 * The embedded default without RabbitMQ: envelopes are rows of the scheduler's table (PGlite by default),
 * committed before publish() resolves, and run by the scheduler's `envelope` handler (registered by
 * startPipeline for every consumer). Retries are rows too, so a crash or restart forgets nothing.
 */
export function createLocalRunner(opts: { scheduler: Scheduler; sql: SqlClient; log: FastifyBaseLogger }): {
  publisher: EnvelopePublisher;
  start(): Promise<void>;
} {
  const publisher = createScheduledEnvelopePublisher(opts.scheduler);
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
