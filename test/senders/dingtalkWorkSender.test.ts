import { createAccessTokens } from '../../src/senders/dingtalk_work/accessTokens';
import { classifySendResult, createWorkResultChecker } from '../../src/senders/dingtalk_work/checkSendResult';
import {
  splitWorkAccount,
  toWorkAppAccount,
  workAppConfigInputSchema,
} from '../../src/senders/dingtalk_work/workAccount';
import type { DingTalkWorkJob, WorkAppAccount } from '../../src/senders/dingtalk_work/workJob';
import { toWorkJob } from '../../src/senders/dingtalk_work/toWorkJob';
import { createDingTalkWorkSender, WORK_USERS_PER_CALL } from '../../src/senders/dingtalk_work/workSender';
import {
  DAILY_LIMIT_RULE,
  SAME_CONTENT_RULE,
  startFakeDingTalkWork,
  type FakeDingTalkWork,
} from './support/fakeDingTalkWork';
import { localEgress } from './support/localEgress';

const silentLog = { info: () => undefined, warn: () => undefined };

function job(account: WorkAppAccount, userId: string, over: Partial<DingTalkWorkJob> = {}): DingTalkWorkJob {
  return {
    channel: 'dingtalk_work',
    deliveryId: `dlv-${userId}`,
    messageId: 'order-981-shipped',
    attempt: 1,
    account,
    userId,
    msgtype: 'markdown',
    title: 'Order 981',
    text: '### Order 981 shipped',
    ...over,
  };
}

const paths = (fake: FakeDingTalkWork) => fake.requests.map((r) => r.path.split('/').pop());

describe('dingtalk work notification sender', () => {
  let fake: FakeDingTalkWork;
  let account: WorkAppAccount;
  beforeEach(async () => {
    fake = await startFakeDingTalkWork({
      users: ['manager123', 'li', 'wang', ...Array.from({ length: 150 }, (_, i) => `u${i}`)],
    });
    account = { name: 'hr-app', appKey: fake.appKey, appSecret: fake.appSecret, agentId: fake.agentId };
  });
  afterEach(() => fake.close());

  const sender = () =>
    createDingTalkWorkSender({
      egress: localEgress(),
      baseUrl: fake.baseUrl,
      log: silentLog,
      timeoutMs: 1000,
    });

  it('fetches a token, then posts asyncsend_v2 with the agent id, the user and the msg, answering the task id', async () => {
    const outcome = await sender().send(job(account, 'manager123'));
    expect(outcome).toEqual({ kind: 'sent', providerId: String(fake.tasks[0]!.id) });
    const [tokenReq, sendReq] = fake.requests;
    expect(tokenReq?.method).toBe('GET');
    expect(tokenReq?.path).toBe('/gettoken');
    expect(tokenReq?.query.get('appkey')).toBe(fake.appKey);
    expect(sendReq?.path).toBe('/topapi/message/corpconversation/asyncsend_v2');
    expect(sendReq?.query.get('access_token')).toBe(
      (tokenReq?.answer as { access_token: string }).access_token,
    );
    expect(sendReq?.body).toEqual({
      agent_id: fake.agentId,
      userid_list: 'manager123',
      msg: { msgtype: 'markdown', markdown: { title: 'Order 981', text: '### Order 981 shipped' } },
    });
  });

  it('batches only recipients with identical content, shares the task id, never over 100 users a call', async () => {
    const many = Array.from({ length: 150 }, (_, i) => job(account, `u${i}`));
    const different = job(account, 'li', { text: '### Order 982 shipped' });
    const outcomes = await sender().sendMany([...many, different]);
    const sends = fake.requests.filter((r) => r.path.endsWith('asyncsend_v2'));
    expect(
      sends
        .map((r) => (r.body as { userid_list: string }).userid_list.split(',').length)
        .sort((a, b) => a - b),
    ).toEqual([1, 50, WORK_USERS_PER_CALL]);
    expect(fake.requests.filter((r) => r.path === '/gettoken')).toHaveLength(1);
    const taskOf = (i: number) => (outcomes[i] as { providerId: string }).providerId;
    expect(outcomes.every((o) => o.kind === 'sent')).toBe(true);
    expect(taskOf(0)).toBe(taskOf(99));
    expect(taskOf(100)).toBe(taskOf(149));
    expect(taskOf(0)).not.toBe(taskOf(100));
    expect(taskOf(150)).not.toBe(taskOf(0));
    const lone = fake.tasks.find((t) => String(t.id) === taskOf(150));
    expect(lone?.userIds).toEqual(['li']);
    expect(lone?.msg).toEqual({
      msgtype: 'markdown',
      markdown: { title: 'Order 981', text: '### Order 982 shipped' },
    });
  });

  it('builds text, link and action_card messages', async () => {
    const s = sender();
    await s.send(job(account, 'li', { msgtype: 'text', text: 'hello' }));
    await s.send(
      job(account, 'li', { msgtype: 'link', text: 'arrives', url: 'https://shop.example.com/981' }),
    );
    await s.send(
      job(account, 'li', {
        msgtype: 'action_card',
        text: '**go**',
        url: 'https://x.example/1',
        btnTitle: 'Open',
      }),
    );
    expect(
      fake.requests
        .filter((r) => r.path.endsWith('asyncsend_v2'))
        .map((r) => (r.body as { msg: unknown }).msg),
    ).toEqual([
      { msgtype: 'text', text: { content: 'hello' } },
      {
        msgtype: 'link',
        link: { title: 'Order 981', text: 'arrives', messageUrl: 'https://shop.example.com/981', picUrl: '' },
      },
      {
        msgtype: 'action_card',
        action_card: {
          title: 'Order 981',
          markdown: '**go**',
          single_title: 'Open',
          single_url: 'https://x.example/1',
        },
      },
    ]);
  });

  it('refuses a msg over 2048 bytes, a link without url and a recipient without user id before calling DingTalk', async () => {
    const outcomes = await sender().sendMany([
      job(account, 'li', { text: 'x'.repeat(2100) }),
      job(account, 'li', { msgtype: 'link' }),
      job(account, ''),
    ]);
    expect(outcomes.map((o) => (o.kind === 'permanent' ? o.code : o.kind))).toEqual([
      'dingtalk_work_invalid_part',
      'dingtalk_work_invalid_part',
      'dingtalk_work_no_user',
    ]);
    expect(fake.requests).toHaveLength(0);
  });

  it('keeps the token for later sends and fetches one token for concurrent first sends', async () => {
    const s = sender();
    await Promise.all(['li', 'wang', 'manager123'].map((u) => s.send(job(account, u, { text: `for ${u}` }))));
    await s.send(job(account, 'li', { text: 'again' }));
    expect(paths(fake).filter((p) => p === 'gettoken')).toHaveLength(1);
  });

  it('fetches a new token shortly before the old one expires', async () => {
    let clock = Date.now();
    const tokens = createAccessTokens({
      egress: localEgress(),
      baseUrl: fake.baseUrl,
      timeoutMs: 1000,
      now: () => clock,
    });
    const s = createDingTalkWorkSender({
      egress: localEgress(),
      baseUrl: fake.baseUrl,
      log: silentLog,
      tokens,
    });
    await s.send(job(account, 'li', { text: 'one' }));
    clock += 7200_000 - 6 * 60_000;
    await s.send(job(account, 'li', { text: 'two' }));
    expect(paths(fake).filter((p) => p === 'gettoken')).toHaveLength(1);
    clock += 2 * 60_000;
    await s.send(job(account, 'li', { text: 'three' }));
    expect(paths(fake).filter((p) => p === 'gettoken')).toHaveLength(2);
  });

  it('refreshes the token once when DingTalk calls it expired, and sends', async () => {
    const s = sender();
    await s.send(job(account, 'li', { text: 'first' }));
    fake.expireTokens();
    expect(await s.send(job(account, 'li', { text: 'second' }))).toMatchObject({ kind: 'sent' });
    expect(paths(fake)).toEqual(['gettoken', 'asyncsend_v2', 'asyncsend_v2', 'gettoken', 'asyncsend_v2']);
    expect(fake.requests[2]?.answer).toMatchObject({ errcode: 42001 });
  });

  it('does not loop when the fresh token is called expired too', async () => {
    const s = sender();
    fake.answerNext(
      { body: { errcode: 0, errmsg: 'ok', access_token: 'tok-a', expires_in: 7200 } },
      { body: { errcode: 42001, errmsg: 'access_token超时' } },
      { body: { errcode: 0, errmsg: 'ok', access_token: 'tok-b', expires_in: 7200 } },
      { body: { errcode: 88, sub_code: '40014', errmsg: 'ding talk error[subcode=40014]' } },
    );
    expect(await s.send(job(account, 'li'))).toEqual({
      kind: 'retryable',
      code: 'dingtalk_work_40014',
      message: 'errcode 88: ding talk error[subcode=40014]',
    });
    expect(paths(fake)).toEqual(['gettoken', 'asyncsend_v2', 'gettoken', 'asyncsend_v2']);
  });

  it('reports wrong app credentials as permanent, without the secret', async () => {
    const outcome = await sender().send(job({ ...account, appSecret: 'wrong-secret' }, 'li'));
    expect(outcome).toEqual({
      kind: 'permanent',
      code: 'dingtalk_work_40089',
      message: 'errcode 40089: 不合法的appKey或appSecret',
    });
    expect(JSON.stringify(outcome)).not.toContain('wrong-secret');
  });

  it('retries when DingTalk cannot be reached, with neither secret nor token in the message', async () => {
    const base = fake.baseUrl;
    await fake.close();
    const outcome = await createDingTalkWorkSender({
      egress: localEgress(),
      baseUrl: base,
      log: silentLog,
    }).send(job(account, 'li'));
    expect(outcome).toMatchObject({ kind: 'retryable', code: 'dingtalk_work_network' });
    expect(JSON.stringify(outcome)).not.toContain(account.appSecret);
    fake = await startFakeDingTalkWork();
  });

  it('classifies a wrong agent id as permanent, busy and 5xx as retryable', async () => {
    expect(await sender().send(job({ ...account, agentId: 1 }, 'li'))).toMatchObject({
      kind: 'permanent',
      code: 'dingtalk_work_60011',
    });
    const s = sender();
    await s.send(job(account, 'li', { text: 'warm the token' }));
    fake.answerNext({ body: { errcode: -1, errmsg: '系统繁忙' } }, { status: 503, body: 'unavailable' });
    expect(await s.send(job(account, 'li'))).toMatchObject({ kind: 'retryable', code: 'dingtalk_work_-1' });
    expect(await s.send(job(account, 'li'))).toMatchObject({
      kind: 'retryable',
      code: 'dingtalk_work_http_503',
    });
  });
});

describe('dingtalk work notification result check', () => {
  let fake: FakeDingTalkWork;
  let account: WorkAppAccount;
  beforeEach(async () => {
    fake = await startFakeDingTalkWork({ users: ['li', 'wang', 'zhao'], perUserDailyLimit: 2 });
    account = { name: 'hr-app', appKey: fake.appKey, appSecret: fake.appSecret, agentId: fake.agentId };
  });
  afterEach(() => fake.close());

  it('records a message DingTalk accepted and dropped as failed with the reason, not as sent', async () => {
    const tokens = createAccessTokens({ egress: localEgress(), baseUrl: fake.baseUrl, timeoutMs: 1000 });
    const s = createDingTalkWorkSender({
      egress: localEgress(),
      baseUrl: fake.baseUrl,
      log: silentLog,
      tokens,
    });
    const checker = createWorkResultChecker({ egress: localEgress(), baseUrl: fake.baseUrl, tokens });
    const same = (u: string) => job(account, u, { text: 'Payslip ready' });
    await s.sendMany([same('li'), same('wang')]);
    // The same content to li again: DingTalk answers success and drops it.
    const [again, stranger] = await s.sendMany([
      same('li'),
      job(account, 'ghost', { text: 'Payslip ready' }),
    ]);
    expect(again).toMatchObject({ kind: 'sent' });
    expect(stranger).toMatchObject({ kind: 'sent' });
    if (again?.kind !== 'sent' || stranger?.kind !== 'sent') throw new Error('not accepted');

    const first = await checker.check(account, String(fake.tasks[0]!.id), ['li', 'wang']);
    expect(first).toEqual({
      kind: 'checked',
      results: new Map([
        ['li', { status: 'delivered', read: false }],
        ['wang', { status: 'delivered', read: false }],
      ]),
    });
    const dropped = await checker.check(account, again.providerId!, ['li']);
    expect(dropped).toEqual({
      kind: 'checked',
      results: new Map([
        [
          'li',
          {
            status: 'failed',
            code: `dingtalk_work_forbidden_${SAME_CONTENT_RULE}`,
            reason: `DingTalk accepted the message but did not deliver it: over its flow control (rule ${SAME_CONTENT_RULE}, limit 1)`,
          },
        ],
      ]),
    });
    const ghost = await checker.check(account, stranger.providerId!, ['ghost']);
    expect(ghost).toMatchObject({ kind: 'checked' });
    if (ghost.kind === 'checked')
      expect(ghost.results.get('ghost')).toMatchObject({
        status: 'failed',
        code: 'dingtalk_work_invalid_user',
      });
    const check = fake.requests.find((r) => r.path.endsWith('getsendresult'));
    expect(check?.body).toEqual({ agent_id: fake.agentId, task_id: fake.tasks[0]!.id });
  });

  it('reports users over the daily limit as dropped, and pending while DingTalk is still working', async () => {
    const tokens = createAccessTokens({ egress: localEgress(), baseUrl: fake.baseUrl, timeoutMs: 1000 });
    const s = createDingTalkWorkSender({
      egress: localEgress(),
      baseUrl: fake.baseUrl,
      log: silentLog,
      tokens,
    });
    const checker = createWorkResultChecker({ egress: localEgress(), baseUrl: fake.baseUrl, tokens });
    for (const text of ['one', 'two', 'three']) await s.send(job(account, 'zhao', { text }));
    const third = String(fake.tasks[2]!.id);
    fake.resultsPending = true;
    expect(await checker.check(account, third, ['zhao'])).toEqual({
      kind: 'checked',
      results: new Map([['zhao', { status: 'pending' }]]),
    });
    fake.resultsPending = false;
    const result = await checker.check(account, third, ['zhao']);
    expect(result).toMatchObject({ kind: 'checked' });
    if (result.kind === 'checked')
      expect(result.results.get('zhao')).toEqual({
        status: 'failed',
        code: `dingtalk_work_forbidden_${DAILY_LIMIT_RULE}`,
        reason: `DingTalk accepted the message but did not deliver it: over its flow control (rule ${DAILY_LIMIT_RULE}, limit 2)`,
      });
  });

  it('refreshes an expired token for the check too, and reports a failed check as unchecked', async () => {
    const tokens = createAccessTokens({ egress: localEgress(), baseUrl: fake.baseUrl, timeoutMs: 1000 });
    const s = createDingTalkWorkSender({
      egress: localEgress(),
      baseUrl: fake.baseUrl,
      log: silentLog,
      tokens,
    });
    const checker = createWorkResultChecker({ egress: localEgress(), baseUrl: fake.baseUrl, tokens });
    await s.send(job(account, 'li'));
    fake.expireTokens();
    expect(await checker.check(account, String(fake.tasks[0]!.id), ['li'])).toMatchObject({
      kind: 'checked',
    });
    expect(await checker.check(account, '999', ['li'])).toEqual({
      kind: 'unchecked',
      outcome: { kind: 'permanent', code: 'dingtalk_work_40035', message: 'errcode 40035: 不合法的task_id' },
    });
  });

  it('classifies read, unread, failed and missing users from a send_result', () => {
    const results = classifySendResult(
      {
        read_user_id_list: ['a'],
        unread_user_id_list: ['b'],
        failed_user_id_list: ['c'],
        forbidden_list: [{ userid: 'd', code: '143105', count: 500 }],
      },
      ['a', 'b', 'c', 'd', 'e'],
    );
    expect([...results.entries()]).toEqual([
      ['a', { status: 'delivered', read: true }],
      ['b', { status: 'delivered', read: false }],
      [
        'c',
        { status: 'failed', code: 'dingtalk_work_failed', reason: 'DingTalk reports the send as failed' },
      ],
      ['d', expect.objectContaining({ status: 'failed', code: 'dingtalk_work_forbidden_143105' })],
      ['e', { status: 'pending' }],
    ]);
  });
});

describe('dingtalk work account', () => {
  it('keeps the app secret out of the public config', () => {
    const input = workAppConfigInputSchema.parse({ appKey: 'dingabc', appSecret: 's3cret', agentId: 123 });
    const { config, secrets } = splitWorkAccount(input);
    expect(config).toEqual({ appKey: 'dingabc', agentId: 123 });
    expect(secrets).toEqual({ app_secret: 's3cret' });
    expect(toWorkAppAccount('hr', config, secrets)).toEqual({
      name: 'hr',
      appKey: 'dingabc',
      appSecret: 's3cret',
      agentId: 123,
    });
    expect(splitWorkAccount({ appKey: 'dingabc', agentId: 123 }, secrets).secrets).toEqual(secrets);
    expect(() => splitWorkAccount({ appKey: 'dingabc', agentId: 123 })).toThrow(/appSecret/);
  });
});

describe('dingtalk work job from a rendered part', () => {
  it('addresses the recipient by dingtalkUserId', () => {
    const account = { name: 'hr', appKey: 'k', appSecret: 's', agentId: 1 };
    expect(
      toWorkJob({ deliveryId: 'd', messageId: 'm', attempt: 2 }, { msgtype: 'text', text: 'hi' }, account, {
        dingtalkUserId: 'manager123',
      }),
    ).toEqual({
      deliveryId: 'd',
      messageId: 'm',
      attempt: 2,
      channel: 'dingtalk_work',
      account,
      userId: 'manager123',
      msgtype: 'text',
      text: 'hi',
    });
  });
});
