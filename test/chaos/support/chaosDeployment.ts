import { deleteTopology } from '../../support/brokerTopology';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import pino from 'pino';
import { connectBroker } from '../../../src/broker/brokerConnection';
import { topologyNames, type TopologyNames } from '../../../src/broker/topologyNames';
import { loadConfig } from '../../../src/config/loadConfig';
import { retryQueueDelays } from '../../../src/consumer/retryPolicy';
import type { EnvelopeInput } from '../../../src/contract/envelope';
import { createHeraldPublisher, type HeraldPublisher } from '../../../src/sdk/publisher';
import type { SmtpSink } from '../../senders/support/smtpSink';
import { TEST_AMQP_URL, TEST_DATABASE_URL, withSchema } from '../../support/services';
import { ADMIN_TOKEN } from '../../support/testApp';
import { startHeraldProcess, type HeraldProcess } from './heraldProcess';

export const TEMPLATE = 'chaos_notice';
export const JWT_SECRET = 'chaos-jwt-secret-0123456789abcdef-0123456789';
const SECRET_KEY = Buffer.alloc(32, 9).toString('base64');

/**
 * A database schema, queue prefix and HERALD_HOME of one scenario's own, the Herald child processes
 * started on them, and a direct SQL pool to count what happened.
 */
export interface ChaosDeployment {
  schema: string;
  prefix: string;
  names: TopologyNames;
  env: Record<string, string>;
  /** SQL on the scenario's schema (search_path set), for counting. */
  db: Pool;
  start(env?: Record<string, string>): Promise<HeraldProcess>;
  /** Creates the `sink` SMTP account and the mail + IM template through the admin API. */
  setUp(h: HeraldProcess, sink: SmtpSink): Promise<void>;
  /** An SDK publisher on this deployment's prefix; `confirmTimeoutMs` as createHeraldPublisher takes it. */
  publisher(opts?: { confirmTimeoutMs?: number }): Promise<HeraldPublisher>;
  /** Kills what is still running, deletes the queues and exchanges, drops the schema. */
  destroy(): Promise<void>;
}

export function createChaosDeployment(baseEnv: Record<string, string> = {}): ChaosDeployment {
  const id = randomBytes(5).toString('hex');
  const schema = `chaos_${id}`;
  const prefix = `chaos${id}.`;
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-chaos-'));
  // A scenario on other services (the cluster, its own PostgreSQL) names them in baseEnv; an empty one
  // is the embedded mode's (Herald then runs on neither), while this support code still cleans up there.
  const amqpUrl = baseEnv.AMQP_URL || TEST_AMQP_URL;
  const serverUrl = baseEnv.DATABASE_URL || TEST_DATABASE_URL;
  const databaseUrl = withSchema(serverUrl, schema);
  const env: Record<string, string> = {
    AMQP_URL: amqpUrl,
    HERALD_QUEUE_PREFIX: prefix,
    HERALD_HOME: home,
    HERALD_ADMIN_TOKENS: ADMIN_TOKEN,
    HERALD_JWT_SECRET: JWT_SECRET,
    HERALD_SECRET_KEY: SECRET_KEY,
    LOG_LEVEL: 'warn',
    ...baseEnv,
    DATABASE_URL: baseEnv.DATABASE_URL === '' ? '' : databaseUrl,
  };
  const db = new Pool({ connectionString: serverUrl, max: 4, options: `-c search_path=${schema}` });
  db.on('error', () => undefined); // idle clients die when PostgreSQL is stopped on purpose
  const processes: HeraldProcess[] = [];
  const publishers: HeraldPublisher[] = [];

  async function admin(h: HeraldProcess, method: string, route: string, body: unknown) {
    const res = await fetch(`${h.baseUrl}${route}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status >= 300) throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`);
  }

  return {
    schema,
    prefix,
    names: topologyNames(prefix),
    env,
    db,
    async start(extra = {}) {
      const h = await startHeraldProcess({ ...env, ...extra });
      processes.push(h);
      return h;
    },
    async setUp(h, sink) {
      await admin(h, 'POST', '/v1/channel-accounts', {
        name: 'sink',
        type: 'smtp',
        config: { host: sink.host, port: sink.port, secure: false, from: 'Herald <herald@example.com>' },
      });
      await admin(h, 'POST', '/v1/templates', {
        code: TEMPLATE,
        name: 'Chaos notice',
        variables: { n: 'string' },
        channels: {
          mail: {
            account: 'sink',
            subject: 'Notice {{ n }}',
            html: '<p>Hello {{ name }}, notice {{ n }}.</p>',
          },
          im: { title: 'Notice {{ n }}', body: 'notice {{ n }}' },
        },
      });
    },
    async publisher(opts = {}) {
      const p = await createHeraldPublisher({ url: amqpUrl, prefix, ...opts });
      publishers.push(p);
      return p;
    },
    async destroy() {
      for (const h of processes) {
        h.kill('SIGKILL');
        await h.exited;
      }
      for (const p of publishers) await p.close().catch(() => undefined);
      const names = topologyNames(prefix);
      const delays = retryQueueDelays(loadConfig({ ...env, ...baseEnv }).HERALD_RETRY_DELAYS);
      const conn = await connectBroker(amqpUrl, pino({ level: 'silent' }));
      try {
        const model = conn.current();
        if (!model) throw new Error('lost the broker while cleaning up');
        const ch = await model.createChannel();
        await deleteTopology(ch, names, delays);
        await ch.close();
      } finally {
        await conn.close();
      }
      await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await db.end();
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}

/** A valid envelope: one recipient, mail + IM, so two sends land per envelope. */
export function chaosEnvelope(id: string, i: number): EnvelopeInput {
  return {
    id,
    template: TEMPLATE,
    to: [{ userId: `u-${i % 97}`, email: `r${i}@example.com`, name: `R${i}` }],
    data: { n: String(i) },
  };
}

/**
 * Publishes every envelope through the SDK, a few hundred at a time; a publish the SDK reports as
 * failed (broker away, not confirmed) is published again after a pause, as a real service would.
 */
export async function publishAll(
  publisher: HeraldPublisher,
  envelopes: readonly EnvelopeInput[],
  opts: {
    concurrency?: number;
    onFailure?: (err: Error) => void;
    onConfirmed?: () => void;
    paceMs?: number;
    /** Envelopes from this index on wait for `until` before their first publish. */
    holdFrom?: { index: number; until: Promise<unknown> };
  } = {},
): Promise<{ failedAttempts: number }> {
  let next = 0;
  let failedAttempts = 0;
  const worker = async () => {
    for (;;) {
      const index = next++;
      const e = envelopes[index];
      if (!e) return;
      if (opts.holdFrom && index >= opts.holdFrom.index) await opts.holdFrom.until;
      for (;;) {
        try {
          await publisher.publish(e);
          opts.onConfirmed?.();
          break;
        } catch (err) {
          failedAttempts += 1;
          opts.onFailure?.(err as Error);
          await new Promise((r) => setTimeout(r, 250));
        }
      }
      if (opts.paceMs) await new Promise((r) => setTimeout(r, opts.paceMs));
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 100 }, worker));
  return { failedAttempts };
}

/** How many of these messages have reached a final status. */
export async function finishedCount(db: Pool, ids: readonly string[]): Promise<number> {
  const { rows } = await db.query<{ n: string }>(
    `SELECT count(*) AS n FROM "Message" WHERE id = ANY($1) AND status IN ('completed', 'partially_failed', 'failed', 'rejected')`,
    [ids],
  );
  return Number(rows[0]?.n ?? 0);
}
