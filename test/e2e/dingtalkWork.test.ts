import { createHeraldPublisher, type HeraldPublisher } from '../../src/sdk/publisher';
import { startFakeDingTalkWork, type FakeDingTalkWork } from '../senders/support/fakeDingTalkWork';
import { TEST_AMQP_URL, describeWith } from '../support/services';
import { createTestDeployment, type TestDeployment } from '../support/testHerald';
import { heraldApi, type DeliveryWithAttempts } from '../support/heraldApi';
import { startTlsFront, trustTlsFront, type TlsFront } from './support/tlsFront';

const recipients = [
  { name: 'Li', dingtalkUserId: 'li' },
  { name: 'Wang', dingtalkUserId: 'wang' },
  { name: 'Zhao', dingtalkUserId: 'zhao', locale: 'en' },
  { name: 'Nobody', email: 'nobody@example.com' },
];

const byRecipient = (a: DeliveryWithAttempts, b: DeliveryWithAttempts) => a.recipientIndex - b.recipientIndex;

describeWith(['postgres', 'rabbitmq'], 'e2e: DingTalk work notifications through RabbitMQ', () => {
  let dep: TestDeployment;
  let api: ReturnType<typeof heraldApi>;
  let sdk: HeraldPublisher;
  let dingtalk: FakeDingTalkWork;
  let front: TlsFront;
  let untrust: () => void;

  beforeAll(async () => {
    dingtalk = await startFakeDingTalkWork({ users: ['li', 'wang', 'zhao'] });
    front = await startTlsFront(dingtalk.baseUrl);
    untrust = trustTlsFront();
    dep = createTestDeployment();
    const h = await dep.start();
    api = heraldApi(h.baseUrl);
    sdk = await createHeraldPublisher({ url: TEST_AMQP_URL, prefix: dep.prefix });

    const app = {
      appKey: dingtalk.appKey,
      appSecret: dingtalk.appSecret,
      apiBase: new URL(front.url).origin,
    };
    const created = await api.post<{ config: Record<string, unknown>; secretsSet: string[] }>(
      '/v1/channel-accounts',
      {
        name: 'hr-app',
        type: 'dingtalk-work',
        isDefault: true,
        config: { ...app, agentId: dingtalk.agentId },
      },
      201,
    );
    expect(created.config).toEqual({
      appKey: dingtalk.appKey,
      agentId: dingtalk.agentId,
      apiBase: app.apiBase,
    });
    expect(created.secretsSet).toEqual(['app_secret']);
    expect(JSON.stringify(created)).not.toContain(dingtalk.appSecret);
    await api.post(
      '/v1/channel-accounts',
      { name: 'other-app', type: 'dingtalk-work', config: { ...app, agentId: dingtalk.agentId + 1 } },
      201,
    );
    const content = {
      name: 'Payslip',
      variables: { month: 'string' },
      locales: { en: { dingtalk_work: { text: 'Your payslip for {{ month }} is ready' } } },
    };
    await api.post(
      '/v1/templates',
      {
        code: 'payslip',
        ...content,
        channels: {
          dingtalk_work: { msgtype: 'markdown', title: 'Payslip', text: '工资条 {{ month }} 已发放' },
        },
      },
      201,
    );
    await api.post(
      '/v1/templates',
      {
        code: 'payslip_other_app',
        ...content,
        channels: { dingtalk_work: { account: 'other-app', msgtype: 'text', text: '工资条 {{ month }}' } },
      },
      201,
    );
  }, 60_000);

  afterAll(async () => {
    await sdk?.close();
    await dep?.destroy();
    untrust?.();
    await front?.close();
    await dingtalk?.close();
  }, 60_000);

  it("sends one call per distinct content, one delivery per person sharing the call's task id", async () => {
    await sdk.publish({ id: 'e2e-work-1', template: 'payslip', to: recipients, data: { month: '2026-11' } });
    const message = await api.finished('e2e-work-1');
    const deliveries = [...message.deliveries].sort(byRecipient);
    expect(deliveries.map((d) => [d.channel, d.recipientIndex, d.status, d.attemptLog.length])).toEqual([
      ['dingtalk_work', 0, 'sent', 1],
      ['dingtalk_work', 1, 'sent', 1],
      ['dingtalk_work', 2, 'sent', 1],
      ['dingtalk_work', 3, 'skipped', 0],
    ]);
    expect(deliveries[3]?.reason).toBe('recipient has no dingtalkUserId for a work notification');

    // One token, then two asyncsend_v2 calls: Li and Wang share a message, Zhao reads English.
    const sends = dingtalk.requests.filter((r) => r.path.endsWith('/asyncsend_v2'));
    expect(dingtalk.requests.filter((r) => r.path === '/gettoken')).toHaveLength(1);
    expect(sends).toHaveLength(2);
    const call = (users: string) =>
      sends.find((s) => (s.body as { userid_list: string }).userid_list === users);
    expect(call('li,wang')?.body).toEqual({
      agent_id: dingtalk.agentId,
      userid_list: 'li,wang',
      msg: { msgtype: 'markdown', markdown: { title: 'Payslip', text: '工资条 2026-11 已发放' } },
    });
    expect(call('zhao')?.body).toEqual({
      agent_id: dingtalk.agentId,
      userid_list: 'zhao',
      msg: { msgtype: 'markdown', markdown: { title: 'Payslip', text: 'Your payslip for 2026-11 is ready' } },
    });
    const taskOf = (users: string) => String((call(users)?.answer as { task_id: number }).task_id);
    expect(deliveries.slice(0, 3).map((d) => d.attemptLog[0]?.providerId)).toEqual([
      taskOf('li,wang'),
      taskOf('li,wang'),
      taskOf('zhao'),
    ]);
    expect(deliveries[0]?.attemptLog[0]).toMatchObject({ attempt: 1, outcome: 'sent', errorCode: null });
  }, 60_000);

  it("fails at once with DingTalk's errcode when the app's agent id is wrong (60011)", async () => {
    await sdk.publish({
      id: 'e2e-work-2',
      template: 'payslip_other_app',
      to: recipients.slice(0, 2),
      data: { month: '2026-11' },
    });
    const message = await api.finished('e2e-work-2');
    const deliveries = [...message.deliveries].sort(byRecipient);
    expect(deliveries.map((d) => [d.status, d.attempts, d.attemptLog[0]?.errorCode])).toEqual([
      ['failed', 1, 'dingtalk_work_60011'],
      ['failed', 1, 'dingtalk_work_60011'],
    ]);
    expect(deliveries[0]?.attemptLog[0]?.errorText).not.toContain(dingtalk.appSecret);
  }, 60_000);
});
