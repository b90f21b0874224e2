import os from 'node:os';
import path from 'node:path';
import { buildWeb } from '../../scripts/build-web';
import { PGLITE_SNAPSHOT_ENV, writePgliteSnapshot } from './testDatabase';
import { canConnect, TEST_AMQP_URL, TEST_DATABASE_URL } from './services';

/**
 * Bundles the browser code (the pages and kit that Herald serves from dist/public; a second or two) and,
 * meanwhile, migrates one PGlite whose data directory every createTestPglite loads; then probes PostgreSQL and RabbitMQ once. Integration suites skip (saying so) when one is missing, unless
 * HERALD_REQUIRE_SERVICES=1 (as in CI), where a missing service fails the run.
 */
export default async function globalSetup(): Promise<void> {
  const snapshot = path.join(os.tmpdir(), `herald-test-pglite-${process.pid}.tar`);
  await Promise.all([buildWeb({ quiet: true }), writePgliteSnapshot(snapshot)]);
  process.env[PGLITE_SNAPSHOT_ENV] = snapshot;
  const [pg, mq] = await Promise.all([canConnect(TEST_DATABASE_URL, 5432), canConnect(TEST_AMQP_URL, 5672)]);
  process.env.HERALD_TEST_POSTGRES = pg ? '1' : '0';
  process.env.HERALD_TEST_RABBITMQ = mq ? '1' : '0';
  const missing = [!pg && `PostgreSQL at ${TEST_DATABASE_URL}`, !mq && `RabbitMQ at ${TEST_AMQP_URL}`].filter(
    Boolean,
  );
  if (missing.length === 0) return;
  if (process.env.HERALD_REQUIRE_SERVICES === '1') {
    throw new Error(
      `integration tests are required but these services are not reachable: ${missing.join(', ')}`,
    );
  }
  process.stdout.write(
    `\nIntegration suites that need ${missing.join(' and ')} are SKIPPED: not reachable. ` +
      'Start them (see README) or set TEST_DATABASE_URL / TEST_AMQP_URL.\n',
  );
}
