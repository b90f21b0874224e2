import { signUserToken } from '../../src/auth/userToken';
import { startFakeRobot, type FakeRobot } from '../senders/support/fakeRobot';
import { startSmtpSink, type SmtpSink } from '../senders/support/smtpSink';
import { startTlsFront, trustTlsFront, type TlsFront } from '../e2e/support/tlsFront';
import { heraldApi, type HeraldApi } from '../support/heraldApi';
import { describeWith } from '../support/services';
import {
  createTestDeployment,
  JWT_SECRET,
  LOCAL_VENDOR_FAKES,
  type TestDeployment,
  type TestHerald,
} from '../support/testHerald';

const ROBOT_SECRET = 'SEC0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0';

const notice = (code: string, extra: Record<string, unknown> = {}) => ({
  code,
  name: 'Invoice ready',
  variables: { no: 'string' },
  category: 'billing',
  ...extra,
  channels: {
    mail: { account: 'sink', subject: 'Invoice {{ no }}', html: '<p>Dear {{ name }}, invoice {{ no }}.</p>' },
    im: { title: 'Invoice {{ no }}', body: 'for {{ name }}' },
    dingtalk: { account: 'ops-robot', msgtype: 'text', text: 'Invoice {{ no }} is out' },
  },
});

interface DeliveryRow {
  channel: string;
  recipientKey: string;
  userId: string | null;
  email: string | null;
  status: string;
  reason: string | null;
}

describeWith(['postgres', 'rabbitmq'], 'subscriber directory: envelopes that name only user ids', () => {
  let dep: TestDeployment;
  let h: TestHerald;
  let api: HeraldApi;
  let sink: SmtpSink;
  let robot: FakeRobot;
  let front: TlsFront;
  let untrust: () => void;

  beforeAll(async () => {
    sink = await startSmtpSink();
    robot = await startFakeRobot({ secret: ROBOT_SECRET });
    front = await startTlsFront(robot.url);
    untrust = trustTlsFront();
    dep = createTestDeployment(LOCAL_VENDOR_FAKES);
    h = await dep.start();
    api = heraldApi(h.baseUrl);
    await api.createSmtpAccount('sink', sink.port);
    await api.post(
      '/v1/channel-accounts',
      { name: 'ops-robot', type: 'dingtalk-robot', config: { webhook: front.url, secret: ROBOT_SECRET } },
      201,
    );
    await api.createTemplate(notice('invoice_ready'));
    await api.createTemplate(notice('account_locked', { category: 'billing', critical: true }));
  }, 90_000);

  afterAll(async () => {
    await dep?.destroy();
    untrust?.();
    await front?.close();
    await robot?.close();
    await sink?.close();
  }, 60_000);

  const deliveries = async (messageId: string) =>
    (
      await h.runtime.ctx.db.sql.query<DeliveryRow>(
        `SELECT channel::text, "recipientKey", "userId", email, status::text, reason FROM "Delivery"
          WHERE "messageId" = $1 ORDER BY channel::text, "recipientKey"`,
        [messageId],
      )
    ).rows;

  it('upserts, reads, validates, lists with a cursor and finds by email', async () => {
    const li = await api.expectStatus<Record<string, unknown>>(200, 'PUT', '/v1/subscribers/u-li', {
      email: 'li@example.com',
      name: 'Li',
      mobile: '13800000000',
      locale: 'zh-CN',
      timezone: 'Asia/Shanghai',
      data: { plan: 'pro' },
    });
    expect(li).toMatchObject({ userId: 'u-li', email: 'li@example.com', timezone: 'Asia/Shanghai' });
    expect(li.preferences).toEqual({ channels: {}, categories: {} });
    await api.expectStatus(200, 'PUT', '/v1/subscribers/u-wang', { email: 'wang@example.com', name: 'Wang' });
    expect(await api.expectStatus(200, 'GET', '/v1/subscribers/u-wang')).toMatchObject({
      name: 'Wang',
      timezone: null,
    });
    await api.expectStatus(404, 'GET', '/v1/subscribers/u-nobody');

    const badZone = await api.call<{ errors: Array<{ path: string }> }>('PUT', '/v1/subscribers/u-x', {
      timezone: 'Mars/Olympus',
    });
    expect([badZone.status, badZone.body.errors[0]?.path]).toEqual([400, 'body.timezone']);
    const unknownField = await api.call('PUT', '/v1/subscribers/u-x', { emial: 'x@example.com' });
    expect(unknownField.status).toBe(400);

    const first = await api.expectStatus<{ items: Array<{ userId: string }>; nextCursor: string }>(
      200,
      'GET',
      '/v1/subscribers?limit=1',
    );
    expect(first.items.map((s) => s.userId)).toEqual(['u-li']);
    const second = await api.expectStatus<{ items: Array<{ userId: string }>; nextCursor: string | null }>(
      200,
      'GET',
      `/v1/subscribers?limit=1&cursor=${first.nextCursor}`,
    );
    expect(second.items.map((s) => s.userId)).toEqual(['u-wang']);
    const found = await api.expectStatus<{ items: Array<{ userId: string }> }>(
      200,
      'GET',
      '/v1/subscribers?email=li%40EXAMPLE.com',
    );
    expect(found.items.map((s) => s.userId)).toEqual(['u-li']);
    await api.expectStatus(400, 'GET', '/v1/subscribers?cursor=forged');
  });

  it('takes 10,000 subscribers in one bulk call, above the default body limit', async () => {
    const subscribers = Array.from({ length: 10_000 }, (_, i) => ({
      userId: `bulk-${String(i).padStart(5, '0')}`,
      email: `bulk-${i}@example.com`,
      name: `Bulk Subscriber Number ${i}`,
      timezone: 'Europe/Berlin',
      data: { note: 'x'.repeat(150) },
    }));
    const body = JSON.stringify({ subscribers });
    expect(Buffer.byteLength(body)).toBeGreaterThan(2 * 1024 * 1024);
    expect(await api.expectStatus(200, 'POST', '/v1/subscribers/bulk', { subscribers })).toEqual({
      upserted: 10_000,
    });
    const { rows } = await h.runtime.ctx.db.sql.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "Subscriber" WHERE "userId" LIKE 'bulk-%'`,
    );
    expect(rows[0]?.n).toBe(10_000);
    const dup = await api.call('POST', '/v1/subscribers/bulk', {
      subscribers: [{ userId: 'a' }, { userId: 'a' }],
    });
    expect(dup.status).toBe(400);
  }, 60_000);

  it('fills recipients named by userId from the directory for mail, IM and the robot; envelope fields win', async () => {
    await api.post(
      '/v1/messages',
      {
        id: 'inv-1',
        template: 'invoice_ready',
        to: [
          { userId: 'u-li' },
          { userId: 'u-wang', email: 'wang.other@example.com' },
          { userId: 'u-ghost' },
        ],
        data: { no: 'A-1' },
      },
      202,
    );
    const m = await api.finished('inv-1');
    expect(m.status).toBe('completed');
    expect((await deliveries('inv-1')).map((d) => [d.channel, d.recipientKey, d.status, d.reason])).toEqual([
      ['dingtalk', 'group', 'sent', null],
      ['im', 'user:u-ghost', 'sent', null],
      ['im', 'user:u-li', 'sent', null],
      ['im', 'user:u-wang', 'sent', null],
      ['mail', 'user:u-ghost', 'skipped', 'recipient has no email address'],
      ['mail', 'user:u-li', 'sent', null],
      ['mail', 'user:u-wang', 'sent', null],
    ]);
    const mails = await sink.waitForMessages(2);
    const to = (address: string) => mails.find((x) => x.envelope.to.includes(address));
    expect(to('li@example.com')?.html).toBe('<p>Dear Li, invoice A-1.</p>');
    expect(to('wang.other@example.com')?.html).toBe('<p>Dear Wang, invoice A-1.</p>');
    expect(mails.some((x) => x.envelope.to.includes('wang@example.com'))).toBe(false);
    // The robot mentions the stored mobile of u-li.
    expect(robot.requests).toHaveLength(1);
    expect(robot.requests[0]?.body).toMatchObject({ at: { atMobiles: ['13800000000'] } });
    expect(await api.inboxCount('u-li')).toBe(1);
  }, 60_000);

  it('skips an opted-out channel with reason preference (set with the user token), unless the template is critical', async () => {
    const token = signUserToken(JWT_SECRET, 'u-li');
    const me = (method: string, body?: unknown) =>
      fetch(`${h.baseUrl}/v1/me/preferences`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
      });
    expect(await (await me('GET')).json()).toEqual({ channels: {}, categories: {} });
    const put = await me('PUT', { categories: { billing: { channels: { mail: false } } } });
    expect(put.status).toBe(200);
    expect((await fetch(`${h.baseUrl}/v1/me/preferences`)).status).toBe(401);
    expect(await api.expectStatus(200, 'GET', '/v1/subscribers/u-li/preferences')).toEqual({
      channels: {},
      categories: { billing: { channels: { mail: false } } },
    });

    const mailsBefore = sink.messages.length;
    await api.post(
      '/v1/messages',
      { id: 'inv-2', template: 'invoice_ready', to: [{ userId: 'u-li' }], data: { no: 'A-2' } },
      202,
    );
    expect((await api.finished('inv-2')).status).toBe('completed');
    expect(
      (await deliveries('inv-2'))
        .filter((d) => d.channel !== 'dingtalk')
        .map((d) => [d.channel, d.status, d.reason]),
    ).toEqual([
      ['im', 'sent', null],
      ['mail', 'skipped', 'preference'],
    ]);

    await api.post(
      '/v1/messages',
      { id: 'lock-1', template: 'account_locked', to: [{ userId: 'u-li' }], data: { no: 'L-1' } },
      202,
    );
    await api.finished('lock-1');
    expect((await deliveries('lock-1')).find((d) => d.channel === 'mail')?.status).toBe('sent');
    await sink.waitForMessages(mailsBefore + 1);
    expect(sink.messages.slice(mailsBefore).map((x) => x.subject)).toEqual(['Invoice L-1']);
  }, 60_000);

  it('exports everything held about a person, then erases it everywhere and keeps the counts', async () => {
    const exported = await api.expectStatus<{
      subscriber: { email: string };
      inbox: unknown[];
      deliveries: Array<{ channel: string; attemptLog: unknown[] }>;
    }>(200, 'GET', '/v1/subscribers/u-li/export');
    expect(exported.subscriber.email).toBe('li@example.com');
    expect(exported.inbox).toHaveLength(3);
    expect(exported.deliveries.length).toBe(6);
    expect(exported.deliveries.every((d) => d.attemptLog.length <= 1)).toBe(true);

    const countBefore = (
      await h.runtime.ctx.db.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM "Delivery"`)
    ).rows[0]?.n;
    const erased = await api.expectStatus<Record<string, unknown>>(200, 'DELETE', '/v1/subscribers/u-li');
    expect(erased).toMatchObject({
      userId: 'u-li',
      subscriber: true,
      inboxItems: 3,
      deliveries: 6,
      messages: 3,
    });

    await api.expectStatus(404, 'GET', '/v1/subscribers/u-li');
    expect(await api.inboxCount('u-li')).toBe(0);
    const sql = h.runtime.ctx.db.sql;
    const left = await sql.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "Delivery" WHERE "userId" = 'u-li' OR lower(email) = 'li@example.com'`,
    );
    expect(left.rows[0]?.n).toBe(0);
    const marked = await sql.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "Delivery" WHERE "userId" = '[erased]'`,
    );
    expect(marked.rows[0]?.n).toBe(6);
    expect((await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM "Delivery"`)).rows[0]?.n).toBe(
      countBefore,
    );
    const envelopes = await sql.query<{ envelope: unknown }>(
      `SELECT envelope FROM "Message" WHERE id IN ('inv-1', 'inv-2', 'lock-1')`,
    );
    for (const { envelope } of envelopes.rows) {
      expect(JSON.stringify(envelope)).not.toMatch(/u-li|li@example/);
    }
    // Wang, who was in the same message, is untouched.
    expect((await deliveries('inv-1')).filter((d) => d.userId === 'u-wang')).toHaveLength(2);

    const after = await api.expectStatus<{ subscriber: unknown; inbox: unknown[]; deliveries: unknown[] }>(
      200,
      'GET',
      '/v1/subscribers/u-li/export',
    );
    expect([after.subscriber, after.inbox, after.deliveries]).toEqual([null, [], []]);
  }, 60_000);
});
