import { createHeraldPublisher, type HeraldPublisher } from '../../src/sdk/publisher';
import { membersAsOf } from '../../src/audience/topicStore';
import { heraldApi, type HeraldApi } from '../support/heraldApi';
import { describeWith, TEST_AMQP_URL } from '../support/services';
import {
  createTestDeployment,
  eventually,
  type TestDeployment,
  type TestHerald,
} from '../support/testHerald';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const broadcast = {
  code: 'broadcast',
  name: 'Broadcast',
  variables: { text: 'string' },
  channels: { im: { title: 'News', body: '{{ text }}' } },
};

describeWith(['postgres', 'rabbitmq'], 'topics: send to everyone subscribed, once each', () => {
  let dep: TestDeployment;
  let h: TestHerald;
  let api: HeraldApi;
  let sdk: HeraldPublisher;

  beforeAll(async () => {
    dep = createTestDeployment();
    h = await dep.start();
    api = heraldApi(h.baseUrl);
    await api.createTemplate(broadcast);
    sdk = await createHeraldPublisher({ url: TEST_AMQP_URL, prefix: dep.prefix });
  }, 60_000);
  afterAll(async () => {
    await sdk?.close();
    await dep?.destroy();
  }, 60_000);

  const count = async (query: string, params: unknown[] = []) =>
    (await h.runtime.ctx.db.sql.query<{ n: number }>(query, params)).rows[0]?.n;
  const members = (key: string, userIds: string[]) =>
    api.expectStatus<{ changed: number }>(200, 'POST', `/v1/topics/${key}/members`, { userIds });

  it('creates topics, adds and removes members in bulk, lists them with a cursor', async () => {
    expect(await api.post('/v1/topics', { key: 'ops-oncall', name: 'On call' }, 201)).toMatchObject({
      key: 'ops-oncall',
      members: 0,
    });
    await api.post('/v1/topics', { key: 'ops-oncall', name: 'again' }, 409);
    await api.post('/v1/topics', { key: 'bad key!', name: 'x' }, 400);
    expect(await members('ops-oncall', ['u-a', 'u-b', 'u-c', 'u-a'])).toEqual({ changed: 3 });
    expect(await members('ops-oncall', ['u-b', 'u-d'])).toEqual({ changed: 1 });
    expect(
      await api.expectStatus(200, 'POST', '/v1/topics/ops-oncall/members/remove', {
        userIds: ['u-c', 'u-x'],
      }),
    ).toEqual({ changed: 1 });
    const page1 = await api.expectStatus<{ items: Array<{ userId: string }>; nextCursor: string }>(
      200,
      'GET',
      '/v1/topics/ops-oncall/members?limit=2',
    );
    const page2 = await api.expectStatus<{ items: Array<{ userId: string }>; nextCursor: string | null }>(
      200,
      'GET',
      `/v1/topics/ops-oncall/members?limit=2&cursor=${page1.nextCursor}`,
    );
    expect([...page1.items, ...page2.items].map((m) => m.userId)).toEqual(['u-a', 'u-b', 'u-d']);
    expect(page2.nextCursor).toBeNull();
    expect(await api.expectStatus(200, 'GET', '/v1/topics/ops-oncall')).toMatchObject({ members: 3 });
    await api.expectStatus(404, 'POST', '/v1/topics/nope/members', { userIds: ['u-a'] });
  });

  it('lists topics by key with their current member counts, a page at a time', async () => {
    await api.post('/v1/topics', { key: 'list-b', name: 'B' }, 201);
    await api.post('/v1/topics', { key: 'list-a', name: 'A' }, 201);
    await members('list-a', ['l-1', 'l-2']);
    await api.expectStatus(200, 'POST', '/v1/topics/list-a/members/remove', { userIds: ['l-2'] });
    type TopicPage = { items: Array<{ key: string; members: number }>; nextCursor: string | null };
    const all: TopicPage['items'] = [];
    let cursor: string | null = null;
    do {
      const page: TopicPage = await api.expectStatus<TopicPage>(
        200,
        'GET',
        `/v1/topics?limit=1${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.items.length).toBeLessThanOrEqual(1);
      all.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    const keys = all.map((t) => t.key);
    expect(keys).toEqual([...keys].sort());
    expect(all.find((t) => t.key === 'list-a')?.members).toBe(1);
    expect(all.find((t) => t.key === 'list-b')?.members).toBe(0);
    expect(keys).toContain('ops-oncall');
  });

  it('reads membership as it stood at a given time: later additions out, later removals in', async () => {
    const sql = h.runtime.ctx.db.sql;
    await api.post('/v1/topics', { key: 'as-of', name: 'As of' }, 201);
    await members('as-of', ['m-1', 'm-2']);
    const { rows } = await sql.query<{ t: Date }>(`SELECT now() AS t`);
    const t = rows[0]?.t as Date;
    await sleep(20);
    await members('as-of', ['m-3']);
    await api.expectStatus(200, 'POST', '/v1/topics/as-of/members/remove', { userIds: ['m-1'] });
    const ids = async (at: Date) => (await membersAsOf(sql, ['as-of'], at, '', 100)).map((m) => m.userId);
    expect(await ids(t)).toEqual(['m-1', 'm-2']);
    expect(await ids(new Date())).toEqual(['m-2', 'm-3']);
  });

  it('gives a person in two topics and named in the envelope one copy; refuses an unknown topic', async () => {
    await api.post('/v1/topics', { key: 'team-a', name: 'A' }, 201);
    await api.post('/v1/topics', { key: 'team-b', name: 'B' }, 201);
    await members('team-a', ['p-1', 'p-2']);
    await members('team-b', ['p-2', 'p-3']);
    await api.post(
      '/v1/messages',
      {
        id: 'mix-1',
        template: 'broadcast',
        to: [{ topic: 'team-a' }, { topic: 'team-b' }, { userId: 'p-3' }, { userId: 'p-4' }],
        data: { text: 'hello' },
      },
      202,
    );
    const m = await api.finished('mix-1');
    expect(m.status).toBe('completed');
    expect(m.deliveries.map((d) => `${d.recipientIndex}:${d.recipientKey}`).sort()).toEqual([
      '2:user:p-3',
      '3:user:p-4',
      'null:user:p-1',
      'null:user:p-2',
    ]);
    for (const u of ['p-1', 'p-2', 'p-3', 'p-4']) expect(await api.inboxCount(u)).toBe(1);

    const refused = await api.call<{ code: string }>('POST', '/v1/messages', {
      id: 'mix-2',
      template: 'broadcast',
      to: { topic: 'no-such-topic' },
      data: { text: 'x' },
    });
    expect([refused.status, refused.body.code]).toEqual([422, 'unknown_topic']);
  });

  it('sends a 20,000-member topic as 20,000 inbox items, none twice when the envelope is published twice', async () => {
    await api.post('/v1/topics', { key: 'everyone', name: 'Everyone' }, 201);
    const all = Array.from({ length: 20_000 }, (_, i) => `e-${String(i).padStart(5, '0')}`);
    await members('everyone', all.slice(0, 10_000));
    await members('everyone', all.slice(10_000));
    const envelope = {
      id: 'all-1',
      template: 'broadcast',
      to: { topic: 'everyone' },
      data: { text: 'hi all' },
    };
    await Promise.all([sdk.publish(envelope), sdk.publish(envelope)]);
    await eventually(
      async () => (await api.message('all-1'))?.status === 'completed',
      240_000,
      'the topic send to complete',
    );
    // A late third copy: expands the same members and sends nothing more.
    await sdk.publish(envelope);
    await sleep(3000);
    expect(await count(`SELECT count(*)::int AS n FROM "InboxItem" WHERE "messageId" = 'all-1'`)).toBe(
      20_000,
    );
    expect(
      await count(`SELECT count(DISTINCT "userId")::int AS n FROM "InboxItem" WHERE "messageId" = 'all-1'`),
    ).toBe(20_000);
    expect(
      await count(
        `SELECT count(*)::int AS n FROM "Delivery" WHERE "messageId" = 'all-1' AND status = 'sent'`,
      ),
    ).toBe(20_000);
    expect(
      await count(
        `SELECT count(*)::int AS n FROM "DeliveryAttempt" a JOIN "Delivery" d ON d.id = a."deliveryId" WHERE d."messageId" = 'all-1'`,
      ),
    ).toBe(20_000);
  }, 300_000);

  it('does not send to a member added after the message was accepted when it is redelivered; a removed one keeps it', async () => {
    await api.post('/v1/topics', { key: 'late', name: 'Late' }, 201);
    await members('late', ['l-1', 'l-2']);
    const envelope = { id: 'late-1', template: 'broadcast', to: { topic: 'late' }, data: { text: 'first' } };
    await sdk.publish(envelope);
    const first = await api.finished('late-1');
    expect(first.deliveries.map((d) => d.userId).sort()).toEqual(['l-1', 'l-2']);

    await members('late', ['l-3']);
    await api.expectStatus(200, 'POST', '/v1/topics/late/members/remove', { userIds: ['l-1'] });
    // The same envelope again, as a redelivery or a resumed expansion would see it.
    await sdk.publish(envelope);
    await eventually(
      async () => ((await api.message('late-1'))?.updatedAt ?? '') > first.updatedAt,
      20_000,
      'the second copy to be consumed',
    );
    const again = await api.finished('late-1');
    expect(again.deliveries.map((d) => [d.userId, d.status]).sort()).toEqual([
      ['l-1', 'sent'],
      ['l-2', 'sent'],
    ]);
    expect(await api.inboxCount('l-3')).toBe(0);
    expect(await api.inboxCount('l-1')).toBe(1);
  }, 60_000);
});
