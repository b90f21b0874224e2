import { createHmac } from 'node:crypto';
import { createHeraldPublisher, type HeraldPublisher } from '../../src/sdk/publisher';
import { startFakeFeishu, type FakeFeishu } from '../senders/support/fakeFeishu';
import { vendorNow } from '../senders/support/fakeVendor';
import { TEST_AMQP_URL, describeWith } from '../support/services';
import { createTestDeployment, type TestDeployment, LOCAL_VENDOR_FAKES } from '../support/testHerald';
import { heraldApi } from '../support/heraldApi';
import { startTlsFront, trustTlsFront, type TlsFront } from './support/tlsFront';

const SECRET = 'feishu-e2e-signing-secret';

const recipients = [
  { name: 'Li', feishuUserId: 'ou_li' },
  { name: 'Wang', feishuUserId: 'ou_wang', email: 'wang@example.com' },
];

function template(code: string, account: string) {
  return {
    code,
    name: 'Build broken',
    variables: { build: 'string' },
    channels: {
      feishu: {
        account,
        msgType: 'post',
        title: 'Build {{ build }} failed',
        text: 'Build {{ build }} failed\nSee the log',
        url: 'https://ci.example.com/{{ build }}',
        btnTitle: 'Open',
      },
    },
  };
}

describeWith(['postgres', 'rabbitmq'], 'e2e: a Feishu robot post through RabbitMQ', () => {
  let dep: TestDeployment;
  let api: ReturnType<typeof heraldApi>;
  let sdk: HeraldPublisher;
  let bot: FakeFeishu;
  let front: TlsFront;
  let untrust: () => void;

  beforeAll(async () => {
    bot = await startFakeFeishu({ secret: SECRET });
    front = await startTlsFront(bot.webhook);
    untrust = trustTlsFront();
    dep = createTestDeployment(LOCAL_VENDOR_FAKES);
    const h = await dep.start();
    api = heraldApi(h.baseUrl);
    sdk = await createHeraldPublisher({ url: TEST_AMQP_URL, prefix: dep.prefix });

    const created = await api.post<{ config: unknown; secretsSet: string[] }>(
      '/v1/channel-accounts',
      { name: 'ci-bot', type: 'feishu-robot', config: { webhook: front.url, secret: SECRET } },
      201,
    );
    // The hook token and the secret are write-only.
    expect(JSON.stringify(created)).not.toContain(bot.hookToken);
    expect(JSON.stringify(created)).not.toContain(SECRET);
    expect(created.secretsSet.sort()).toEqual(['access_token', 'secret']);
    await api.post(
      '/v1/channel-accounts',
      { name: 'wrong-secret-bot', type: 'feishu-robot', config: { webhook: front.url, secret: 'not-it' } },
      201,
    );
    await api.post('/v1/templates', template('build_broken', 'ci-bot'), 201);
    await api.post('/v1/templates', template('build_broken_bad_bot', 'wrong-secret-bot'), 201);
  }, 60_000);

  afterAll(async () => {
    await sdk?.close();
    await dep?.destroy();
    untrust?.();
    await front?.close();
    await bot?.close();
  }, 60_000);

  it('posts one signed rich-text message that @s every recipient, logged with one sent attempt', async () => {
    const before = vendorNow();
    await sdk.publish({
      id: 'e2e-feishu-1',
      template: 'build_broken',
      to: recipients,
      data: { build: '77' },
    });
    const message = await api.finished('e2e-feishu-1');
    expect(message.status).toBe('completed');
    expect(
      message.deliveries.map((d) => [d.channel, d.recipientIndex, d.status, d.attemptLog.length]),
    ).toEqual([['feishu', -1, 'sent', 1]]);
    expect(message.deliveries[0]?.attemptLog[0]).toMatchObject({
      attempt: 1,
      outcome: 'sent',
      errorCode: null,
    });

    expect(bot.requests).toHaveLength(1);
    const [post] = bot.requests;
    expect(post?.answer).toEqual({ code: 0, msg: 'success', data: {} });
    const body = post?.body as { timestamp: string; sign: string };
    const ts = Number(body.timestamp);
    expect(ts).toBeGreaterThanOrEqual(Math.floor(before / 1000));
    expect(body.sign).toBe(createHmac('sha256', `${body.timestamp}\n${SECRET}`).update('').digest('base64'));
    expect(post?.body).toEqual({
      timestamp: body.timestamp,
      sign: body.sign,
      msg_type: 'post',
      content: {
        post: {
          zh_cn: {
            title: 'Build 77 failed',
            content: [
              [{ tag: 'text', text: 'Build 77 failed' }],
              [{ tag: 'text', text: 'See the log' }],
              [{ tag: 'a', text: 'Open', href: 'https://ci.example.com/77' }],
              [
                { tag: 'at', user_id: 'ou_li' },
                { tag: 'at', user_id: 'ou_wang' },
              ],
            ],
          },
        },
      },
    });
  }, 60_000);

  it("fails at once with Feishu's code when the bot refuses the signature (19021)", async () => {
    const seen = bot.requests.length;
    await sdk.publish({
      id: 'e2e-feishu-2',
      template: 'build_broken_bad_bot',
      to: recipients,
      data: { build: '78' },
    });
    const message = await api.finished('e2e-feishu-2');
    const [delivery] = message.deliveries;
    expect([delivery?.status, delivery?.attempts, delivery?.attemptLog.length]).toEqual(['failed', 1, 1]);
    expect(delivery?.attemptLog[0]).toMatchObject({ outcome: 'permanent', errorCode: 'feishu_19021' });
    expect(delivery?.attemptLog[0]?.errorText).not.toContain(bot.hookToken);
    expect(bot.requests.slice(seen).map((r) => (r.answer as { code: number }).code)).toEqual([19021]);
  }, 60_000);
});
