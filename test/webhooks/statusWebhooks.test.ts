import { signUserToken } from '../../src/auth/userToken';
import { EVENT_TYPES } from '../../src/events/eventTypes';
import { connect } from '../gateway/support/wsClient';
import { startSmtpSink, type SmtpSink } from '../senders/support/smtpSink';
import { describeWith } from '../support/services';
import { ADMIN_TOKEN } from '../support/testApp';
import {
  createTestDeployment,
  eventually,
  JWT_SECRET,
  type TestDeployment,
  type TestHerald,
} from '../support/testHerald';
import { startWebhookReceiver } from './support/webhookReceiver';

const auth = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
const SECRET = 'whsec-test-0123456789abcdef';

interface WebhookView {
  id: string;
  url: string;
  enabled: boolean;
  disabledReason: string | null;
  consecutiveFailures: number;
  secretSet: boolean;
}

describeWith(['postgres', 'rabbitmq'], 'status webhooks', () => {
  let dep: TestDeployment;
  let h: TestHerald;
  let sink: SmtpSink;
  const api = async <T>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${h.baseUrl}${path}`, {
      method,
      headers: body === undefined ? { authorization: auth.authorization } : auth,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
  const register = async (url: string, extra: Record<string, unknown> = {}) => {
    const res = await api<WebhookView>('POST', '/v1/webhooks', {
      url,
      events: [...EVENT_TYPES],
      secret: SECRET,
      ...extra,
    });
    expect(res.status).toBe(201);
    return res.body;
  };
  const removeAll = async () => {
    const { body } = await api<{ items: WebhookView[] }>('GET', '/v1/webhooks');
    for (const w of body.items) await api('DELETE', `/v1/webhooks/${w.id}`);
  };

  beforeAll(async () => {
    sink = await startSmtpSink();
    // Shorter than the defaults so the suite runs in seconds: a poll of 100 ms, retries 100 ms..400 ms.
    dep = createTestDeployment({
      HERALD_STATUS_WEBHOOK_ALLOW_HOSTS: '127.0.0.1',
      HERALD_STATUS_WEBHOOK_POLL_MS: '100',
      HERALD_STATUS_WEBHOOK_RETRY_DELAYS: '100ms,200ms,400ms',
      HERALD_STATUS_WEBHOOK_MAX_FAILURES: '1000',
    });
    h = await dep.start();
    expect(
      (
        await api('POST', '/v1/channel-accounts', {
          name: 'sink',
          type: 'smtp',
          config: { host: sink.host, port: sink.port, secure: false, from: 'h@example.com' },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await api('POST', '/v1/templates', {
          code: 'notice',
          name: 'Notice',
          variables: { n: 'string' },
          channels: {
            mail: { account: 'sink', subject: 'Notice {{ n }}', html: '<p>{{ n }}</p>' },
            im: { title: 'Notice {{ n }}', body: '{{ n }}' },
          },
        })
      ).status,
    ).toBe(201);
  });
  afterEach(removeAll);
  afterAll(async () => {
    await dep?.destroy();
    await sink?.close();
  });

  const publish = async (id: string, to: unknown[]) => {
    const res = await api('POST', '/v1/messages', { id, template: 'notice', to, data: { n: id } });
    expect(res.status).toBe(202);
  };

  it('refuses http to a host not allowed, and never returns the secret', async () => {
    const refused = await api<{ code: string }>('POST', '/v1/webhooks', {
      url: 'http://example.com/hook',
      events: ['delivery.sent'],
      secret: SECRET,
    });
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('webhook_host_not_allowed');
    const created = await register('https://example.com/hook?token=abc');
    expect(created.url).toBe('https://example.com/hook?token=[redacted]');
    const listed = await api<{ items: unknown[] }>('GET', '/v1/webhooks');
    expect(JSON.stringify(listed.body)).not.toContain(SECRET);
    expect(JSON.stringify(created)).not.toContain(SECRET);
    expect(created.secretSet).toBe(true);
    const del = await api('DELETE', `/v1/webhooks/${created.id}`);
    expect(del.status).toBe(204);
    const audit = await api<{ items: Array<{ action: string; after?: unknown; before?: unknown }> }>(
      'GET',
      `/v1/audit?targetType=statusWebhook&targetId=${created.id}`,
    );
    expect(audit.body.items.map((e) => e.action).sort()).toEqual([
      'statusWebhook.create',
      'statusWebhook.delete',
    ]);
    expect(JSON.stringify(audit.body)).not.toContain(SECRET);
  });

  it('delivers every event of a mail + IM message once, signed, with its id', async () => {
    const receiver = await startWebhookReceiver(SECRET);
    try {
      await register(receiver.url);
      const socket = await connect(h.wsBase, { token: signUserToken(JWT_SECRET, 'wh-u1') });
      await publish('wh-all-1', [{ userId: 'wh-u1', email: 'u1@example.com' }, { userId: 'wh-u2' }]);
      await socket.waitFor('message');
      // The gateway records `delivered` in batches shortly after the push; read only after it.
      await eventually(async () => {
        const m = await api<{
          deliveries: Array<{ channel: string; userId: string | null; status: string }>;
        }>('GET', '/v1/messages/wh-all-1');
        return m.body.deliveries?.some(
          (d) => d.channel === 'im' && d.userId === 'wh-u1' && d.status === 'delivered',
        );
      });
      const inbox = await eventually(async () => {
        const r = await api<{ items: Array<{ id: string }> }>('GET', '/v1/users/wh-u1/inbox');
        return r.body.items.length ? r.body.items : undefined;
      });
      expect((await api('POST', '/v1/users/wh-u1/inbox/read', { ids: [inbox[0]!.id] })).status).toBe(200);
      socket.close();

      const expected = [
        'delivery.delivered', // im u1, pushed to the open socket
        'delivery.read', // im u1
        'delivery.sent', // im u1
        'delivery.sent', // im u2
        'delivery.sent', // mail u1
        'delivery.skipped', // mail u2: no address
        'message.accepted',
      ];
      const mine = () => receiver.received.filter((r) => r.body.messageId === 'wh-all-1');
      await eventually(async () => mine().length >= expected.length, 15_000, 'every event').catch((err) => {
        throw new Error(
          `${(err as Error).message}; got ${mine()
            .map((r) => r.body.type)
            .join(', ')}`,
        );
      });
      await new Promise((r) => setTimeout(r, 500)); // a duplicate would come within a few polls
      expect(
        mine()
          .map((r) => r.body.type)
          .sort(),
      ).toEqual(expected);
      expect(mine().every((r) => r.signed)).toBe(true);
      expect(mine().every((r) => r.headerId === r.body.id)).toBe(true);
      expect(new Set(mine().map((r) => r.body.id)).size).toBe(expected.length);
      // In log order, and the delivery ids point at the message's deliveries.
      const seqs = mine().map((r) => r.body.seq);
      expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
      expect(mine().find((r) => r.body.type === 'delivery.skipped')?.body).toMatchObject({
        templateCode: 'notice',
        data: { channel: 'mail', userId: 'wh-u2', reason: 'recipient has no email address' },
      });
    } finally {
      await receiver.close();
    }
  });

  it('filters by event type and template', async () => {
    const receiver = await startWebhookReceiver(SECRET);
    try {
      await register(receiver.url, { events: ['delivery.skipped'], templates: ['notice'] });
      await register(receiver.url, { events: ['delivery.sent'], templates: ['some_other_template'] });
      await publish('wh-filter-1', [{ userId: 'wh-u3' }]);
      await eventually(async () => receiver.received.some((r) => r.body.messageId === 'wh-filter-1'));
      await new Promise((r) => setTimeout(r, 500));
      const got = receiver.received.filter((r) => r.body.messageId === 'wh-filter-1');
      expect(got.map((r) => r.body.type)).toEqual(['delivery.skipped']);
    } finally {
      await receiver.close();
    }
  });

  it('sends a new endpoint only what happened after it was created, though nothing numbered the events before', async () => {
    // No endpoint exists (afterEach removed them), so nothing numbers this message's events.
    await publish('wh-before-1', [{ userId: 'wh-b1' }]);
    await eventually(async () => {
      const m = await api<{ deliveries: Array<{ status: string }> }>('GET', '/v1/messages/wh-before-1');
      return m.body.deliveries?.some((d) => d.status === 'sent');
    });
    const receiver = await startWebhookReceiver(SECRET);
    try {
      await register(receiver.url);
      await publish('wh-after-1', [{ userId: 'wh-b2' }]);
      const of = (id: string) => receiver.received.filter((r) => r.body.messageId === id);
      await eventually(
        async () => of('wh-after-1').length >= 3,
        15_000,
        'the new message accepted, sent, skipped',
      );
      await new Promise((r) => setTimeout(r, 500)); // an older event would come within a few polls
      expect(of('wh-before-1')).toEqual([]);
      expect(
        of('wh-after-1')
          .map((r) => r.body.type)
          .sort(),
      ).toEqual(['delivery.sent', 'delivery.skipped', 'message.accepted']); // mail skipped: no address
    } finally {
      await receiver.close();
    }
  });

  it('loses nothing while the receiver answers 500 for a while: retried with the same ids, each attempt listed', async () => {
    const receiver = await startWebhookReceiver(SECRET);
    try {
      // 500 for 3 s (shorter than the 30 s; the mechanism is the same), then 200.
      const healthyAt = Date.now() + 3000;
      receiver.answerWith(() => (Date.now() < healthyAt ? 500 : 200));
      const hook = await register(receiver.url);
      for (let i = 0; i < 3; i++)
        await publish(`wh-down-${i}`, [{ userId: `wh-d${i}`, email: `d${i}@example.com` }]);

      const ids = ['wh-down-0', 'wh-down-1', 'wh-down-2'];
      // Each message: accepted, sent (mail), sent (im).
      const delivered = () => receiver.accepted().filter((r) => ids.includes(r.body.messageId ?? ''));
      await eventually(async () => delivered().length >= 9, 30_000, 'all nine events after the outage');
      await new Promise((r) => setTimeout(r, 500));
      const accepted = delivered();
      expect(new Set(accepted.map((r) => r.body.id)).size).toBe(9);
      expect(accepted).toHaveLength(9);
      expect(receiver.received.some((r) => r.answered === 500)).toBe(true);
      // Every request during the outage carried the id of an event later delivered: duplicates only by id.
      const deliveredIds = new Set(accepted.map((r) => r.body.id));
      const mineAll = receiver.received.filter((r) => ids.includes(r.body.messageId ?? ''));
      expect(mineAll.every((r) => deliveredIds.has(r.body.id))).toBe(true);
      expect(mineAll.every((r) => r.signed)).toBe(true);

      const attempts = await api<{
        items: Array<{ outcome: string; statusCode: number; error: string | null }>;
      }>('GET', `/v1/webhooks/${hook.id}/attempts?limit=200`);
      const failed = attempts.body.items.filter((a) => a.outcome === 'failed');
      expect(failed.length).toBeGreaterThan(0);
      expect(failed[0]).toMatchObject({ statusCode: 500, error: 'HTTP 500: receiver is down' });
      expect(attempts.body.items.filter((a) => a.outcome === 'delivered').length).toBeGreaterThanOrEqual(9);
      const after = await api<WebhookView>('GET', `/v1/webhooks/${hook.id}`);
      expect(after.body).toMatchObject({ enabled: true, consecutiveFailures: 0 });
    } finally {
      await receiver.close();
    }
  });
});

describeWith(['postgres', 'rabbitmq'], 'a status webhook that always fails', () => {
  let dep: TestDeployment;
  let h: TestHerald;
  afterAll(() => dep?.destroy());

  it('is disabled with its reason after the configured failures, and re-enabled by PUT', async () => {
    dep = createTestDeployment({
      HERALD_STATUS_WEBHOOK_ALLOW_HOSTS: '127.0.0.1',
      HERALD_STATUS_WEBHOOK_POLL_MS: '100',
      HERALD_STATUS_WEBHOOK_RETRY_DELAYS: '50ms',
      HERALD_STATUS_WEBHOOK_MAX_FAILURES: '4',
    });
    h = await dep.start();
    const receiver = await startWebhookReceiver(SECRET);
    try {
      receiver.answerWith(() => 503);
      const post = (path: string, body: unknown, method = 'POST') =>
        fetch(`${h.baseUrl}${path}`, { method, headers: auth, body: JSON.stringify(body) });
      const created = (await (
        await post('/v1/webhooks', { url: receiver.url, events: ['message.accepted'], secret: SECRET })
      ).json()) as WebhookView;
      const tpl = await post('/v1/templates', {
        code: 'ping',
        name: 'Ping',
        variables: {},
        channels: { im: { title: 'Ping', body: 'ping' } },
      });
      expect(tpl.status).toBe(201);
      expect(
        (await post('/v1/messages', { id: 'wh-fail-1', template: 'ping', to: [{ userId: 'x' }], data: {} }))
          .status,
      ).toBe(202);
      const get = async () =>
        (await (
          await fetch(`${h.baseUrl}/v1/webhooks/${created.id}`, { headers: auth })
        ).json()) as WebhookView;
      const disabled = await eventually(async () => {
        const w = await get();
        return w.enabled ? undefined : w;
      }, 15_000);
      expect(disabled.disabledReason).toBe(
        'disabled after 4 failed attempts in a row; last: HTTP 503: receiver is down',
      );
      expect(receiver.received).toHaveLength(4);
      const attempts = (await (
        await fetch(`${h.baseUrl}/v1/webhooks/${created.id}/attempts`, { headers: auth })
      ).json()) as { items: Array<{ attempt: number; outcome: string }> };
      expect(attempts.items.map((a) => [a.attempt, a.outcome])).toEqual([
        [4, 'failed'],
        [3, 'failed'],
        [2, 'failed'],
        [1, 'failed'],
      ]);
      await new Promise((r) => setTimeout(r, 400));
      expect(receiver.received).toHaveLength(4);
      const metrics = await (await fetch(`${h.baseUrl}/metrics`)).text();
      expect(metrics).toMatch(/herald_status_webhooks\{state="disabled"\} 1/);

      receiver.answerWith(() => 200);
      const put = await post(
        `/v1/webhooks/${created.id}`,
        { url: receiver.url, events: ['message.accepted'], enabled: true },
        'PUT',
      );
      expect(put.status).toBe(200);
      await eventually(async () => receiver.accepted().length === 1);
      expect(receiver.accepted()[0]?.body).toMatchObject({
        type: 'message.accepted',
        messageId: 'wh-fail-1',
      });
      expect(await get()).toMatchObject({ enabled: true, disabledReason: null, consecutiveFailures: 0 });
    } finally {
      await receiver.close();
    }
  });
});
