import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { TEST_AMQP_URL, TEST_DATABASE_URL, amqpVhost, canConnect } from '../../support/services';

const run = promisify(execFile);

export interface QueueCounts {
  ready: number;
  unacked: number;
}

/** `rabbitmqctl list_queues name messages_ready messages_unacknowledged` for the queues of a prefix. */
export async function queueCounts(prefix: string): Promise<Map<string, QueueCounts>> {
  const { stdout } = await run('rabbitmqctl', [
    'list_queues',
    '-p',
    amqpVhost(TEST_AMQP_URL),
    '-q',
    '--no-table-headers',
    'name',
    'messages_ready',
    'messages_unacknowledged',
  ]);
  const out = new Map<string, QueueCounts>();
  for (const line of stdout.split('\n')) {
    const [name, ready, unacked] = line.trim().split(/\s+/);
    if (name?.startsWith(prefix)) out.set(name, { ready: Number(ready), unacked: Number(unacked) });
  }
  return out;
}

/** Sums of ready and unacked messages over a prefix's dispatch and retry queues. */
export async function workQueueTotals(prefix: string): Promise<QueueCounts> {
  const total = { ready: 0, unacked: 0 };
  for (const [name, c] of await queueCounts(prefix)) {
    if (!name.endsWith('herald.dead')) {
      total.ready += c.ready;
      total.unacked += c.unacked;
    }
  }
  return total;
}

/**
 * The same totals once RabbitMQ has refreshed its queue statistics (every collect_statistics_interval,
 * 5 s by default): read right after a consumer goes away, list_queues still shows the old figures.
 */
export async function settledWorkQueueTotals(prefix: string, statsIntervalMs = 5000): Promise<QueueCounts> {
  await new Promise((r) => setTimeout(r, statsIntervalMs + 1500));
  return workQueueTotals(prefix);
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Only the broker-restart and database-outage scenarios stop shared services, and they always start them
 * again (finally + afterAll): everyone else's tests on this machine need them.
 */
export const rabbit = {
  async stop(): Promise<void> {
    await run('rabbitmqctl', ['stop_app']);
  },
  async start(): Promise<void> {
    await run('rabbitmqctl', ['start_app']);
    await waitFor(() => canConnect(TEST_AMQP_URL, 5672), 60_000, 'RabbitMQ to accept connections');
  },
  async ensureUp(): Promise<void> {
    if (!(await canConnect(TEST_AMQP_URL, 5672))) await rabbit.start();
  },
};

const PG_CLUSTER = (process.env.CHAOS_PG_CLUSTER ?? '15 main').split(' ');

export const postgres = {
  async stop(): Promise<void> {
    await run('pg_ctlcluster', ['--skip-systemctl-redirect', ...PG_CLUSTER, 'stop', '-m', 'fast']);
  },
  async start(): Promise<void> {
    await run('pg_ctlcluster', ['--skip-systemctl-redirect', ...PG_CLUSTER, 'start']);
    await waitFor(() => canConnect(TEST_DATABASE_URL, 5432), 60_000, 'PostgreSQL to accept connections');
  },
  async ensureUp(): Promise<void> {
    if (!(await canConnect(TEST_DATABASE_URL, 5432))) await postgres.start();
  },
};

/** Whether this machine lets the suite stop and start the services (local rabbitmqctl and pg_ctlcluster). */
export async function canControlServices(): Promise<{ rabbit: boolean; postgres: boolean }> {
  const has = async (cmd: string, args: string[]) =>
    run(cmd, args).then(
      () => true,
      () => false,
    );
  return {
    rabbit: await has('rabbitmqctl', ['-q', 'status']),
    postgres: await has('pg_ctlcluster', ['--skip-systemctl-redirect', ...PG_CLUSTER, 'status']),
  };
}
