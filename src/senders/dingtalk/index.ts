import { z } from 'zod';
import { HeraldError } from '../../errors';
import { defineChannel, egressOf, type Skip } from '../channel';
import type { DingTalkJob } from './robotJob';
import { createDingTalkSender } from './dingtalkSender';
import { robotAccount } from './robotAccount';
import { createRobotBudget } from './robotBudget';
import { renderedRobotSchema, robotPartSchema } from './robotPart';

const BUDGET = { perWindow: 20, windowMs: 60_000 };
/** Where DingTalk robots live: the egress allow-list. */
const ROBOT_HOSTS = ['oapi.dingtalk.com'] as const;

/**
 * A DingTalk custom robot: one signed post per envelope into the robot's group, @mentioning the
 * recipients by mobile and DingTalk user id.
 */
export const dingtalk = defineChannel({
  name: 'dingtalk',
  fanOut: 'group',
  recipientFields: {
    mobile: z
      .string()
      .regex(/^\+?[0-9 -]{5,20}$/, 'must be a phone number')
      .optional(),
    dingtalkUserId: z.string().min(1).max(128).optional(),
  },
  address: (r) => r.dingtalkUserId ?? r.mobile,
  missingAddress: 'recipient has no mobile or dingtalkUserId to mention',
  part: robotPartSchema,
  rendered: renderedRobotSchema,
  textFields: ['title', 'text', 'url', 'picUrl', 'btnTitle'],
  // DingTalk refuses a custom robot's message over 20,000 bytes.
  textLimit: () => ({ field: 'text', bytes: 20_000 }),
  account: robotAccount,
  concurrency: 4,
  budget: BUDGET,
  vendorHosts: ROBOT_HOSTS,
  async toJob({ base, rendered, envelope, account }): Promise<DingTalkJob | Skip> {
    const { account: accountName, ...post } = rendered;
    // Failed, not skipped: a skip would leave the message completed and the alert believed sent.
    const robot = accountName ? await account(accountName) : undefined;
    if (!robot) throw new HeraldError('no_account', 'the template names no DingTalk robot account', 422);
    return {
      ...base,
      channel: 'dingtalk',
      account: robot,
      ...post,
      atMobiles: envelope.to.flatMap((r) => (r.mobile ? [r.mobile] : [])),
      atUserIds: envelope.to.flatMap((r) => (r.dingtalkUserId ? [r.dingtalkUserId] : [])),
      isAtAll: envelope.atAll,
    };
  },
  testMessage: (account, t) => ({
    account,
    msgtype: 'text' as const,
    title: t.title,
    text: `${t.title}\n${t.body}`,
  }),
  createSender: (deps) =>
    createDingTalkSender({
      budget: createRobotBudget(deps.db, BUDGET),
      log: deps.log,
      egress: egressOf({ vendorHosts: ROBOT_HOSTS, account: robotAccount }, deps),
    }),
});
