import amqplib from 'amqplib';
import { topologyNames } from '../../src/broker/topologyNames';
import { signUserToken } from '../../src/auth/userToken';
import { traceCommand } from '../../src/cli/traceCommand';
import type { MessageTimeline } from '../../src/contract/messageTimeline';
import { connect } from '../gateway/support/wsClient';
import { startSmtpSink, type SmtpSink } from '../senders/support/smtpSink';
import { describeWith, TEST_AMQP_URL } from '../support/services';
import { ADMIN_TOKEN } from '../support/testApp';
import {
  createTestDeployment,
  eventually,
  JWT_SECRET,
  type TestDeployment,
  type TestHerald,
} from '../support/testHerald';
import { startWebhookReceiver } from '../webhooks/support/webhookReceiver';

const auth = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
const SECRET = 'timeline-webhook-secret-0123456789';

describeWith(['postgres', 'rabbitmq'], 'the message timeline', () => {
  let dep: TestDeployment;
  let h: TestHerald;
  let sink: SmtpSink;
  const call = async <T>(method: string, path: string, body?: unknown) => {
    const res = await fetch(`${h.baseUrl}${path}`, {
      method,
      headers: auth,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as T };
  };

  beforeAll(async () => {
    sink = await startSmtpSink();
    dep = createTestDeployment({
      HERALD_RETRY_DELAYS: '200ms,400ms',
      HERALD_STATUS_WEBHOOK_ALLOW_HOSTS: '127.0.0.1',
      HERALD_STATUS_WEBHOOK_POLL_MS: '100',
    });
    h = await dep.start();
    await call('POST', '/v1/channel-accounts', {
      name: 'sink',
      type: 'smtp',
      config: { host: sink.host, port: sink.port, secure: false, from: 'h@example.com' },
    });
    await call('POST', '/v1/templates', {
      code: 'notice',
      name: 'Notice',
      variables: { n: 'string' },
      channels: {
        mail: { account: 'sink', subject: 'Notice {{ n }}', html: '<p>{{ n }}</p>' },
        im: { title: 'Notice {{ n }}', body: '{{ n }}' },
      },
    });
  });
  afterAll(async () => {
    await dep?.destroy();
    await sink?.close();
  });

  it('puts every record of a mail + IM message in order, and herald trace prints it', async () => {
    const receiver = await startWebhookReceiver(SECRET);
    try {
      await call('POST', '/v1/webhooks', {
        url: receiver.url,
        events: ['delivery.failed', 'delivery.read', 'message.accepted'],
        secret: SECRET,
      });
      let tries = 0;
      sink.setBehaviour({
        rcpt: (a) =>
          a.startsWith('tl@') && tries++ === 0 ? { code: 451, message: '4.3.0 try later' } : undefined,
      });
      const socket = await connect(h.wsBase, { token: signUserToken(JWT_SECRET, 'tl-u1') });
      expect(
        (
          await call('POST', '/v1/messages', {
            id: 'tl-1',
            template: 'notice',
            to: [{ userId: 'tl-u1', email: 'tl@example.com' }, { userId: 'tl-u2' }],
            data: { n: 'x' },
          })
        ).status,
      ).toBe(202);
      const item = await socket.waitFor('message');
      await eventually(async () => {
        const t = await call<MessageTimeline>('GET', '/v1/messages/tl-1/timeline');
        return t.body.entries?.some((e) => e.type === 'delivery.delivered');
      });
      socket.close();
      await call('POST', '/v1/users/tl-u1/inbox/read', { ids: [item.item.id] });
      await eventually(
        async () => (await call<{ status: string }>('GET', '/v1/messages/tl-1')).body.status === 'completed',
      );
      await eventually(
        async () => receiver.accepted().filter((r) => r.body.messageId === 'tl-1').length >= 2,
      );

      const { status, body } = await call<MessageTimeline>('GET', '/v1/messages/tl-1/timeline');
      expect(status).toBe(200);
      expect(body.message).toMatchObject({
        id: 'tl-1',
        status: 'completed',
        templateCode: 'notice',
        templateVersion: 1,
      });
      const times = body.entries.map((e) => Date.parse(e.at));
      expect([...times].sort((a, b) => a - b)).toEqual(times);
      const types = body.entries.map((e) => e.type);
      for (const t of [
        'message.accepted',
        'delivery.planned',
        'delivery.skipped',
        'attempt.retryable',
        'attempt.sent',
        'delivery.sent',
        'delivery.delivered',
        'delivery.read',
        'webhook.delivered',
      ])
        expect(types).toContain(t);
      // The mail's retry comes before its send, each with its duration.
      const mail = body.entries.filter((e) => e.source === 'attempt' && e.channel === 'mail');
      expect(mail.map((e) => e.type)).toEqual(['attempt.retryable', 'attempt.sent']);
      expect(mail[0]?.summary).toMatch(/^attempt 1 retryable \[smtp_451\]: /);
      expect(mail.every((e) => typeof e.durationMs === 'number')).toBe(true);
      expect(types.indexOf('delivery.planned')).toBeLessThan(types.indexOf('attempt.sent'));
      expect(types.indexOf('delivery.sent')).toBeLessThan(types.indexOf('delivery.read'));
      expect(body.entries.find((e) => e.type === 'delivery.skipped')?.summary).toBe(
        'delivery.skipped: recipient has no email address',
      );

      const lines: string[] = [];
      const code = await traceCommand({ ...h.config }, 'tl-1', (l) => lines.push(l));
      expect(code).toBe(0);
      expect(lines[0]).toBe('message tl-1: completed');
      expect(lines).toHaveLength(body.entries.length + 2);
      expect(
        lines.some((l) => /attempt\.retryable +mail tl-u1 +attempt 1 retryable \[smtp_451\]/.test(l)),
      ).toBe(true);
      expect(lines.some((l) => /webhook\.delivered .*message\.accepted to webhook /.test(l))).toBe(true);
    } finally {
      await receiver.close();
    }
  });

  it('explains a refused envelope: the rejection with its reason and the dead letter', async () => {
    const conn = await amqplib.connect(TEST_AMQP_URL);
    try {
      const ch = await conn.createConfirmChannel();
      ch.publish(
        topologyNames(dep.prefix).exchange,
        'notify.nope',
        Buffer.from(JSON.stringify({ id: 'tl-refused', template: 'nope', to: [{ userId: 'x' }], data: {} })),
        { messageId: 'tl-refused', persistent: true, contentType: 'application/json' },
      );
      await ch.waitForConfirms();
    } finally {
      await conn.close();
    }
    const t = await eventually(async () => {
      const r = await call<MessageTimeline>('GET', '/v1/messages/tl-refused/timeline');
      return r.body.entries?.some((e) => e.source === 'dead_letter') ? r.body : undefined;
    });
    expect(t.message).toMatchObject({ status: 'rejected' });
    expect(t.entries.map((e) => e.type).sort()).toEqual(['dead_letter.unknown_template', 'message.rejected']);
    expect(t.entries.find((e) => e.type === 'message.rejected')?.summary).toBe(
      'message.rejected: unknown_template: no active template "nope"',
    );
  });

  it('answers 404 for an id nothing knows', async () => {
    const missing = await call<{ code: string }>('GET', '/v1/messages/tl-nothing/timeline');
    expect(missing.status).toBe(404);
    const lines: string[] = [];
    expect(await traceCommand({ ...h.config }, 'tl-nothing', (l) => lines.push(l))).toBe(1);
    expect(lines).toEqual(['no message, delivery, event or dead letter knows the id "tl-nothing"']);
  });
});
