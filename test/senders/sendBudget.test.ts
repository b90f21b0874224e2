import { createDingTalkSender } from '../../src/senders/dingtalk/dingtalkSender';
import { createRobotBudget } from '../../src/senders/dingtalk/robotBudget';
import { createSendBudget, slotMarginMs } from '../../src/senders/sendBudget';
import type { DingTalkJob } from '../../src/senders/dingtalk/robotJob';
import { describeWith } from '../support/services';
import { createTestPglite, createTestPostgres, type TestDatabase } from '../support/testDatabase';
import { startFakeRobot } from './support/fakeRobot';
import { localEgress } from './support/localEgress';

const silentLog = { info: () => undefined, warn: () => undefined };

describeWith(['postgres'], 'send budget with several windows and holds, on PostgreSQL', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestPostgres();
  }, 60_000);
  afterAll(() => t?.drop());

  it('enforces the tighter of two windows across two instances (5 a second, 100 a minute)', async () => {
    const windows = [
      { limit: 5, windowMs: 1000 },
      { limit: 100, windowMs: 60_000 },
    ];
    const a = createSendBudget(t.db, { windows, scope: 'feishu-robot' });
    const b = createSendBudget(t.db, { windows, scope: 'feishu-robot' });
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? a : b).acquire('team-bot')),
    );
    expect(answers.filter((x) => x.ok)).toHaveLength(5);
    for (const x of answers) {
      if (x.ok) continue;
      expect(x.reason).toBe('budget spent: 5 per second');
      expect(x.retryAfterMs).toBeGreaterThan(0);
      expect(x.retryAfterMs).toBeLessThanOrEqual(1000 + slotMarginMs(windows[0]!));
    }
    // The same account name under another scope has a budget of its own.
    const other = createSendBudget(t.db, { windows, scope: 'wecom-robot' });
    expect(await other.acquire('team-bot')).toMatchObject({ ok: true });
  });

  it('says the minute window is spent once the second windows have let 100 through', async () => {
    const budget = createSendBudget(t.db, {
      windows: [
        { limit: 50, windowMs: 200 },
        { limit: 100, windowMs: 60_000 },
      ],
    });
    let admitted = 0;
    let answer = await budget.acquire('minute-bot');
    while (admitted < 150) {
      if (answer.ok) admitted += 1;
      else if (answer.reason === 'budget spent: 100 per minute') break;
      else await new Promise((r) => setTimeout(r, answer.ok ? 0 : answer.retryAfterMs));
      answer = await budget.acquire('minute-bot');
    }
    expect(admitted).toBe(100);
    expect(answer).toMatchObject({ ok: false, reason: 'budget spent: 100 per minute' });
    if (!answer.ok) expect(answer.retryAfterMs).toBeGreaterThan(50_000);
  });

  it('holds a robot DingTalk blocked for ten minutes, on every instance, without calling DingTalk again', async () => {
    const robot = await startFakeRobot({ secret: 'SEChold' });
    const [first, second] = [0, 1].map(() =>
      createDingTalkSender({ egress: localEgress(), budget: createRobotBudget(t.db), log: silentLog }),
    );
    const job: DingTalkJob = {
      channel: 'dingtalk',
      deliveryId: 'dlv-hold',
      messageId: 'msg-hold',
      attempt: 1,
      account: { name: 'blocked-robot', webhook: robot.url, secret: 'SEChold' },
      msgtype: 'text',
      text: 'hello',
      atMobiles: [],
      atUserIds: [],
      isAtAll: false,
    };
    try {
      robot.answerNext({ body: { errcode: 130101, errmsg: 'send too fast, exceed 20 times per minute' } });
      expect(await first!.send(job)).toMatchObject({
        kind: 'retryable',
        code: 'dingtalk_130101',
        retryAfterMs: 600_000,
      });
      const held = await second!.send({ ...job, deliveryId: 'dlv-next' });
      expect(held).toMatchObject({ kind: 'deferred' });
      if (held.kind !== 'deferred') throw new Error('not deferred');
      expect(held.reason).toBe(
        'robot blocked by DingTalk: errcode 130101: send too fast, exceed 20 times per minute',
      );
      expect(held.retryAfterMs).toBeGreaterThan(9 * 60_000);
      expect(held.retryAfterMs).toBeLessThanOrEqual(600_000);
      expect(robot.requests).toHaveLength(1);
      // Another robot is not held.
      expect(await second!.send({ ...job, account: { ...job.account, name: 'free-robot' } })).toEqual({
        kind: 'sent',
      });
    } finally {
      await robot.close();
    }
  });

  it('gives a slot again only a margin after its send left the window by our clock', async () => {
    const window = { limit: 1, windowMs: 60_000 };
    const budget = createSendBudget(t.db, { windows: [window] });
    const first = await budget.acquire('edge');
    if (!first.ok) throw new Error('the first send of an empty budget was refused');
    const beforeSettle = Date.now();
    await first.settle();
    const next = await budget.acquire('edge');
    // Real time since the send counted from (Date.now truncates to the millisecond: hence the 1).
    const elapsed = Date.now() - beforeSettle + 1;
    expect(next).toMatchObject({ ok: false, reason: 'budget spent: 1 per minute' });
    // The vendor's clock may run apart from ours: a wait of exactly the window would meet its limit.
    if (!next.ok) {
      expect(next.retryAfterMs).toBeGreaterThanOrEqual(window.windowMs + slotMarginMs(window) - elapsed);
      expect(next.retryAfterMs).toBeLessThanOrEqual(window.windowMs + slotMarginMs(window));
    }
  });

  it('keeps the longer of two holds', async () => {
    const budget = createSendBudget(t.db, { windows: [{ limit: 20, windowMs: 60_000 }] });
    await budget.hold('twice', 600_000, 'long');
    await budget.hold('twice', 1000, 'short');
    const answer = await budget.acquire('twice');
    expect(answer).toMatchObject({ ok: false, reason: 'long' });
    if (!answer.ok) expect(answer.retryAfterMs).toBeGreaterThan(500_000);
  });

  it('lets sends through again once the hold has passed', async () => {
    const budget = createSendBudget(t.db, { windows: [{ limit: 20, windowMs: 60_000 }] });
    await budget.hold('brief', 50, 'brief hold');
    const held = await budget.acquire('brief');
    expect(held).toMatchObject({ ok: false, reason: 'brief hold' });
    await new Promise((r) => setTimeout(r, held.ok ? 0 : held.retryAfterMs + 5));
    expect(await budget.acquire('brief')).toMatchObject({ ok: true });
  });
});

describe('send budget holds on PGlite', () => {
  it('holds and counts on the embedded database too', async () => {
    const t = await createTestPglite();
    try {
      const budget = createSendBudget(t.db, { windows: [{ limit: 2, windowMs: 60_000 }], scope: 'x' });
      const answers = await Promise.all([1, 2, 3].map(() => budget.acquire('r')));
      expect(answers.filter((x) => x.ok)).toHaveLength(2);
      await budget.hold('s', 60_000, 'penalty');
      expect(await budget.acquire('s')).toMatchObject({ ok: false, reason: 'penalty' });
    } finally {
      await t.drop();
    }
  });
});
