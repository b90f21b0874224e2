import { randomBytes } from 'node:crypto';

/**
 * Where the benchmark finds PostgreSQL and RabbitMQ: BENCH_DATABASE_URL / BENCH_AMQP_URL, else the
 * test suites' TEST_* variables, else their local defaults. Import this module before anything from
 * test/support, which reads TEST_* when it loads. Everything the bench creates lives under a random
 * schema and queue prefix (createTestDeployment), dropped at the end.
 */
if (process.env.BENCH_DATABASE_URL) process.env.TEST_DATABASE_URL = process.env.BENCH_DATABASE_URL;
if (process.env.BENCH_AMQP_URL) process.env.TEST_AMQP_URL = process.env.BENCH_AMQP_URL;

export const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgresql://root@127.0.0.1:5432/test';
export const AMQP_URL = process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/** Herald as a production deployment runs it (not the test suites' smaller pool). */
/** Every instance of a deployment shares the key that encrypts channel-account secrets. */
export const HERALD_ENV: Record<string, string> = {
  HERALD_SECRET_KEY: randomBytes(32).toString('base64'),
  DATABASE_POOL_SIZE: '10',
  LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'silent',
  HERALD_WS_MAX_BUFFERED_BYTES: String(4 * 1024 * 1024),
};
