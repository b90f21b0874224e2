import { signUserToken } from '../../src/auth/userToken';
import { connect, type TestClient } from '../gateway/support/wsClient';
import { startSmtpSink, type SmtpSink } from '../senders/support/smtpSink';
import { describeWith } from '../support/services';
import {
  chaosEnvelope,
  createChaosDeployment,
  finishedCount,
  JWT_SECRET,
  publishAll,
  type ChaosDeployment,
} from './support/chaosDeployment';
import { chaosSizes } from './support/chaosMode';
import { classify, watchMailbox, type Mailbox } from './support/ledger';
import { reportScenario } from './support/results';
import { waitUntil } from './support/waitUntil';

/** Users of chaosEnvelope (u-0 … u-96), each with a live socket so every IM item is pushed. */
const USERS = 97;

/**
 * Three Herald processes on one RabbitMQ and PostgreSQL (all roles; api + gateway; consumer only), the
 * consumer-only one killed with SIGKILL mid-burst while sockets receive every IM item. A delivery that
 * is sent, delivered or read must have the attempt row of its send: the gateways mark items delivered
 * as soon as they are pushed, which is while the killed consumer may not yet have recorded its batch.
 */
describeWith(['postgres', 'rabbitmq'], 'chaos 7: attempt rows survive a consumer killed mid-burst', () => {
  let sink: SmtpSink;
  let mailbox: Mailbox;
  let dep: ChaosDeployment;
  const sockets: TestClient[] = [];

  beforeAll(async () => {
    sink = await startSmtpSink();
    mailbox = watchMailbox(sink);
    dep = createChaosDeployment({ HERALD_RETRY_DELAYS: '1s,2s,4s,8s' });
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await dep?.destroy();
    await sink?.close();
  });

  it('every sent, delivered or read delivery has the attempt row of its send', async () => {
    const { killEnvelopes: total, kills } = chaosSizes;
    const all = await dep.start();
    const gateway = await dep.start({ HERALD_ROLES: 'api,gateway' });
    let consumer = await dep.start({ HERALD_ROLES: 'consumer' });
    await dep.setUp(all, sink);
    for (let u = 0; u < USERS; u++) {
      const base = (u % 2 ? gateway : all).baseUrl;
      sockets.push(await connect(base, { token: signUserToken(JWT_SECRET, `u-${u}`) }));
    }

    const ids = Array.from({ length: total }, (_, i) => `attempts-${i}`);
    const publishing = publishAll(
      await dep.publisher(),
      ids.map((id, i) => chaosEnvelope(id, i)),
      { concurrency: 20 },
    );
    for (let k = 1; k <= kills; k++) {
      const threshold = Math.floor((total * k) / (kills + 1));
      await waitUntil(
        async () => (await finishedCount(dep.db, ids)) >= threshold,
        180_000,
        `${threshold} finished`,
      );
      consumer.kill('SIGKILL');
      expect((await consumer.exited).signal).toBe('SIGKILL');
      consumer = await dep.start({ HERALD_ROLES: 'consumer' });
    }
    await publishing;
    // A send claimed at a kill waits out its lease (60 s) before it is sent again.
    await waitUntil(
      async () => (await finishedCount(dep.db, ids)) === total,
      300_000,
      'every envelope finished',
    );

    const { rows: missing } = await dep.db.query<{ id: string; channel: string; status: string }>(
      `SELECT d.id, d.channel, d.status FROM "Delivery" d
        WHERE d."messageId" = ANY($1) AND d.status IN ('sent', 'delivered', 'read')
          AND NOT EXISTS (SELECT 1 FROM "DeliveryAttempt" a WHERE a."deliveryId" = d.id AND a.outcome = 'sent')`,
      [ids],
    );
    const { rows: byStatus } = await dep.db.query<{ channel: string; status: string; n: number }>(
      `SELECT channel, status, count(*)::int AS n FROM "Delivery" WHERE "messageId" = ANY($1)
        GROUP BY channel, status ORDER BY channel, status`,
      [ids],
    );
    await sink.waitForMessages(total, 30_000).catch(() => undefined);
    const c = await classify(dep.db, ids, mailbox);
    reportScenario('attempt-rows-after-kill', {
      ...c,
      extra: {
        kills,
        withoutAttemptRow: missing.length,
        deliveries: byStatus.map((r) => `${r.channel}=${r.status}:${r.n}`).join(' '),
      },
    });

    // The scenario reached the case it is about: IM items were pushed and marked delivered.
    const delivered = byStatus.find((r) => r.channel === 'im' && r.status === 'delivered')?.n ?? 0;
    expect(delivered).toBeGreaterThan(0);
    expect(missing.slice(0, 20)).toEqual([]);
    expect(c.problems).toEqual([]);
    expect(c).toMatchObject({ total, completed: total, lost: 0, duplicated: 0, deadLettered: 0 });
  });
});
