import { createAccessTokens } from '../../src/senders/dingtalk_work/accessTokens';
import { createWorkResultChecker } from '../../src/senders/dingtalk_work/checkSendResult';
import {
  decideAfterCheck,
  planResultChecks,
  WORK_CHECK_DELAYS_MS,
  workResultCheckSchema,
  type WorkResultCheck,
} from '../../src/senders/dingtalk_work/resultCheckPlan';
import type { DingTalkWorkJob, WorkAppAccount } from '../../src/senders/dingtalk_work/workJob';
import { createDingTalkWorkSender } from '../../src/senders/dingtalk_work/workSender';
import { SAME_CONTENT_RULE, startFakeDingTalkWork, type FakeDingTalkWork } from './support/fakeDingTalkWork';
import { localEgress } from './support/localEgress';

const silentLog = { info: () => undefined, warn: () => undefined };

describe('dingtalk work notification: from send to checked deliveries', () => {
  let fake: FakeDingTalkWork;
  let account: WorkAppAccount;
  beforeEach(async () => {
    fake = await startFakeDingTalkWork({ users: ['li', 'wang'] });
    account = { name: 'hr-app', appKey: fake.appKey, appSecret: fake.appSecret, agentId: fake.agentId };
  });
  afterEach(() => fake.close());

  const job = (deliveryId: string, userId: string, text: string): DingTalkWorkJob => ({
    channel: 'dingtalk_work',
    deliveryId,
    messageId: 'payslip-2026-11',
    attempt: 1,
    account,
    userId,
    msgtype: 'text',
    text,
  });

  it('plans one check per task, and the check turns the dropped and unknown users into failures', async () => {
    const tokens = createAccessTokens({ egress: localEgress(), baseUrl: fake.baseUrl, timeoutMs: 1000 });
    const sender = createDingTalkWorkSender({
      egress: localEgress(),
      baseUrl: fake.baseUrl,
      log: silentLog,
      tokens,
    });
    const checker = createWorkResultChecker({ egress: localEgress(), baseUrl: fake.baseUrl, tokens });
    await sender.send(job('d0', 'li', 'Payslip ready'));
    const jobs = [
      job('d1', 'li', 'Payslip ready'),
      job('d2', 'wang', 'Payslip ready'),
      job('d3', 'ghost', 'Hello'),
    ];
    const outcomes = await sender.sendMany(jobs);
    const checks = planResultChecks(jobs, outcomes);
    expect(checks).toEqual([
      {
        account: 'hr-app',
        taskId: String(fake.tasks[1]!.id),
        deliveries: [
          { deliveryId: 'd1', userId: 'li' },
          { deliveryId: 'd2', userId: 'wang' },
        ],
        round: 1,
      },
      {
        account: 'hr-app',
        taskId: String(fake.tasks[2]!.id),
        deliveries: [{ deliveryId: 'd3', userId: 'ghost' }],
        round: 1,
      },
    ]);

    const decisions = [];
    for (const planned of checks) {
      // What comes back from the delay queue is parsed, not trusted.
      const check = workResultCheckSchema.parse(JSON.parse(JSON.stringify(planned)));
      const plan = decideAfterCheck(
        check,
        await checker.check(
          account,
          check.taskId,
          check.deliveries.map((d) => d.userId),
        ),
      );
      expect(plan.next).toBeUndefined();
      decisions.push(...plan.decisions);
    }
    expect(decisions).toEqual([
      {
        deliveryId: 'd1',
        action: 'failed',
        code: `dingtalk_work_forbidden_${SAME_CONTENT_RULE}`,
        reason: `DingTalk accepted the message but did not deliver it: over its flow control (rule ${SAME_CONTENT_RULE}, limit 1)`,
      },
      { deliveryId: 'd2', action: 'delivered', read: false },
      {
        deliveryId: 'd3',
        action: 'failed',
        code: 'dingtalk_work_invalid_user',
        reason: 'DingTalk knows no user ghost in this organisation',
      },
    ]);
  });

  it('checks a pending task again after the next delay, and leaves it unconfirmed after the last round', async () => {
    const tokens = createAccessTokens({ egress: localEgress(), baseUrl: fake.baseUrl, timeoutMs: 1000 });
    const sender = createDingTalkWorkSender({
      egress: localEgress(),
      baseUrl: fake.baseUrl,
      log: silentLog,
      tokens,
    });
    const checker = createWorkResultChecker({ egress: localEgress(), baseUrl: fake.baseUrl, tokens });
    const jobs = [job('d1', 'li', 'one')];
    let check: WorkResultCheck = planResultChecks(jobs, await sender.sendMany(jobs))[0]!;
    fake.resultsPending = true;
    const delays: number[] = [];
    for (;;) {
      const plan = decideAfterCheck(check, await checker.check(account, check.taskId, ['li']));
      if (!plan.next) {
        expect(plan.decisions).toEqual([
          {
            deliveryId: 'd1',
            action: 'unconfirmed',
            reason: `DingTalk had not finished the task after ${WORK_CHECK_DELAYS_MS.length} checks`,
          },
        ]);
        break;
      }
      expect(plan.decisions).toEqual([]);
      delays.push(plan.next.delayMs);
      check = plan.next.check;
    }
    expect(delays).toEqual(WORK_CHECK_DELAYS_MS.slice(1));
  });
});

describe('deciding after a failed check', () => {
  const check: WorkResultCheck = {
    account: 'a',
    taskId: '1',
    deliveries: [{ deliveryId: 'd', userId: 'u' }],
    round: 1,
  };

  it('checks again after a retryable failure and gives up on a permanent one', () => {
    expect(
      decideAfterCheck(check, {
        kind: 'unchecked',
        outcome: { kind: 'retryable', code: 'x', message: 'busy' },
      }),
    ).toEqual({ decisions: [], next: { check: { ...check, round: 2 }, delayMs: WORK_CHECK_DELAYS_MS[1] } });
    expect(
      decideAfterCheck(check, {
        kind: 'unchecked',
        outcome: { kind: 'permanent', code: 'y', message: 'bad task' },
      }),
    ).toEqual({
      decisions: [{ deliveryId: 'd', action: 'unconfirmed', reason: 'getsendresult failed: bad task' }],
    });
  });

  it('refuses a check that does not fit the schema', () => {
    expect(workResultCheckSchema.safeParse({ ...check, taskId: 'abc' }).success).toBe(false);
    expect(workResultCheckSchema.safeParse({ ...check, deliveries: [] }).success).toBe(false);
  });
});
