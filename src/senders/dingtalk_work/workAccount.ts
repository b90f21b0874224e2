import { z } from 'zod';
import { ValidationError } from '../../errors';
import type { WorkAppAccount } from './workJob';

/** Where DingTalk's server API lives (gettoken, asyncsend_v2, getsendresult): the egress allow-list. */
export const WORK_HOSTS = ['oapi.dingtalk.com'] as const;
export const WORK_DEFAULT_BASE_URL = 'https://oapi.dingtalk.com';

/** The account as the API takes it; `appSecret` is write-only. */
export const workAppConfigInputSchema = z
  .object({
    appKey: z.string().min(1).max(128).describe("the app's AppKey (Client ID)"),
    appSecret: z
      .string()
      .min(1)
      .max(256)
      .optional()
      .describe(
        'write-only AppSecret (Client Secret); required on create, omitted on PUT keeps the stored one',
      ),
    agentId: z.int().positive().describe("the app's AgentId"),
    apiBase: z
      .url({
        protocol: /^https?$/,
        message: 'must be an https URL (http only for a host in HERALD_WEBHOOK_ALLOW_HOSTS)',
      })
      .max(200)
      .refine((u) => new URL(u).pathname === '/' && !new URL(u).search, {
        message: 'must be an origin like https://oapi.dingtalk.com, without a path',
      })
      .optional()
      .describe(`DingTalk's server API; ${WORK_DEFAULT_BASE_URL} when omitted (a private gateway)`),
  })
  .strict();
export type WorkAppConfigInput = z.infer<typeof workAppConfigInputSchema>;

/** What is stored in the clear and shown. */
export const workAppPublicConfigSchema = z.object({
  appKey: z.string(),
  agentId: z.number().int(),
  apiBase: z.string().optional(),
});
export type WorkAppPublicConfig = z.infer<typeof workAppPublicConfigSchema>;

export const WORK_SECRET_FIELDS = ['app_secret'] as const;
type WorkSecrets = Partial<Record<(typeof WORK_SECRET_FIELDS)[number], string>>;

export function splitWorkAccount(
  input: WorkAppConfigInput,
  previous: WorkSecrets = {},
): { config: WorkAppPublicConfig; secrets: WorkSecrets } {
  const secret = input.appSecret ?? previous.app_secret;
  if (!secret) throw new ValidationError('missing_app_secret', 'a dingtalk-work account needs its appSecret');
  const config: WorkAppPublicConfig = { appKey: input.appKey, agentId: input.agentId };
  if (input.apiBase) config.apiBase = new URL(input.apiBase).origin;
  return { config, secrets: { app_secret: secret } };
}

export function toWorkAppAccount(
  name: string,
  config: WorkAppPublicConfig,
  secrets: WorkSecrets,
): WorkAppAccount {
  return {
    name,
    appKey: config.appKey,
    agentId: config.agentId,
    appSecret: secrets.app_secret ?? '',
    ...(config.apiBase ? { apiBase: config.apiBase } : {}),
  };
}
