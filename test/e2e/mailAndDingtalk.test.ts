import { startFakeRobot, type FakeRobot } from '../senders/support/fakeRobot';
import { startSmtpSink, type SmtpSink } from '../senders/support/smtpSink';
import { describeWith } from '../support/services';
import {
  createTestDeployment,
  type TestDeployment,
  type TestHerald,
  LOCAL_VENDOR_FAKES,
} from '../support/testHerald';
import { heraldApi, type DeliveryWithAttempts } from '../support/heraldApi';
import { startTlsFront, trustTlsFront, type TlsFront } from './support/tlsFront';

const ROBOT_SECRET = 'SEC0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0';
const WRONG_SECRET = 'SEC9999999999999999999999999999999999999999999999999999999999999999';
const SMTP_AUTH = { user: 'herald', pass: 'smtp-pass-e2e' };

const recipients = [
  { userId: 'u-li', email: 'li@example.com', name: 'Li', mobile: '13800000000' },
  { userId: 'u-wang', email: 'wang@example.com', name: 'Wang', dingtalkUserId: 'manager123' },
];
const data = { orderNo: '981', eta: '2026-11-25' };

function template(code: string, robotAccount: string) {
  return {
    code,
    name: 'Order shipped',
    variables: { orderNo: 'string', eta: 'string' },
    channels: {
      mail: {
        account: 'e2e-smtp',
        subject: 'Order {{ orderNo }} shipped',
        html: '<p>Hello {{ name }}, it arrives {{ eta }}.</p>',
      },
      dingtalk: {
        account: robotAccount,
        msgtype: 'markdown',
        title: 'Order {{ orderNo }}',
        text: '### Order {{ orderNo }} shipped\n\nArrives {{ eta }}',
      },
    },
  };
}

const byChannelAndRecipient = (a: DeliveryWithAttempts, b: DeliveryWithAttempts) =>
  a.channel.localeCompare(b.channel) || a.recipientIndex - b.recipientIndex;

describeWith(['postgres', 'rabbitmq'], 'e2e: one envelope over mail and DingTalk', () => {
  let dep: TestDeployment;
  let h: TestHerald;
  let sink: SmtpSink;
  let robot: FakeRobot;
  let front: TlsFront;
  let untrust: () => void;
  let api: ReturnType<typeof heraldApi>;

  beforeAll(async () => {
    sink = await startSmtpSink({ auth: SMTP_AUTH });
    robot = await startFakeRobot({ secret: ROBOT_SECRET });
    front = await startTlsFront(robot.url);
    untrust = trustTlsFront();
    dep = createTestDeployment(LOCAL_VENDOR_FAKES);
    h = await dep.start();
    api = heraldApi(h.baseUrl);

    await api.post(
      '/v1/channel-accounts',
      {
        name: 'e2e-smtp',
        type: 'smtp',
        config: {
          host: sink.host,
          port: sink.port,
          secure: false,
          user: SMTP_AUTH.user,
          password: SMTP_AUTH.pass,
          allowInsecureAuth: true, // the local sink offers no STARTTLS
          from: 'Herald <noreply@example.com>',
        },
      },
      201,
    );
    await api.post(
      '/v1/channel-accounts',
      { name: 'ops-robot', type: 'dingtalk-robot', config: { webhook: front.url, secret: ROBOT_SECRET } },
      201,
    );
    await api.post(
      '/v1/channel-accounts',
      {
        name: 'misconfigured-robot',
        type: 'dingtalk-robot',
        config: { webhook: front.url, secret: WRONG_SECRET },
      },
      201,
    );
    await api.post('/v1/templates', template('order_shipped', 'ops-robot'), 201);
    await api.post('/v1/templates', template('order_shipped_bad_robot', 'misconfigured-robot'), 201);
  }, 60_000);

  afterAll(async () => {
    await dep?.destroy();
    untrust?.();
    await front?.close();
    await robot?.close();
    await sink?.close();
  }, 60_000);

  it('sends two mails and one signed robot post, each logged with one attempt that names what the peer saw', async () => {
    await api.post(
      '/v1/messages',
      { id: 'e2e-order-981', template: 'order_shipped', to: recipients, data },
      202,
    );
    const message = await api.finished('e2e-order-981');
    expect(message.status).toBe('completed');

    const deliveries = [...message.deliveries].sort(byChannelAndRecipient);
    expect(
      deliveries.map((d) => [d.channel, d.recipientIndex, d.status, d.attempts, d.attemptLog.length]),
    ).toEqual([
      ['dingtalk', -1, 'sent', 1, 1],
      ['mail', 0, 'sent', 1, 1],
      ['mail', 1, 'sent', 1, 1],
    ]);
    const [robotDelivery, liMail, wangMail] = deliveries as [
      DeliveryWithAttempts,
      DeliveryWithAttempts,
      DeliveryWithAttempts,
    ];

    // The sink: exactly the two mails, rendered per recipient, with the delivery's Message-ID.
    const mails = await sink.waitForMessages(2);
    expect(mails).toHaveLength(2);
    const mailTo = (address: string) => mails.find((m) => m.envelope.to.includes(address));
    for (const [delivery, r] of [
      [liMail, recipients[0]!],
      [wangMail, recipients[1]!],
    ] as const) {
      const mail = mailTo(r.email);
      expect(mail?.envelope).toEqual({ from: 'noreply@example.com', to: [r.email] });
      expect(mail?.subject).toBe('Order 981 shipped');
      expect(mail?.html).toBe(`<p>Hello ${r.name}, it arrives 2026-11-25.</p>`);
      expect(mail?.text?.trim()).toBe(`Hello ${r.name}, it arrives 2026-11-25.`);
      expect(mail?.to).toMatchObject({ value: [{ name: r.name, address: r.email }] });
      expect(mail?.messageId).toBe(`<${delivery.id}@herald>`);
      expect(delivery.email).toBe(r.email);
      expect(delivery.attemptLog[0]).toMatchObject({ attempt: 1, outcome: 'sent', errorCode: null });
    }
    // The sink answered each mail "queued as SINK00000n"; those are the provider ids the log keeps.
    expect([liMail, wangMail].map((d) => d.attemptLog[0]?.providerId).sort()).toEqual([
      'SINK000001',
      'SINK000002',
    ]);

    // The robot: exactly one request, signed with the account's secret, carrying the rendered markdown.
    expect(robot.requests).toHaveLength(1);
    const [post] = robot.requests;
    expect(post?.answer).toEqual({ errcode: 0, errmsg: 'ok' });
    expect(post?.accessToken).toBe(robot.accessToken);
    expect(post?.sign).toBeTruthy();
    expect(post?.body).toEqual({
      msgtype: 'markdown',
      markdown: {
        title: 'Order 981',
        text: '### Order 981 shipped\n\nArrives 2026-11-25\n\n@13800000000 @manager123',
      },
      at: { atMobiles: ['13800000000'], atUserIds: ['manager123'], isAtAll: false },
    });
    // DingTalk's robot answer carries no message id, so there is none to keep.
    expect(robotDelivery.attemptLog[0]).toMatchObject({
      attempt: 1,
      outcome: 'sent',
      providerId: null,
      errorCode: null,
    });
  }, 60_000);

  it('fails the robot post at once when DingTalk rejects the signature (310000), while the mails go out', async () => {
    const mailsBefore = sink.messages.length;
    const requestsBefore = robot.requests.length;
    await api.post(
      '/v1/messages',
      {
        id: 'e2e-order-982',
        template: 'order_shipped_bad_robot',
        to: recipients,
        data: { ...data, orderNo: '982' },
      },
      202,
    );
    const message = await api.finished('e2e-order-982');
    expect(message.status).toBe('partially_failed');

    const deliveries = [...message.deliveries].sort(byChannelAndRecipient);
    expect(deliveries.map((d) => [d.channel, d.status, d.attempts, d.attemptLog.length])).toEqual([
      ['dingtalk', 'failed', 1, 1],
      ['mail', 'sent', 1, 1],
      ['mail', 'sent', 1, 1],
    ]);
    const attempt = deliveries[0]?.attemptLog[0];
    expect(attempt).toMatchObject({ attempt: 1, outcome: 'permanent', errorCode: 'dingtalk_310000' });
    expect(attempt?.errorText).toContain('310000');
    expect(attempt?.errorText).not.toContain(robot.accessToken);

    // The robot saw one request and refused it; it was not sent again.
    expect(robot.requests.slice(requestsBefore).map((r) => r.answer)).toEqual([
      { errcode: 310000, errmsg: 'sign not match' },
    ]);
    const mails = await sink.waitForMessages(mailsBefore + 2);
    expect(mails.slice(mailsBefore).map((m) => m.subject)).toEqual([
      'Order 982 shipped',
      'Order 982 shipped',
    ]);
  }, 60_000);
});
