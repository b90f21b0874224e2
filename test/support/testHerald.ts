import { deleteTopology } from './brokerTopology';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import amqplib from 'amqplib';
import pino from 'pino';
import { buildApp, type App } from '../../src/app';
import { topologyNames } from '../../src/broker/topologyNames';
import { loadConfig, type Config } from '../../src/config/loadConfig';
import { retryQueueDelays } from '../../src/consumer/retryPolicy';
import { startRuntime, type Runtime } from '../../src/runtime';
import { createPostgresDatabase } from '../../src/db/postgresDatabase';
import { TEST_AMQP_URL, TEST_DATABASE_URL, withSchema } from './services';
import { ADMIN_TOKEN } from './testApp';

export const JWT_SECRET = 'test-jwt-secret-0123456789abcdef-0123456789';
/** Shared by every instance of a deployment, as a shared database requires. */
export const SECRET_KEY = Buffer.alloc(32, 7).toString('base64');

/**
 * The vendor fakes (test/senders/support) listen on 127.0.0.1, which the egress guard refuses unless it is
 * allow-listed, as an operator allow-lists a private gateway.
 */
export const LOCAL_VENDOR_FAKES = { HERALD_WEBHOOK_ALLOW_HOSTS: '127.0.0.1' } as const;

export interface TestHerald {
  app: App;
  runtime: Runtime;
  config: Config;
  baseUrl: string;
  wsBase: string;
  /** Stops this instance (drain, HTTP, pools) without touching the shared schema or queues. */
  stop(): Promise<void>;
}

/** A schema and a queue prefix of their own, shared by the Herald instances a suite starts on them. */
export interface TestDeployment {
  databaseUrl: string;
  schema: string;
  prefix: string;
  /** Starts one full Herald (all roles unless HERALD_ROLES says otherwise) on an ephemeral port. */
  start(env?: Record<string, string>): Promise<TestHerald>;
  /** Stops every instance, deletes the prefix's queues and exchanges, drops the schema. */
  destroy(): Promise<void>;
}

export function createTestDeployment(baseEnv: Record<string, string> = {}): TestDeployment {
  const id = randomBytes(5).toString('hex');
  const schema = `t_${id}`;
  const prefix = `t${id}.`;
  const databaseUrl = withSchema(TEST_DATABASE_URL, schema);
  const instances = new Set<TestHerald>();
  const homes: string[] = [];

  return {
    databaseUrl,
    schema,
    prefix,
    async start(env = {}) {
      const home = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-e2e-'));
      homes.push(home);
      const config = loadConfig({
        HERALD_HOME: home,
        DATABASE_URL: databaseUrl,
        DATABASE_POOL_SIZE: '5',
        AMQP_URL: TEST_AMQP_URL,
        HERALD_QUEUE_PREFIX: prefix,
        HERALD_ADMIN_TOKENS: ADMIN_TOKEN,
        HERALD_JWT_SECRET: JWT_SECRET,
        HERALD_SECRET_KEY: SECRET_KEY,
        HERALD_RETRY_DELAYS: '200ms,400ms,800ms',
        LOG_LEVEL: process.env.HERALD_TEST_LOG ?? 'silent',
        ...baseEnv,
        ...env,
      });
      const log = pino({ level: config.LOG_LEVEL });
      const runtime = await startRuntime(config, log);
      const app = await buildApp(runtime.ctx);
      await app.listen({ port: 0, host: '127.0.0.1' });
      const address = app.server.address();
      if (!address || typeof address === 'string') throw new Error('no port');
      let stopped = false;
      const instance: TestHerald = {
        app,
        runtime,
        config,
        baseUrl: `http://127.0.0.1:${address.port}`,
        wsBase: `ws://127.0.0.1:${address.port}`,
        async stop() {
          if (stopped) return;
          stopped = true;
          instances.delete(instance);
          await runtime.drain();
          await app.close();
          await runtime.close();
        },
      };
      instances.add(instance);
      return instance;
    },
    async destroy() {
      for (const i of [...instances]) await i.stop();
      const names = topologyNames(prefix);
      const conn = await amqplib.connect(TEST_AMQP_URL);
      try {
        const ch = await conn.createChannel();
        const delays = retryQueueDelays(
          loadConfig({ HERALD_RETRY_DELAYS: baseEnv.HERALD_RETRY_DELAYS ?? '200ms,400ms,800ms' })
            .HERALD_RETRY_DELAYS,
        );
        await deleteTopology(ch, names, delays, {
          followUpDelaysMs: loadConfig(baseEnv).HERALD_FOLLOW_UP_DELAYS,
        });
        await ch.close();
      } finally {
        await conn.close();
      }
      const db = createPostgresDatabase(databaseUrl, 1);
      await db.sql.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await db.close();
      for (const h of homes) fs.rmSync(h, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it returns a truthy value or the time runs out. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false>,
  timeoutMs = 10_000,
  label = 'condition',
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until)
      throw new Error(`timed out waiting for ${label}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
