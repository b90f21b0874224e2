import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import amqplib, { type Channel, type ChannelModel } from 'amqplib';
import { createPostgresDatabase } from '../../src/db/postgresDatabase';
import type { Database } from '../../src/db/database';
import { createHeraldPublisher, type HeraldPublisher } from '../../src/sdk/publisher';
import { TEST_AMQP_URL } from '../support/services';
import { ADMIN_TOKEN } from '../support/testApp';
import {
  createTestDeployment,
  eventually,
  JWT_SECRET,
  SECRET_KEY,
  type TestDeployment,
} from '../support/testHerald';
import { describeWithBrokerCli, queueCounts } from './support/brokerSide';
import { heraldApi } from '../support/heraldApi';
import { startHeraldProcess, type HeraldProcess } from './support/heraldProcess';
import { pipelineCounts } from './support/pipelineCounts';

const TOTAL = 500;
const SIGTERM_AFTER = 100;
const GRACE_MS = 20_000;

jest.setTimeout(180_000);

describeWithBrokerCli('herald start: SIGTERM during a burst', () => {
  let dep: TestDeployment;
  let home: string;
  let env: Record<string, string>;
  const processes: HeraldProcess[] = [];
  let sdk: HeraldPublisher | undefined;
  let db: Database | undefined;
  let conn: ChannelModel | undefined;
  let ch: Channel;

  beforeAll(async () => {
    dep = createTestDeployment();
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-sigterm-'));
    env = {
      HERALD_HOME: home,
      DATABASE_URL: dep.databaseUrl,
      DATABASE_POOL_SIZE: '5',
      AMQP_URL: TEST_AMQP_URL,
      HERALD_QUEUE_PREFIX: dep.prefix,
      HERALD_ADMIN_TOKENS: ADMIN_TOKEN,
      HERALD_JWT_SECRET: JWT_SECRET,
      HERALD_SECRET_KEY: SECRET_KEY,
      HERALD_RETRY_DELAYS: '200ms,400ms,800ms',
      HERALD_SHUTDOWN_GRACE_MS: String(GRACE_MS),
      LOG_LEVEL: 'info',
    };
  });
  afterAll(async () => {
    for (const p of processes) p.signal('SIGKILL');
    await Promise.all(processes.map((p) => p.exited));
    await sdk?.close();
    await conn?.close();
    await db?.close();
    await dep?.destroy();
    fs.rmSync(home, { recursive: true, force: true });
  });

  const start = async () => {
    const p = await startHeraldProcess(env);
    processes.push(p);
    return p;
  };
  const dispatchQueue = () => `${dep.prefix}herald.dispatch`;

  it('finishes and acks what it took, exits 0, and a fresh instance completes the rest', async () => {
    const first = await start();
    await heraldApi(first.baseUrl).createTemplate({
      code: 'burst',
      name: 'Burst',
      variables: { n: 'number' },
      channels: { im: { title: 'Item {{ n }}', body: 'of a burst' } },
    });
    db = createPostgresDatabase(dep.databaseUrl, 2);
    const sql = db.sql;
    sdk = await createHeraldPublisher({ url: TEST_AMQP_URL, prefix: dep.prefix });
    const publisher = sdk;

    const publishing = (async () => {
      for (let n = 0; n < TOTAL; n += 25) {
        await Promise.all(
          Array.from({ length: 25 }, (_, i) =>
            publisher.publish({
              id: `burst-${n + i}`,
              template: 'burst',
              to: [{ userId: `u-${(n + i) % 7}` }],
              data: { n: n + i },
            }),
          ),
        );
      }
    })();
    await eventually(
      async () => (await pipelineCounts(sql)).messages >= SIGTERM_AFTER,
      60_000,
      'the burst to start',
    );
    const signalledAt = Date.now();
    first.signal('SIGTERM');
    const exit = await first.exited;
    await publishing;

    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(exit.at - signalledAt).toBeLessThan(GRACE_MS);
    expect(first.output()).toContain('stopped cleanly');

    // Every envelope it took is finished and acked: none half done, none both done and still queued.
    conn = await amqplib.connect(TEST_AMQP_URL);
    ch = await conn.createChannel();
    const afterStop = await pipelineCounts(sql);
    expect(afterStop.messages).toBe(afterStop.completed);
    expect(afterStop.completed).toBeGreaterThanOrEqual(SIGTERM_AFTER);
    expect(afterStop.completed).toBeLessThan(TOTAL);
    // A quorum queue applies the last acks and the channel's returns asynchronously: read its depth
    // until it settles. A message both finished and requeued would never settle at this total.
    const channel = ch;
    const settled = await eventually(
      async () => {
        const q = await channel.checkQueue(dispatchQueue());
        return afterStop.completed + q.messageCount === TOTAL ? q : undefined;
      },
      10_000,
      'finished + queued to equal the total',
    ).catch(async () => channel.checkQueue(dispatchQueue()));
    expect({ consumers: settled.consumerCount, total: afterStop.completed + settled.messageCount }).toEqual({
      consumers: 0,
      total: TOTAL,
    });
    await eventually(
      async () => {
        const q = await queueCounts(dispatchQueue());
        return q.unacked === 0 && q.ready === TOTAL - afterStop.completed;
      },
      30_000,
      'RabbitMQ to count no unacked message',
    );

    const second = await start();
    const counts = await eventually(
      async () => {
        const c = await pipelineCounts(sql);
        return c.completed === TOTAL ? c : undefined;
      },
      120_000,
      `${TOTAL} completed messages`,
    );
    expect(counts).toEqual({
      messages: TOTAL,
      completed: TOTAL,
      deliveries: TOTAL,
      deliveriesSent: TOTAL,
      attemptsSent: TOTAL,
      inboxItems: TOTAL,
    });
    const { rows } = await sql.query<{ n: string }>(
      `SELECT count(DISTINCT "messageId")::text AS n FROM "InboxItem"`,
    );
    expect(rows[0]?.n).toBe(String(TOTAL));

    second.signal('SIGTERM');
    expect((await second.exited).code).toBe(0);
    const drained = await ch.checkQueue(dispatchQueue());
    expect({ messages: drained.messageCount, consumers: drained.consumerCount }).toEqual({
      messages: 0,
      consumers: 0,
    });
  });
});
