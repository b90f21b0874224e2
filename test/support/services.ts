import net from 'node:net';

/** Where the integration suites find PostgreSQL and RabbitMQ; override with these variables. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgresql://root@127.0.0.1:5432/test';
export const TEST_AMQP_URL = process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

export function canConnect(url: string, defaultPort: number): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: u.hostname, port: Number(u.port || defaultPort), timeout: 1000 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

/** Set by globalSetup: which services answered. */
export const services = {
  postgres: process.env.HERALD_TEST_POSTGRES === '1',
  rabbitmq: process.env.HERALD_TEST_RABBITMQ === '1',
};

/**
 * `describe` when the services a suite needs are up, otherwise a skipped `describe` whose name says why
 * (globalSetup has already printed the list; under HERALD_REQUIRE_SERVICES=1 it fails instead).
 */
export function describeWith(needs: Array<'postgres' | 'rabbitmq'>, name: string, fn: () => void): void {
  const missing = needs.filter((n) => !services[n]);
  if (missing.length === 0) describe(name, fn);
  else describe.skip(`${name} [skipped: ${missing.join(' and ')} not reachable]`, fn);
}
