import { dispatch } from '../../src/consumer/dispatch';
import type { SendOutcome } from '../../src/senders/sender';
import { createTestPglite, type TestDatabase } from '../support/testDatabase';
import { dispatchDeps, fixedTemplates, scriptedSender } from './support/dispatchStubs';

let tdb: TestDatabase;
beforeAll(async () => {
  tdb = await createTestPglite();
});
afterAll(() => tdb.drop());

let seq = 0;
const envelope = (over: Record<string, unknown> = {}) => ({
  id: `env-${++seq}`,
  template: 'order_shipped',
  to: [
    { userId: 'u-1', email: 'li@example.com', name: 'Li' },
    { userId: 'u-2', name: 'Wang' },
  ],
  data: { orderNo: '981' },
  ...over,
});

async function deliveriesOf(messageId: string) {
  return tdb.db.prisma.delivery.findMany({
    where: { messageId },
    include: { attemptLog: true },
    orderBy: [{ channel: 'asc' }, { recipientIndex: 'asc' }],
  });
}
const messageOf = (id: string) => tdb.db.prisma.message.findUniqueOrThrow({ where: { id } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('dispatch (no broker)', () => {
  it('turns an envelope into deliveries, sends each once and logs every attempt', async () => {
    const mail = scriptedSender('mail', () => ({ kind: 'sent', providerId: 'smtp-1' }));
    const im = scriptedSender('im');
    const env = envelope();
    const result = await dispatch(env, dispatchDeps(tdb.db, { mail, im }));

    expect(result).toEqual({ kind: 'done', messageId: env.id, status: 'completed', retryInMs: undefined });
    expect(mail.jobs).toHaveLength(1);
    expect(mail.jobs[0]).toMatchObject({
      channel: 'mail',
      to: { email: 'li@example.com', name: 'Li' },
      subject: 'Order 981',
      attempt: 1,
    });
    expect(im.jobs.map((j) => (j.channel === 'im' ? j.userId : ''))).toEqual(['u-1', 'u-2']);

    const rows = await deliveriesOf(env.id);
    expect(rows.map((d) => [d.channel, d.recipientIndex, d.status, d.attempts])).toEqual([
      ['mail', 0, 'sent', 1],
      ['mail', 1, 'skipped', 0],
      ['im', 0, 'sent', 1],
      ['im', 1, 'sent', 1],
    ]);
    expect(rows[1]?.reason).toBe('recipient has no email address');
    expect(rows[0]?.attemptLog).toEqual([
      expect.objectContaining({ attempt: 1, outcome: 'sent', providerId: 'smtp-1' }),
    ]);
    expect((await messageOf(env.id)).status).toBe('completed');
  });

  it('sends nothing again when the same id arrives twice', async () => {
    const mail = scriptedSender('mail');
    const im = scriptedSender('im');
    const env = envelope();
    const deps = dispatchDeps(tdb.db, { mail, im });
    await dispatch(env, deps);
    const again = await dispatch({ ...env, data: { orderNo: 'changed' } }, deps);
    expect(again).toMatchObject({ kind: 'done', status: 'completed' });
    expect(mail.jobs).toHaveLength(1);
    expect(im.jobs).toHaveLength(2);
    const attempts = await tdb.db.prisma.deliveryAttempt.count({
      where: { delivery: { messageId: env.id } },
    });
    expect(attempts).toBe(3);
  });

  it('retries a transient failure after the backoff and then succeeds', async () => {
    const mail = scriptedSender('mail', (_job, call): SendOutcome =>
      call === 1 ? { kind: 'retryable', code: 'smtp_451', message: 'try later' } : { kind: 'sent' },
    );
    const env = envelope({ channels: ['mail'], to: [{ email: 'a@example.com' }] });
    // Well above the claim's 200 ms early-start slack, so a loaded machine cannot make the immediate
    // redelivery below find the delivery already due.
    const deps = dispatchDeps(tdb.db, { mail }, { retryDelays: [1500, 2000] });
    const first = await dispatch(env, deps);
    expect(first).toMatchObject({ status: 'dispatched' });
    const wait = (first as { retryInMs: number }).retryInMs;
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(1500);

    // Redelivered before it is due: nothing is sent.
    await dispatch(env, deps);
    expect(mail.jobs).toHaveLength(1);

    await sleep(wait + 20);
    const second = await dispatch(env, deps);
    expect(second).toMatchObject({ status: 'completed' });
    const [d] = await deliveriesOf(env.id);
    expect(d?.status).toBe('sent');
    expect(d?.attemptLog.map((a) => [a.attempt, a.outcome, a.errorCode])).toEqual([
      [1, 'retryable', 'smtp_451'],
      [2, 'sent', null],
    ]);
  });

  it('fails a delivery after the last retry, with the reason', async () => {
    const mail = scriptedSender('mail', () => ({
      kind: 'retryable',
      code: 'ECONNREFUSED',
      message: 'connection refused',
    }));
    const env = envelope({ channels: ['mail'], to: [{ email: 'a@example.com' }] });
    const deps = dispatchDeps(tdb.db, { mail });
    let result = await dispatch(env, deps);
    for (let i = 0; i < 5 && result.kind === 'done' && result.retryInMs !== undefined; i++) {
      await sleep(result.retryInMs + 20);
      result = await dispatch(env, deps);
    }
    expect(result).toMatchObject({ status: 'failed', retryInMs: undefined });
    const [d] = await deliveriesOf(env.id);
    expect(d?.status).toBe('failed');
    expect(d?.attempts).toBe(3);
    expect(d?.reason).toBe('gave up after 3 attempts: connection refused');
    expect(mail.jobs).toHaveLength(3);
  });

  it('fails a permanent error at once', async () => {
    const mail = scriptedSender('mail', () => ({
      kind: 'permanent',
      code: 'smtp_550',
      message: '550 no such user',
    }));
    const env = envelope({ channels: ['mail'], to: [{ email: 'nobody@example.com' }] });
    const result = await dispatch(env, dispatchDeps(tdb.db, { mail }));
    expect(result).toMatchObject({ status: 'failed' });
    const [d] = await deliveriesOf(env.id);
    expect(d).toMatchObject({ status: 'failed', attempts: 1, reason: '550 no such user' });
    expect(d?.attemptLog).toEqual([
      expect.objectContaining({ outcome: 'permanent', errorCode: 'smtp_550', errorText: '550 no such user' }),
    ]);
  });

  it('logs a wait without counting it as an attempt', async () => {
    const robot = scriptedSender('dingtalk', (_j, call) =>
      call === 1 ? { kind: 'deferred', retryAfterMs: 30, reason: 'robot budget spent' } : { kind: 'sent' },
    );
    const deps = dispatchDeps(
      tdb.db,
      { dingtalk: robot },
      {
        templates: fixedTemplates([{ code: 'alert', channels: ['dingtalk'] }]),
      },
    );
    const env = envelope({
      template: 'alert',
      to: [{ mobile: '13800000000' }, { dingtalkUserId: 'manager1' }],
    });
    const first = await dispatch(env, deps);
    expect(first).toMatchObject({ status: 'dispatched' });
    await sleep(60);
    await dispatch(env, deps);
    const [d] = await deliveriesOf(env.id);
    expect(d).toMatchObject({ channel: 'dingtalk', recipientIndex: -1, status: 'sent', attempts: 1 });
    expect(d?.attemptLog.map((a) => [a.attempt, a.outcome])).toEqual([
      [1, 'waiting'],
      [1, 'sent'],
    ]);
    expect(robot.jobs[1]).toMatchObject({
      atMobiles: ['13800000000'],
      atUserIds: ['manager1'],
      isAtAll: false,
    });
  });

  it.each([
    [
      'a body that is not an envelope',
      { id: 'bad-1', template: 'order_shipped', to: [] },
      'invalid_envelope',
      /to: /,
    ],
    [
      'an unknown template',
      { id: 'bad-2', template: 'nope', to: [{ email: 'a@example.com' }] },
      'unknown_template',
      /nope/,
    ],
    [
      'a missing variable',
      { id: 'bad-3', template: 'order_shipped', to: [{ email: 'a@example.com' }], data: {} },
      'invalid_variables',
      /orderNo: missing/,
    ],
    [
      'a channel the template lacks',
      { id: 'bad-4', template: 'order_shipped', to: [{ email: 'a@b.cn' }], channels: ['dingtalk'] },
      'unknown_channel',
      /dingtalk/,
    ],
  ])('rejects %s and records why', async (_label, input, code, reason) => {
    const mail = scriptedSender('mail');
    const result = await dispatch(input, dispatchDeps(tdb.db, { mail }));
    expect(result).toMatchObject({ kind: 'rejected', code, messageId: input.id });
    expect((result as { reason: string }).reason).toMatch(reason);
    const m = await messageOf(input.id);
    expect(m.status).toBe('rejected');
    expect(m.reason).toMatch(new RegExp(`^${code}: `));
    expect(mail.jobs).toHaveLength(0);
  });
});

describe('dispatch: the rendered in-site url', () => {
  const linking = (url: string) => ({
    async resolve(code: string) {
      const base = await fixedTemplates([{ code, channels: ['im'] }]).resolve(code);
      if (!base) return undefined;
      return {
        ...base,
        render: async () => ({ im: { title: 'Link', body: 'b', url } }),
      };
    },
  });

  it.each(['javascript:alert(1)', '//evil.example.net/x', '/\\evil.example.net', ' https://x.example'])(
    'fails an im delivery whose url renders to %s, and sends nothing',
    async (url) => {
      const im = scriptedSender('im');
      const env = envelope({ channels: ['im'], to: [{ userId: 'u-1' }] });
      const result = await dispatch(env, dispatchDeps(tdb.db, { im }, { templates: linking(url) }));
      expect(result).toMatchObject({ status: 'failed' });
      expect(im.jobs).toHaveLength(0);
      const [d] = await deliveriesOf(env.id);
      expect(d).toMatchObject({ status: 'failed' });
      expect(d?.attemptLog.map((a) => a.errorCode)).toEqual(['unsafe_url']);
    },
  );

  it('sends an im delivery whose url is http(s) or a path on the site', async () => {
    for (const url of ['https://shop.example.com/o/1', '/orders/981', 'orders/981?x=1#y']) {
      const im = scriptedSender('im');
      const env = envelope({ channels: ['im'], to: [{ userId: 'u-1' }] });
      await dispatch(env, dispatchDeps(tdb.db, { im }, { templates: linking(url) }));
      expect(im.jobs).toHaveLength(1);
    }
  });
});

describe('dispatch: a channel with no usable account', () => {
  it('fails a DingTalk delivery whose part names no robot with no_account, so the message is not completed', async () => {
    const dingtalk = scriptedSender('dingtalk');
    const templates = {
      async resolve(code: string) {
        const base = await fixedTemplates([{ code, channels: ['dingtalk'] }]).resolve(code);
        return (
          base && { ...base, render: async () => ({ dingtalk: { msgtype: 'text' as const, text: 'hi' } }) }
        );
      },
    };
    const env = envelope({ channels: ['dingtalk'], to: [{ mobile: '13800000000' }] });
    const result = await dispatch(env, dispatchDeps(tdb.db, { dingtalk }, { templates }));
    expect(result).toMatchObject({ status: 'failed' });
    expect(dingtalk.jobs).toHaveLength(0);
    const [d] = await deliveriesOf(env.id);
    expect(d).toMatchObject({ status: 'failed', reason: 'the template names no DingTalk robot account' });
    expect(d?.attemptLog.map((a) => a.errorCode)).toEqual(['no_account']);
  });
});
