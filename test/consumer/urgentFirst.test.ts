import { deleteTopology } from '../support/brokerTopology';
import amqplib from 'amqplib';
import { topologyNames } from '../../src/broker/topologyNames';
import { declareTopology } from '../../src/consumer/topology';
import { createHeraldPublisher, type HeraldPublisher } from '../../src/sdk/publisher';
import { heraldApi, type HeraldApi } from '../support/heraldApi';
import { startSmtpSink, type SmtpSink } from '../senders/support/smtpSink';
import { describeWith, TEST_AMQP_URL } from '../support/services';
import {
  createTestDeployment,
  eventually,
  type TestDeployment,
  type TestHerald,
} from '../support/testHerald';

/**
 * Urgent first (issue 15, item 8): with HERALD_PREFETCH=1 the topic send takes the only slot herald.dispatch
 * (or, embedded, the scheduler) gives to ordinary envelopes. An ordinary envelope published during it waits
 * for the topic to finish, which shows the slot is really taken; a critical one is sent before the topic's
 * last page. Ordering is read from the attempt rows' ids (their insert order), not from a clock.
 */
const MEMBERS = 3000;

const news = {
  code: 'urgent_news',
  name: 'News',
  variables: { text: 'string' },
  channels: { im: { title: 'News', body: '{{ text }}' } },
};
const alert = { ...news, code: 'urgent_alert', name: 'Alert', critical: true };
const ordinary = { ...news, code: 'urgent_ordinary', name: 'Ordinary' };

async function alertDuringTopic(
  h: TestHerald,
  api: HeraldApi,
  publish: (envelope: Record<string, unknown>) => Promise<void>,
): Promise<void> {
  const sql = h.runtime.ctx.db.sql;
  for (const t of [news, alert, ordinary]) await api.createTemplate(t);
  await api.post('/v1/topics', { key: 'everyone', name: 'Everyone' }, 201);
  const userIds = Array.from({ length: MEMBERS }, (_, i) => `m-${String(i).padStart(5, '0')}`);
  await api.post('/v1/topics/everyone/members', { userIds }, 200);

  const attemptIds = async (messageId: string) =>
    (
      await sql.query<{ n: number; first: string | null; last: string | null }>(
        `SELECT count(*)::int AS n, min(a.id)::text AS first, max(a.id)::text AS last
           FROM "DeliveryAttempt" a JOIN "Delivery" d ON d.id = a."deliveryId" WHERE d."messageId" = $1`,
        [messageId],
      )
    ).rows[0] ?? { n: 0, first: null, last: null };

  await publish({ id: 'topic-1', template: news.code, to: { topic: 'everyone' }, data: { text: 'all' } });
  await eventually(async () => (await attemptIds('topic-1')).n > 0, 30_000, 'the topic send to begin');
  await publish({ id: 'ordinary-1', template: ordinary.code, to: [{ userId: 'u-o' }], data: { text: 'o' } });
  await publish({ id: 'alert-1', template: alert.code, to: [{ userId: 'u-a' }], data: { text: 'fire' } });

  const topic = await eventually(
    async () => {
      const t = await attemptIds('topic-1');
      return t.n === MEMBERS && t;
    },
    120_000,
    `all ${MEMBERS} topic attempts`,
  );
  const sent = await eventually(async () => {
    const [a, o] = [await attemptIds('alert-1'), await attemptIds('ordinary-1')];
    return a.n === 1 && o.n === 1 && { alertAt: BigInt(a.first ?? 0), ordinaryAt: BigInt(o.first ?? 0) };
  }, 30_000);
  const topicLast = BigInt(topic.last ?? 0);
  // The control: an ordinary envelope really waited for the whole topic.
  expect(sent.ordinaryAt > topicLast).toBe(true);
  // The alert did not: it was sent while the topic still had pages to go.
  expect(sent.alertAt < topicLast).toBe(true);
  const { rows } = await sql.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM "DeliveryAttempt" a JOIN "Delivery" d ON d.id = a."deliveryId"
      WHERE d."messageId" = 'topic-1' AND a.id > $1`,
    [sent.alertAt.toString()],
  );
  expect(rows[0]?.n).toBeGreaterThan(0);
  // Nothing was sent twice, nothing skipped.
  const counts = await sql.query<{ status: string; n: number }>(
    `SELECT status::text, count(*)::int AS n FROM "Delivery" GROUP BY status`,
  );
  expect(counts.rows).toEqual([{ status: 'sent', n: MEMBERS + 2 }]);
}

describeWith(['postgres', 'rabbitmq'], 'urgent first on RabbitMQ', () => {
  let dep: TestDeployment;
  let sdk: HeraldPublisher | undefined;
  const names = () => topologyNames(dep.prefix);

  beforeEach(() => {
    dep = createTestDeployment();
  });
  afterEach(async () => {
    await sdk?.close();
    sdk = undefined;
    await dep.destroy();
  }, 60_000);

  it('sends an alert published during a topic send before the topic finishes', async () => {
    const h = await dep.start({ HERALD_PREFETCH: '1', HERALD_PREFETCH_CRITICAL: '4' });
    const publisher = await createHeraldPublisher({ url: TEST_AMQP_URL, prefix: dep.prefix });
    sdk = publisher;
    // Published by a business service's SDK, which knows nothing about which templates are critical.
    await alertDuringTopic(h, heraldApi(h.baseUrl), async (e) => {
      await publisher.publish(e as Parameters<HeraldPublisher['publish']>[0]);
    });
  }, 180_000);

  it('routes by the template as it is now, and still dead-letters what nothing binds', async () => {
    // A consumer declares the topology once, then only the API runs: envelopes stay where RabbitMQ put them.
    await (await dep.start()).stop();
    const h = await dep.start({ HERALD_ROLES: 'api' });
    const api = heraldApi(h.baseUrl);
    const publisher = await createHeraldPublisher({ url: TEST_AMQP_URL, prefix: dep.prefix });
    sdk = publisher;
    const conn = await amqplib.connect(TEST_AMQP_URL);
    try {
      const ch = await conn.createChannel();
      const depth = async () => ({
        dispatch: (await ch.checkQueue(names().dispatch)).messageCount,
        critical: (await ch.checkQueue(names().critical)).messageCount,
        dead: (await ch.checkQueue(names().dead)).messageCount,
      });
      const send = (id: string) =>
        publisher.publish({ id, template: 'flip', to: [{ userId: 'u-1' }], data: { text: 'x' } });
      await api.createTemplate({ ...news, code: 'flip' });
      await send('flip-1');
      await eventually(async () => (await depth()).dispatch === 1, 5000, 'flip-1 on herald.dispatch');

      await api.expectStatus(200, 'PUT', '/v1/templates/flip', { ...news, code: 'flip', critical: true });
      await send('flip-2');
      await eventually(async () => (await depth()).critical === 1, 5000, 'flip-2 on the critical queue');

      await api.expectStatus(200, 'PUT', '/v1/templates/flip', { ...news, code: 'flip', critical: false });
      await send('flip-3');
      await eventually(async () => (await depth()).dispatch === 2, 5000, 'flip-3 back on herald.dispatch');

      // Archived while critical: its key routes like any unknown template's (dispatch rejects it there).
      await api.createTemplate({ ...alert, code: 'gone' });
      await api.expectStatus(200, 'DELETE', '/v1/templates/gone');
      await publisher.publish({
        id: 'gone-1',
        template: 'gone',
        to: [{ userId: 'u-1' }],
        data: { text: 'x' },
      });
      await eventually(async () => (await depth()).dispatch === 3, 5000, 'gone-1 on herald.dispatch');

      ch.publish(names().exchange, 'not-notify.flip', Buffer.from('{}'));
      await eventually(async () => (await depth()).dead === 1, 5000, 'the unroutable envelope dead-lettered');
      expect(await depth()).toEqual({ dispatch: 3, critical: 1, dead: 1 });
      await ch.close();
    } finally {
      await conn.close();
    }
    // A consumer started again (its topology declared over the existing queues) takes both queues.
    await h.stop();
    const c = await dep.start();
    const status = async (id: string) =>
      (
        await c.runtime.ctx.db.sql.query<{ status: string }>(
          `SELECT status::text FROM "Message" WHERE id = $1`,
          [id],
        )
      ).rows[0]?.status;
    await eventually(async () => (await status('flip-2')) === 'completed', 15_000, 'flip-2 sent');
    await eventually(async () => (await status('flip-3')) === 'completed', 15_000, 'flip-3 sent');
    // The unroutable one, and gone-1 rejected for its archived template.
    const dead = await eventually(async () => {
      const { items } = await heraldApi(c.baseUrl).deadLetters();
      return items.length >= 2 && items.map((d) => d.code).sort();
    }, 15_000);
    expect(dead).toEqual(['unknown_template', 'unroutable']);
  }, 60_000);
});

describeWith(['postgres', 'rabbitmq'], 'urgent first: retries of a critical envelope', () => {
  let dep: TestDeployment | undefined;
  let sink: SmtpSink | undefined;
  afterAll(async () => {
    await dep?.destroy();
    await sink?.close();
  }, 60_000);

  it('wait in the critical retry queues and come back to the critical queue', async () => {
    dep = createTestDeployment({ HERALD_RETRY_DELAYS: '4s' });
    const names = topologyNames(dep.prefix);
    const h = await dep.start();
    const api = heraldApi(h.baseUrl);
    const smtp = await startSmtpSink();
    sink = smtp;
    let refused = 0;
    smtp.setBehaviour({
      rcpt: () => (refused++ === 0 ? { code: 451, message: '4.3.0 try again later' } : undefined),
    });
    await api.createSmtpAccount('sink', smtp.port);
    await api.createTemplate({
      code: 'pager',
      name: 'Pager',
      critical: true,
      variables: {},
      channels: { mail: { subject: 'Down', html: '<p>The site is down</p>' } },
    });
    await api.post(
      '/v1/messages',
      { id: 'pager-1', template: 'pager', to: [{ email: 'oncall@example.com' }] },
      202,
    );
    const conn = await amqplib.connect(TEST_AMQP_URL);
    try {
      const ch = await conn.createChannel();
      const waiting = await eventually(async () => {
        const critical = (await ch.checkQueue(names.criticalRetryQueue(4000))).messageCount;
        const ordinary = (await ch.checkQueue(names.retryQueue(4000))).messageCount;
        return critical + ordinary > 0 && { critical, ordinary };
      }, 10_000);
      expect(waiting).toEqual({ critical: 1, ordinary: 0 });
      await ch.close();
    } finally {
      await conn.close();
    }
    const done = await api.reaches('pager-1', 'completed');
    expect(done.deliveries[0]?.attemptLog.map((a) => a.outcome)).toEqual(['retryable', 'sent']);
    expect(smtp.messages).toHaveLength(1);
  }, 60_000);
});

describeWith(['rabbitmq'], 'urgent first: topology over an earlier deployment', () => {
  it('takes over the layout of the version before, and routes nothing twice or nowhere', async () => {
    const names = topologyNames(`t${Date.now().toString(36)}u.`);
    const opts = { retryQueueDelays: [200], deliveryLimit: 5 };
    const conn = await amqplib.connect(TEST_AMQP_URL);
    const ch = await conn.createChannel();
    try {
      // What the version before declared: herald → herald.route (alternate herald.unroutable) → herald.dispatch.
      await ch.assertExchange(names.exchange, 'topic', { durable: true });
      await ch.assertQueue(names.dead, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
      await ch.assertQueue(names.dispatch, {
        durable: true,
        arguments: {
          'x-queue-type': 'quorum',
          'x-delivery-limit': 5,
          'x-dead-letter-exchange': '',
          'x-dead-letter-routing-key': names.dead,
        },
      });
      await ch.assertExchange(names.unroutable, 'fanout', { durable: true });
      await ch.bindQueue(names.dead, names.unroutable, '');
      await ch.assertExchange(names.route, 'topic', {
        durable: true,
        internal: true,
        arguments: { 'alternate-exchange': names.unroutable },
      });
      await ch.bindExchange(names.route, names.exchange, '#');
      await ch.bindQueue(names.dispatch, names.route, 'notify.#');

      // This version, twice (a restart), with one critical template bound.
      await declareTopology(ch, names, opts);
      await declareTopology(ch, names, opts);
      await ch.bindQueue(names.critical, names.routeCritical, 'notify.alarm');
      for (const key of ['notify.alarm', 'notify.news', 'elsewhere'])
        ch.publish(names.exchange, key, Buffer.from('{}'));
      const depth = async () =>
        Promise.all(
          [names.critical, names.dispatch, names.dead].map(
            async (q) => (await ch.checkQueue(q)).messageCount,
          ),
        );
      await eventually(async () => (await depth()).join() === '1,1,1', 5000, 'one message in each queue');
      await new Promise((r) => setTimeout(r, 300));
      expect(await depth()).toEqual([1, 1, 1]);
    } finally {
      await deleteTopology(ch, names, opts.retryQueueDelays);
      await ch.close();
      await conn.close();
    }
  });
});

describeWith(['postgres'], 'urgent first, embedded (no AMQP_URL)', () => {
  let dep: TestDeployment;
  afterAll(async () => {
    await dep?.destroy();
  }, 60_000);

  it('claims an alert published during a topic send before the topic finishes', async () => {
    dep = createTestDeployment();
    const h = await dep.start({ AMQP_URL: '', HERALD_PREFETCH: '1', HERALD_PREFETCH_CRITICAL: '4' });
    const api = heraldApi(h.baseUrl);
    await alertDuringTopic(h, api, async (e) => {
      await api.post('/v1/messages', e, 202);
    });
  }, 180_000);
});
