import amqplib from 'amqplib';
import { declareTopology } from '../../src/consumer/topology';
import { retryQueueDelays } from '../../src/consumer/retryPolicy';
import { topologyNames } from '../../src/broker/topologyNames';
import type { EnvelopeInput } from '../../src/contract/envelope';
import { createPostgresDatabase } from '../../src/db/postgresDatabase';
import type { Database } from '../../src/db/database';
import { createHeraldPublisher } from '../../src/sdk/publisher';
import { heraldApi } from '../../test/support/heraldApi';
import { createTestDeployment, type TestDeployment, type TestHerald } from '../../test/support/testHerald';
import { AMQP_URL, HERALD_ENV } from './services';
import { BENCH_APPLICATION_NAME } from './sqlCount';
import { waitUntil } from './stats';

/** One schema and queue prefix for the whole run; scenarios start and stop Herald instances on it. */
export interface BenchDeployment {
  dep: TestDeployment;
  /** A small pool on the deployment's schema, for counting what was written. */
  db: Database;
  start(roles: string, env?: Record<string, string>): Promise<TestHerald>;
  api(h: TestHerald): ReturnType<typeof heraldApi>;
  /** Declares Herald's topology so envelopes can be queued before any consumer runs. */
  declareTopology(): Promise<void>;
  /** Publishes with the SDK (confirmed), `window` envelopes in flight at most. */
  publishAll(envelopes: EnvelopeInput[], window?: number): Promise<void>;
  destroy(): Promise<void>;
}

const RETRY_DELAYS = '200ms,400ms,800ms';

export async function createBenchDeployment(): Promise<BenchDeployment> {
  const dep = createTestDeployment({ ...HERALD_ENV, HERALD_RETRY_DELAYS: RETRY_DELAYS });
  // Migrated before any scenario, so one that writes rows first (prefilled, run alone with --only) finds
  // the tables.
  await (await dep.start({ HERALD_ROLES: 'api' })).stop();
  const counting = new URL(dep.databaseUrl);
  counting.searchParams.set('application_name', BENCH_APPLICATION_NAME);
  const db = createPostgresDatabase(counting.toString(), 2);
  return {
    dep,
    db,
    start: (roles, env = {}) => dep.start({ HERALD_ROLES: roles, ...env }),
    api: (h) => heraldApi(h.baseUrl),
    async declareTopology() {
      const conn = await amqplib.connect(AMQP_URL);
      try {
        const ch = await conn.createChannel();
        await declareTopology(ch, topologyNames(dep.prefix), {
          retryQueueDelays: retryQueueDelays([200, 400, 800]),
          deliveryLimit: 5,
        });
        await ch.close();
      } finally {
        await conn.close();
      }
    },
    async publishAll(envelopes, window = 2000) {
      const publisher = await createHeraldPublisher({ url: AMQP_URL, prefix: dep.prefix });
      try {
        let next = 0;
        const worker = async () => {
          while (next < envelopes.length) await publisher.publish(envelopes[next++] as EnvelopeInput);
        };
        await Promise.all(Array.from({ length: window }, worker));
      } finally {
        await publisher.close();
      }
    },
    async destroy() {
      await db.close();
      await dep.destroy();
    },
  };
}

/** Counts of one template's pipeline records, and the window they were written in (epoch ms). */
export interface PipelineCounts {
  messages: number;
  completed: number;
  deliveries: number;
  sentAttempts: number;
  otherAttempts: number;
  firstAcceptedAt: number;
  lastAttemptAt: number;
}

export async function pipelineCounts(db: Database, templateCode: string): Promise<PipelineCounts> {
  const { rows } = await db.sql.query<Record<string, string | null>>(
    `SELECT
       (SELECT count(*) FROM "Message" WHERE "templateCode" = $1) AS messages,
       (SELECT count(*) FROM "Message" WHERE "templateCode" = $1 AND status = 'completed') AS completed,
       (SELECT extract(epoch FROM min("createdAt")) * 1000 FROM "Message" WHERE "templateCode" = $1) AS first,
       (SELECT count(*) FROM "Delivery" WHERE "templateCode" = $1) AS deliveries,
       (SELECT count(*) FILTER (WHERE a.outcome = 'sent') FROM "DeliveryAttempt" a
          JOIN "Delivery" d ON d.id = a."deliveryId" WHERE d."templateCode" = $1) AS sent,
       (SELECT count(*) FILTER (WHERE a.outcome <> 'sent') FROM "DeliveryAttempt" a
          JOIN "Delivery" d ON d.id = a."deliveryId" WHERE d."templateCode" = $1) AS other,
       (SELECT extract(epoch FROM max(a."createdAt")) * 1000 FROM "DeliveryAttempt" a
          JOIN "Delivery" d ON d.id = a."deliveryId" WHERE d."templateCode" = $1) AS last`,
    [templateCode],
  );
  const r = rows[0] ?? {};
  return {
    messages: Number(r.messages),
    completed: Number(r.completed),
    deliveries: Number(r.deliveries),
    sentAttempts: Number(r.sent),
    otherAttempts: Number(r.other),
    firstAcceptedAt: Number(r.first ?? 0),
    lastAttemptAt: Number(r.last ?? 0),
  };
}

/**
 * Waits for a scenario's sends, polling `outside` (frames or mails a child counted) every round and the
 * database's counts only once `outside` says everything arrived, or every 5 s for the progress line:
 * pipelineCounts scans tables that grow through the run, and polling it every 200 ms took PostgreSQL
 * time from the Herald being measured.
 */
export async function waitForPipeline<O>(
  db: Database,
  templateCode: string,
  o: {
    outside: () => Promise<O>;
    arrived: (outside: O) => boolean;
    done: (counts: PipelineCounts, outside: O) => boolean;
    timeoutMs: number;
    describe: (counts: PipelineCounts, outside: O) => string;
  },
): Promise<{ counts: PipelineCounts; outside: O }> {
  let counts = await pipelineCounts(db, templateCode);
  let outside = await o.outside();
  let countedAt = Date.now();
  await waitUntil(
    async () => {
      outside = await o.outside();
      if (!o.arrived(outside) && Date.now() - countedAt < 5000) return undefined;
      counts = await pipelineCounts(db, templateCode);
      countedAt = Date.now();
      return o.done(counts, outside) ? true : undefined;
    },
    { timeoutMs: o.timeoutMs, everyMs: 200, describe: () => o.describe(counts, outside) },
  );
  return { counts, outside };
}
