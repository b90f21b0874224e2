import { z } from 'zod';
import { defineAccountType, defineChannel, egressOf, type Skip } from '../channel';
import { FEISHU_BUDGET, createFeishuBudget } from './feishuBudget';
import {
  FEISHU_HOSTS,
  feishuRobotConfigInputSchema,
  feishuRobotPublicConfigSchema,
  splitFeishuAccount,
  toFeishuRobotAccount,
} from './feishuAccount';
import type { FeishuJob } from './feishuJob';
import { feishuPartSchema } from './feishuPart';
import { createFeishuSender } from './feishuSender';
import { toFeishuJob } from './toFeishuJob';

/** A Feishu custom bot: the webhook's hook token and the signing secret are the secrets. */
export const feishuRobotAccount = defineAccountType({
  type: 'feishu-robot',
  dbType: 'feishu_robot',
  label: 'Feishu robot',
  defaultable: true,
  input: feishuRobotConfigInputSchema,
  stored: feishuRobotPublicConfigSchema,
  secrets: { access_token: 'access_token', secret: 'secret' },
  egressUrls: (input) => [input.webhook],
  split: (input, previous) => splitFeishuAccount(input, previous),
  toConfig: (name, stored, secrets) => toFeishuRobotAccount(name, stored, secrets),
});

const renderedFeishuSchema = z.object({
  account: z.string().optional(),
  msgType: z.enum(['text', 'post', 'interactive']),
  title: z.string().optional(),
  text: z.string(),
  url: z.string().optional(),
  btnTitle: z.string().optional(),
  atAll: z.boolean().optional(),
});

/** The tightest of Feishu's windows is the one the docs show (5 a second; 100 a minute also holds). */
const [perSecond] = FEISHU_BUDGET;

/**
 * A Feishu (Lark) custom bot: one signed post per envelope into the bot's group, @mentioning the
 * recipients by Feishu user id.
 */
export const feishu = defineChannel({
  name: 'feishu',
  fanOut: 'group',
  recipientFields: {
    feishuUserId: z.string().min(1).max(128).optional().describe('Feishu open_id (ou_…) or user_id to @'),
  },
  address: (r) => r.feishuUserId,
  missingAddress: 'recipient has no feishuUserId to mention',
  part: feishuPartSchema,
  rendered: renderedFeishuSchema,
  textFields: ['title', 'text', 'url', 'btnTitle'],
  // Feishu refuses a custom bot's request body over 20 KB; the text leaves room for the rest of it.
  textLimit: () => ({ field: 'text', bytes: 18_000 }),
  account: feishuRobotAccount,
  concurrency: 4,
  budget: perSecond && { perWindow: perSecond.limit, windowMs: perSecond.windowMs },
  vendorHosts: FEISHU_HOSTS,
  async toJob({ base, rendered, envelope, account }): Promise<FeishuJob | Skip> {
    const { account: accountName, ...post } = rendered;
    const robot = await account(accountName);
    if (!robot) return { skip: 'the template names no Feishu robot account and none is the default' };
    return toFeishuJob(base, { ...post, atAll: post.atAll || envelope.atAll }, robot, envelope.to);
  },
  testMessage: (account, t) => ({
    account,
    msgType: 'text' as const,
    title: t.title,
    text: `${t.title}\n${t.body}`,
  }),
  createSender: (deps) =>
    createFeishuSender({
      budget: createFeishuBudget(deps.db),
      log: deps.log,
      egress: egressOf({ vendorHosts: FEISHU_HOSTS, account: feishuRobotAccount }, deps),
    }),
});
