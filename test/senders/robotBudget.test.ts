import { createDingTalkSender } from '../../src/senders/dingtalk/dingtalkSender';
import { createRobotBudget } from '../../src/senders/dingtalk/robotBudget';
import { slotMarginMs } from '../../src/senders/sendBudget';
import type { DingTalkJob } from '../../src/senders/dingtalk/robotJob';
import { describeWith } from '../support/services';
import { createTestPglite, createTestPostgres, type TestDatabase } from '../support/testDatabase';
import { startFakeRobot } from './support/fakeRobot';
import { localEgress } from './support/localEgress';

const silentLog = { info: () => undefined, warn: () => undefined };

describeWith(['postgres'], 'robot budget on PostgreSQL', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestPostgres();
  }, 60_000);
  afterAll(() => t?.drop());

  it('lets exactly 20 of 30 concurrent sends from two instances through in a minute', async () => {
    const a = createRobotBudget(t.db, { perWindow: 20 });
    const b = createRobotBudget(t.db, { perWindow: 20 });
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? a : b).acquire('ops-robot')),
    );
    expect(answers.filter((x) => x.ok)).toHaveLength(20);
    const waits = answers.flatMap((x) => (x.ok ? [] : [x.retryAfterMs]));
    expect(waits).toHaveLength(10);
    for (const w of waits) {
      expect(w).toBeGreaterThan(0);
      expect(w).toBeLessThanOrEqual(60_000 + slotMarginMs({ limit: 20, windowMs: 60_000 }));
    }
    // Another robot has a budget of its own.
    expect(await a.acquire('other-robot')).toMatchObject({ ok: true });
  });

  it('delivers 30 messages to one robot, none lost, never more than the budget per window', async () => {
    const windowMs = 2000;
    const robot = await startFakeRobot({ secret: 'SECbudget', rateLimit: { perWindow: 20, windowMs } });
    // Two consumer instances, each with its own budget object and sender, sharing the database.
    const senders = [0, 1].map(() =>
      createDingTalkSender({
        egress: localEgress(),
        budget: createRobotBudget(t.db, { perWindow: 20, windowMs }),
        log: silentLog,
      }),
    );
    const job = (n: number): DingTalkJob => ({
      channel: 'dingtalk',
      deliveryId: `dlv-${n}`,
      messageId: `msg-${n}`,
      attempt: 1,
      account: { name: 'burst-robot', webhook: robot.url, secret: 'SECbudget' },
      msgtype: 'text',
      text: `message ${n}`,
      atMobiles: [],
      atUserIds: [],
      isAtAll: false,
    });
    let deferrals = 0;
    const deliver = async (n: number) => {
      for (;;) {
        const outcome = await senders[n % 2]!.send(job(n));
        if (outcome.kind === 'sent') return;
        if (outcome.kind !== 'deferred') throw new Error(`message ${n}: ${JSON.stringify(outcome)}`);
        deferrals += 1;
        await new Promise((r) => setTimeout(r, outcome.retryAfterMs));
      }
    };
    try {
      await Promise.all(Array.from({ length: 30 }, (_, n) => deliver(n)));
      const texts = robot.accepted().map((b) => (b as { text: { content: string } }).text.content);
      expect(texts.sort()).toEqual(Array.from({ length: 30 }, (_, n) => `message ${n}`).sort());
      expect(robot.requests).toHaveLength(30);
      expect(deferrals).toBeGreaterThanOrEqual(10);
      const times = robot.requests.map((r) => r.receivedAt).sort((x, y) => x - y);
      for (let i = 0; i < times.length; i++) {
        expect(times.filter((x) => x >= times[i]! && x < times[i]! + windowMs).length).toBeLessThanOrEqual(
          20,
        );
      }
    } finally {
      await robot.close();
    }
  });
});

describe('robot budget on PGlite', () => {
  it('counts the same way on the embedded database', async () => {
    const t = await createTestPglite();
    try {
      const budget = createRobotBudget(t.db, { perWindow: 3, windowMs: 60_000 });
      const answers = await Promise.all([1, 2, 3, 4].map(() => budget.acquire('r')));
      expect(answers.filter((x) => x.ok)).toHaveLength(3);
    } finally {
      await t.drop();
    }
  });
});
