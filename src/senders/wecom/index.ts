import { z } from 'zod';
import { defineAccountType, defineChannel, egressOf, type Skip } from '../channel';
import { toWecomJob } from './toWecomJob';
import {
  WECOM_HOSTS,
  splitWecomAccount,
  toWecomRobotAccount,
  wecomRobotConfigInputSchema,
  wecomRobotPublicConfigSchema,
} from './wecomAccount';
import { WECOM_BUDGET, createWecomBudget } from './wecomBudget';
import type { WecomJob } from './wecomJob';
import { WECOM_BYTE_LIMITS, wecomLengthIssues } from './wecomLimits';
import { wecomPartSchema } from './wecomPart';
import { createWecomSender } from './wecomSender';

/** A WeCom group robot: the webhook's `key` is the secret. */
export const wecomRobotAccount = defineAccountType({
  type: 'wecom-robot',
  dbType: 'wecom_robot',
  label: 'WeCom robot',
  defaultable: true,
  input: wecomRobotConfigInputSchema,
  stored: wecomRobotPublicConfigSchema,
  secrets: { key: 'key' },
  egressUrls: (input) => [input.webhook],
  split: (input, previous) => splitWecomAccount(input, previous),
  toConfig: (name, stored, secrets) => toWecomRobotAccount(name, stored, secrets),
});

const renderedWecomSchema = z.object({
  account: z.string().optional(),
  msgtype: z.enum(['text', 'markdown', 'news']),
  title: z.string().optional(),
  text: z.string(),
  url: z.string().optional(),
  picUrl: z.string().optional(),
});

const [perMinute] = WECOM_BUDGET;

/**
 * A WeCom (WeChat Work) group robot: one post per envelope into the robot's group, @mentioning the
 * recipients by WeCom user id, or by mobile for those without one (text messages).
 */
export const wecom = defineChannel({
  name: 'wecom',
  fanOut: 'group',
  recipientFields: {
    wecomUserId: z.string().min(1).max(128).optional().describe('WeCom user id to @'),
    mobile: z
      .string()
      .regex(/^\+?[0-9 -]{5,20}$/, 'must be a phone number')
      .optional(),
  },
  address: (r) => r.wecomUserId ?? r.mobile,
  missingAddress: 'recipient has no wecomUserId or mobile to mention',
  part: wecomPartSchema,
  rendered: renderedWecomSchema,
  textFields: ['title', 'text', 'url', 'picUrl'],
  textLimit: (r) => ({ field: 'text', bytes: WECOM_BYTE_LIMITS[r.msgtype].text }),
  checkPart: (part) => wecomLengthIssues(part).map(({ field, message }) => ({ field, message })),
  account: wecomRobotAccount,
  concurrency: 4,
  budget: perMinute && { perWindow: perMinute.limit, windowMs: perMinute.windowMs },
  vendorHosts: WECOM_HOSTS,
  async toJob({ base, rendered, envelope, account }): Promise<WecomJob | Skip> {
    const { account: accountName, ...post } = rendered;
    const robot = await account(accountName);
    if (!robot) return { skip: 'the template names no WeCom robot account and none is the default' };
    return { ...toWecomJob(base, post, robot, envelope.to), atAll: envelope.atAll };
  },
  testMessage: (account, t) => ({
    account,
    msgtype: 'text' as const,
    title: t.title,
    text: `${t.title}\n${t.body}`,
  }),
  createSender: (deps) =>
    createWecomSender({
      budget: createWecomBudget(deps.db),
      log: deps.log,
      egress: egressOf({ vendorHosts: WECOM_HOSTS, account: wecomRobotAccount }, deps),
    }),
});
