import { z } from 'zod';
import { defineAccountType, defineChannel, type Skip } from '../channel';
import { toWorkJob } from './toWorkJob';
import {
  WORK_HOSTS,
  splitWorkAccount,
  toWorkAppAccount,
  workAppConfigInputSchema,
  workAppPublicConfigSchema,
} from './workAccount';
import type { DingTalkWorkJob } from './workJob';
import { workPartSchema } from './workPart';
import { createDingTalkWorkSender } from './workSender';

/** A corporate DingTalk app: app key and agent id in the clear, the app secret write-only. */
export const workAppAccount = defineAccountType({
  type: 'dingtalk-work',
  dbType: 'dingtalk_work',
  label: 'DingTalk work-notification app',
  defaultable: true,
  input: workAppConfigInputSchema,
  stored: workAppPublicConfigSchema,
  secrets: { app_secret: 'app_secret' },
  split: (input, previous) => splitWorkAccount(input, previous),
  toConfig: (name, stored, secrets) => toWorkAppAccount(name, stored, secrets),
});

const renderedWorkSchema = z.object({
  account: z.string().optional(),
  msgtype: z.enum(['text', 'markdown', 'link', 'action_card']),
  title: z.string().optional(),
  text: z.string(),
  url: z.string().optional(),
  picUrl: z.string().optional(),
  btnTitle: z.string().optional(),
});

/**
 * A DingTalk work notification: a corporate app's message to one person, addressed by their DingTalk
 * user id. Deliveries whose rendered message is the same share one asyncsend_v2 call (at most 100 users),
 * and with it DingTalk's task id.
 */
export const dingtalkWork = defineChannel({
  name: 'dingtalk_work',
  fanOut: 'perRecipient',
  recipientFields: { dingtalkUserId: z.string().min(1).max(128).optional() },
  address: (r) => r.dingtalkUserId,
  missingAddress: 'recipient has no dingtalkUserId for a work notification',
  part: workPartSchema,
  rendered: renderedWorkSchema,
  textFields: ['title', 'text', 'url', 'picUrl', 'btnTitle'],
  account: workAppAccount,
  concurrency: 4,
  vendorHosts: WORK_HOSTS,
  async toJob({ base, rendered, recipient, account }): Promise<DingTalkWorkJob | Skip> {
    if (!recipient?.dingtalkUserId)
      return { skip: 'recipient has no dingtalkUserId for a work notification' };
    const { account: accountName, ...message } = rendered;
    const app = await account(accountName);
    if (!app) return { skip: 'the template names no DingTalk work-notification app and none is the default' };
    return toWorkJob(base, message, app, { dingtalkUserId: recipient.dingtalkUserId });
  },
  createSender: (deps) => createDingTalkWorkSender({ log: deps.log }),
});
