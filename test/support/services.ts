import net from 'node:net';

/** Where the integration suites find PostgreSQL and RabbitMQ; override with these variables. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgresql://root@127.0.0.1:5432/test';
export const TEST_AMQP_URL = process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/**
 * Whether the service at `url` accepts a connection. A PostgreSQL URL whose `host` parameter is a
 * directory (`?host=/var/run/postgresql`) names a Unix socket, as libpq and pg read it.
 */
export function canConnect(url: string, defaultPort: number): Promise<boolean> {
  const u = new URL(url);
  const port = Number(u.port || defaultPort);
  const socketDir = u.searchParams.get('host');
  const target = socketDir?.startsWith('/')
    ? { path: `${socketDir}/.s.PGSQL.${port}` }
    : { host: u.hostname || 'localhost', port };
  return new Promise((resolve) => {
    const socket = net.connect({ ...target, timeout: 1000 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

/** `url` with Prisma's `schema` parameter set, whatever query parameters it already carries. */
export function withSchema(url: string, schema: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}schema=${encodeURIComponent(schema)}`;
}

/** The virtual host an AMQP URL names (`/` when the path is empty), for `rabbitmqctl -p`. */
export function amqpVhost(url: string): string {
  const path = new URL(url).pathname;
  return path.length > 1 ? decodeURIComponent(path.slice(1)) : '/';
}

/** Set by globalSetup: which services answered. */
export const services = {
  postgres: process.env.HERALD_TEST_POSTGRES === '1',
  rabbitmq: process.env.HERALD_TEST_RABBITMQ === '1',
};

/** A suite kept out of the run on purpose, its reason in its name (and so in every report). */
export function describeSkippedBecause(reason: string, name: string, fn: () => void): void {
  describe.skip(`${name} [skipped: ${reason}]`, fn);
}

/**
 * `describe` when the services a suite needs are up, otherwise a skipped `describe` whose name says why
 * (globalSetup has already printed the list; under HERALD_REQUIRE_SERVICES=1 it fails instead).
 */
export function describeWith(needs: Array<'postgres' | 'rabbitmq'>, name: string, fn: () => void): void {
  const missing = needs.filter((n) => !services[n]);
  if (missing.length === 0) describe(name, fn);
  else describeSkippedBecause(`${missing.join(' and ')} not reachable`, name, fn);
}
