import { z } from 'zod';
import { defineAccountType, defineChannel, egressOf, type FollowUpRunner, type Skip } from '../channel';
import { createAccessTokens } from './accessTokens';
import { createWorkResultChecker } from './checkSendResult';
import {
  decideAfterCheck,
  planResultChecks,
  WORK_CHECK_DELAYS_MS,
  workResultCheckSchema,
} from './resultCheckPlan';
import { toWorkJob } from './toWorkJob';
import {
  WORK_DEFAULT_BASE_URL,
  WORK_HOSTS,
  splitWorkAccount,
  toWorkAppAccount,
  workAppConfigInputSchema,
  workAppPublicConfigSchema,
} from './workAccount';
import type { DingTalkWorkJob, WorkAppAccount } from './workJob';
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
  egressUrls: (input) => [input.apiBase ?? WORK_DEFAULT_BASE_URL],
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
  label: 'DingTalk',
  part: workPartSchema,
  rendered: renderedWorkSchema,
  textFields: ['title', 'text', 'url', 'picUrl', 'btnTitle'],
  // DingTalk refuses a work notification whose msg is over 2,048 bytes as JSON: the text gets what the
  // other fields leave, less a fifth for JSON escapes.
  textLimit: (r) => ({
    field: 'text',
    bytes: Math.max(0, Math.floor((2048 - Buffer.byteLength(JSON.stringify({ ...r, text: '' }))) * 0.8)),
  }),
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
  testMessage: (account, t) => ({
    account,
    msgtype: 'text' as const,
    title: t.title,
    text: `${t.title}\n${t.body}`,
  }),
  createSender: (deps) =>
    createDingTalkWorkSender({
      log: deps.log,
      egress: egressOf({ vendorHosts: WORK_HOSTS, account: workAppAccount }, deps),
    }),
  // DingTalk answers success and then drops what is over its flow control: getsendresult tells.
  followUp: {
    delaysMs: WORK_CHECK_DELAYS_MS,
    plan: planResultChecks,
    createRunner(deps, accounts): FollowUpRunner {
      const egress = egressOf({ vendorHosts: WORK_HOSTS, account: workAppAccount }, deps);
      const tokens = createAccessTokens({ baseUrl: WORK_DEFAULT_BASE_URL, timeoutMs: 10_000, egress });
      const checker = createWorkResultChecker({ baseUrl: WORK_DEFAULT_BASE_URL, tokens, egress });
      return {
        async run(payload, delaysMs) {
          const check = workResultCheckSchema.parse(payload);
          let app: WorkAppAccount | undefined;
          try {
            app = await accounts.find(workAppAccount, check.account);
          } catch (err) {
            deps.log.warn({ err, account: check.account }, 'dingtalk_work: the checked app account is gone');
          }
          const reason = `the app account "${check.account}" no longer exists; not checked`;
          if (!app)
            return {
              findings: check.deliveries.map((d) => ({
                deliveryId: d.deliveryId,
                action: 'unconfirmed',
                reason,
              })),
            };
          const users = check.deliveries.map((d) => d.userId);
          const plan = decideAfterCheck(check, await checker.check(app, check.taskId, users), delaysMs);
          return {
            findings: plan.decisions,
            ...(plan.next ? { next: { payload: plan.next.check, delayMs: plan.next.delayMs } } : {}),
          };
        },
      };
    },
  },
});
