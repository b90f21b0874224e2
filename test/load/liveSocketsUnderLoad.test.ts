import { createPostgresDatabase } from '../../src/db/postgresDatabase';
import type { EnvelopeInput } from '../../src/contract/envelope';
import { createHeraldPublisher } from '../../src/sdk/publisher';
import { startChild, type Child } from '../../bench/lib/childRpc';
import { heraldApi } from '../support/heraldApi';
import { describeWith, TEST_AMQP_URL } from '../support/services';
import { createTestDeployment, eventually, JWT_SECRET, type TestDeployment } from '../support/testHerald';

/** 10,000 client sockets from several loopback addresses, so the ephemeral ports of one do not run out. */
const SOCKETS = 10_000;
const PER_ENVELOPE = 1000;
const LOCAL_ADDRESSES = Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 2}`);

interface SocketCounts {
  distinctItems: number;
  messageFrames: number;
  open: number;
}

/**
 * A burst of IM deliveries to live sockets must never turn into permanent failures: before renders were
 * bounded by their own work, ten envelopes of 1,000 recipients each failed thousands of deliveries with
 * "template render limit exceeded". The clients live in a child process (one process may hold at most
 * 20,000 open files here, and Herald holds the other end of every socket).
 */
describeWith(['postgres', 'rabbitmq'], 'IM to 10,000 live sockets at once', () => {
  let dep: TestDeployment;
  let clients: Child;

  beforeAll(async () => {
    dep = createTestDeployment();
    clients = await startChild('socketClients');
  });
  afterAll(async () => {
    await clients?.call('closeAll').catch(() => undefined);
    await clients?.stop();
    await dep.destroy();
  });

  it('delivers every one of 10,000 deliveries and pushes each to its socket', async () => {
    const h = await dep.start();
    const code = 'live_sockets_burst';
    await heraldApi(h.baseUrl).createTemplate({
      code,
      name: 'Burst to live sockets',
      variables: { n: 'number' },
      channels: { im: { title: 'Hello', body: 'item {{ n }} for {{ userId }}' } },
    });
    const users = Array.from({ length: SOCKETS }, (_, i) => `burst-u${i}`);
    const conn = await clients.call<{ connected: number }>(
      'connect',
      {
        users,
        concurrency: 100,
        localAddresses: LOCAL_ADDRESSES,
        wsBase: `${h.wsBase}/v1/ws`,
        secret: JWT_SECRET,
      },
      240_000,
    );
    expect(conn.connected).toBe(SOCKETS);
    await clients.call('reset');

    const envelopes: EnvelopeInput[] = [];
    for (let i = 0; i < SOCKETS; i += PER_ENVELOPE)
      envelopes.push({
        id: `burst-${i}`,
        template: code,
        to: users.slice(i, i + PER_ENVELOPE).map((userId) => ({ userId })),
        data: { n: i },
      });
    const publisher = await createHeraldPublisher({ url: TEST_AMQP_URL, prefix: dep.prefix });
    try {
      await Promise.all(envelopes.map((e) => publisher.publish(e)));
    } finally {
      await publisher.close();
    }

    const db = createPostgresDatabase(dep.databaseUrl, 1);
    try {
      const statuses = await eventually(
        async () => {
          const r = await db.sql.query<{ status: string; n: string }>(
            `SELECT status, count(*)::text AS n FROM "Delivery" WHERE "templateCode" = $1 GROUP BY status`,
            [code],
          );
          const by = Object.fromEntries(r.rows.map((row) => [row.status, Number(row.n)]));
          const settled = (by.delivered ?? 0) + (by.failed ?? 0);
          return settled === SOCKETS ? by : undefined;
        },
        400_000,
        `${SOCKETS} deliveries settled`,
      );
      expect(statuses).toEqual({ delivered: SOCKETS });
      const failedAttempts = await db.sql.query<{ n: string }>(
        `SELECT count(*)::text AS n FROM "DeliveryAttempt" a JOIN "Delivery" d ON d.id = a."deliveryId"
         WHERE d."templateCode" = $1 AND a.outcome <> 'sent'`,
        [code],
      );
      expect(Number(failedAttempts.rows[0]?.n)).toBe(0);
    } finally {
      await db.close();
    }

    const pushed = await eventually(
      async () => {
        const c = await clients.call<SocketCounts>('counts');
        return c.distinctItems >= SOCKETS ? c : undefined;
      },
      60_000,
      'every item on its socket',
    );
    expect(pushed.distinctItems).toBe(SOCKETS);
    expect(pushed.messageFrames).toBe(SOCKETS);
    expect(pushed.open).toBe(SOCKETS);
  });
});
