import { createHeraldPublisher, type HeraldPublisher } from '../../src/sdk/publisher';
import { startFakeDingTalkWork, type FakeDingTalkWork } from '../senders/support/fakeDingTalkWork';
import { SAME_CONTENT_RULE } from '../senders/support/fakeDingTalkWork';
import { TEST_AMQP_URL, describeWith } from '../support/services';
import {
  createTestDeployment,
  eventually,
  type TestDeployment,
  LOCAL_VENDOR_FAKES,
} from '../support/testHerald';
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
    // The later check's rounds in fractions of a second instead of 1, 5 and 30 minutes.
    dep = createTestDeployment({ ...LOCAL_VENDOR_FAKES, HERALD_FOLLOW_UP_DELAYS: '300ms,600ms,1s' });
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
    // `sent` when the sends were recorded; the later check may already have found them delivered.
    expect(deliveries.map((d) => [d.channel, d.recipientIndex, d.attemptLog.length])).toEqual([
      ['dingtalk_work', 0, 1],
      ['dingtalk_work', 1, 1],
      ['dingtalk_work', 2, 1],
      ['dingtalk_work', 3, 0],
    ]);
    expect(deliveries.map((d) => d.status)).toEqual([
      expect.stringMatching(/^(sent|delivered)$/),
      expect.stringMatching(/^(sent|delivered)$/),
      expect.stringMatching(/^(sent|delivered)$/),
      'skipped',
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

    // The later check (getsendresult, one per task) finds all three in DingTalk's unread list.
    const checked = await eventually(async () => {
      const m = await api.message('e2e-work-1');
      const done = m?.deliveries.filter((d) => d.status === 'delivered').length === 3;
      return done ? m : undefined;
    }, 20_000);
    expect(checked.deliveries.every((d) => d.attemptLog.length <= 1)).toBe(true);
    const checks = dingtalk.requests.filter((r) => r.path.endsWith('/getsendresult'));
    expect(checks.map((c) => (c.body as { task_id: number }).task_id).sort()).toEqual(
      [Number(taskOf('li,wang')), Number(taskOf('zhao'))].sort(),
    );
  }, 60_000);

  it('records as failed, with the reason, a message DingTalk accepted and then dropped', async () => {
    // The same payslip to Li again: DingTalk answers success, then drops it (same content twice a day).
    const sendsBefore = dingtalk.requests.filter((r) => r.path.endsWith('/asyncsend_v2')).length;
    await sdk.publish({
      id: 'e2e-work-3',
      template: 'payslip',
      to: [recipients[0]!],
      data: { month: '2026-11' },
    });
    const message = await api.finished('e2e-work-3');
    const sends = dingtalk.requests.filter((r) => r.path.endsWith('/asyncsend_v2')).slice(sendsBefore);
    expect(sends.map((s) => (s.answer as { errcode: number }).errcode)).toEqual([0]);
    const id = message.deliveries[0]?.id;

    const failed = await eventually(async () => {
      const m = await api.message('e2e-work-3');
      const d = m?.deliveries.find((x) => x.id === id);
      return d?.status === 'failed' ? d : undefined;
    }, 20_000);
    expect(failed.reason).toContain('DingTalk accepted the message but did not deliver it');
    expect(failed.attempts).toBe(1);
    expect(failed.attemptLog.map((a) => [a.attempt, a.outcome, a.errorCode])).toEqual([
      [1, 'sent', null],
      [1, 'permanent', `dingtalk_work_forbidden_${SAME_CONTENT_RULE}`],
    ]);
    expect(failed.attemptLog[0]?.providerId).toBe(String((sends[0]?.answer as { task_id: number }).task_id));
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
