import { createHeraldPublisher, type HeraldPublisher } from '../../src/sdk/publisher';
import { startFakeWecom, type FakeWecom } from '../senders/support/fakeWecom';
import { TEST_AMQP_URL, describeWith } from '../support/services';
import { createTestDeployment, type TestDeployment, LOCAL_VENDOR_FAKES } from '../support/testHerald';
import { heraldApi } from '../support/heraldApi';
import { startTlsFront, trustTlsFront, type TlsFront } from './support/tlsFront';

const recipients = [
  { name: 'Li', wecomUserId: 'lisi' },
  { name: 'Wang', mobile: '13800000001' },
];

describeWith(['postgres', 'rabbitmq'], 'e2e: a WeCom robot post through RabbitMQ', () => {
  let dep: TestDeployment;
  let api: ReturnType<typeof heraldApi>;
  let sdk: HeraldPublisher;
  let robot: FakeWecom;
  let front: TlsFront;
  let untrust: () => void;

  beforeAll(async () => {
    robot = await startFakeWecom();
    front = await startTlsFront(robot.webhook);
    untrust = trustTlsFront();
    dep = createTestDeployment(LOCAL_VENDOR_FAKES);
    const h = await dep.start();
    api = heraldApi(h.baseUrl);
    sdk = await createHeraldPublisher({ url: TEST_AMQP_URL, prefix: dep.prefix });

    const created = await api.post<{ config: { webhook: string }; secretsSet: string[] }>(
      '/v1/channel-accounts',
      { name: 'ops-wecom', type: 'wecom-robot', isDefault: true, config: { webhook: front.url } },
      201,
    );
    // The key is write-only: the view shows the webhook without it.
    expect(JSON.stringify(created)).not.toContain(robot.key);
    expect(created.secretsSet).toEqual(['key']);
    expect(new URL(created.config.webhook).searchParams.has('key')).toBe(false);
    const wrongKey = new URL(front.url);
    wrongKey.searchParams.set('key', 'not-the-key');
    await api.post(
      '/v1/channel-accounts',
      { name: 'stale-wecom', type: 'wecom-robot', config: { webhook: wrongKey.toString() } },
      201,
    );
    // No account named: the default robot.
    await api.post(
      '/v1/templates',
      {
        code: 'disk_full',
        name: 'Disk full',
        variables: { host: 'string' },
        channels: { wecom: { msgtype: 'text', text: 'Disk full on {{ host }}' } },
      },
      201,
    );
    await api.post(
      '/v1/templates',
      {
        code: 'disk_full_stale',
        name: 'Disk full',
        variables: { host: 'string' },
        channels: {
          wecom: { account: 'stale-wecom', msgtype: 'markdown', text: '**Disk full** on {{ host }}' },
        },
      },
      201,
    );
  }, 60_000);

  afterAll(async () => {
    await sdk?.close();
    await dep?.destroy();
    untrust?.();
    await front?.close();
    await robot?.close();
  }, 60_000);

  it("refuses at save a template whose text is over WeCom's byte limit, naming the field", async () => {
    const r = await api.call<{ code: string; detail: string }>('POST', '/v1/templates', {
      code: 'too_long',
      name: 'Too long',
      channels: { wecom: { msgtype: 'text', text: '告'.repeat(683) } },
    });
    expect(r.status).toBe(422);
    expect(JSON.stringify(r.body)).toContain('template_part_invalid');
    expect(JSON.stringify(r.body)).toContain('wecom.text');
    expect(JSON.stringify(r.body)).toContain('2049');
    // A locale's version of the part is checked too; 682 such characters (2046 bytes) are fine.
    const locale = await api.call('POST', '/v1/templates', {
      code: 'too_long_in_zh',
      name: 'Too long in zh',
      channels: { wecom: { msgtype: 'text', text: '告'.repeat(682) } },
      locales: {
        zh: { wecom: { msgtype: 'news', title: 'x', url: 'https://e.example', text: '告'.repeat(200) } },
      },
    });
    expect(locale.status).toBe(422);
    expect(JSON.stringify(locale.body)).toContain('locales.zh.wecom.text');
  });

  it('posts one text message that @s by user id and by mobile, logged with one sent attempt', async () => {
    await sdk.publish({ id: 'e2e-wecom-1', template: 'disk_full', to: recipients, data: { host: 'db-1' } });
    const message = await api.finished('e2e-wecom-1');
    expect(message.status).toBe('completed');
    expect(
      message.deliveries.map((d) => [d.channel, d.recipientIndex, d.status, d.attemptLog.length]),
    ).toEqual([['wecom', -1, 'sent', 1]]);
    expect(message.deliveries[0]?.attemptLog[0]).toMatchObject({
      attempt: 1,
      outcome: 'sent',
      errorCode: null,
    });

    expect(robot.requests).toHaveLength(1);
    const [post] = robot.requests;
    expect(post?.query.get('key')).toBe(robot.key);
    expect(post?.answer).toEqual({ errcode: 0, errmsg: 'ok' });
    expect(post?.body).toEqual({
      msgtype: 'text',
      text: {
        content: 'Disk full on db-1',
        mentioned_list: ['lisi'],
        mentioned_mobile_list: ['13800000001'],
      },
    });
  }, 60_000);

  it("fails at once with WeCom's errcode when the key is not the robot's (93000)", async () => {
    const seen = robot.requests.length;
    await sdk.publish({
      id: 'e2e-wecom-2',
      template: 'disk_full_stale',
      to: recipients,
      data: { host: 'db-2' },
    });
    const message = await api.finished('e2e-wecom-2');
    const [delivery] = message.deliveries;
    expect([delivery?.status, delivery?.attempts, delivery?.attemptLog.length]).toEqual(['failed', 1, 1]);
    expect(delivery?.attemptLog[0]).toMatchObject({ outcome: 'permanent', errorCode: 'wecom_93000' });
    expect(delivery?.attemptLog[0]?.errorText).not.toContain('not-the-key');
    expect(robot.requests.slice(seen).map((r) => (r.answer as { errcode: number }).errcode)).toEqual([93000]);
  }, 60_000);
});
