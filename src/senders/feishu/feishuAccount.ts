import { z } from 'zod';
import { ValidationError } from '../../errors';
import type { FeishuRobotAccount } from './feishuJob';

/** Where Feishu (and Lark, its international edition) robots live: the egress allow-list. */
export const FEISHU_HOSTS = ['open.feishu.cn', 'open.larksuite.com'] as const;

/** The token may be left out on PUT (`…/hook/`) to keep the stored one. */
const HOOK_PATH = /^\/open-apis\/bot\/v2\/hook\/([A-Za-z0-9_-]*)$/;

/** The account as the API takes it; `webhook`'s token and `secret` are write-only. */
export const feishuRobotConfigInputSchema = z
  .object({
    webhook: z
      .url({
        protocol: /^https?$/,
        message: 'must be an https URL (http only for a host in HERALD_WEBHOOK_ALLOW_HOSTS)',
      })
      .max(2048)
      .refine((u) => HOOK_PATH.test(new URL(u).pathname), {
        message: 'must be a custom-bot webhook like https://open.feishu.cn/open-apis/bot/v2/hook/<token>',
      })
      .describe('the bot webhook; its token is write-only (omitted on PUT keeps the stored one)'),
    secret: z
      .string()
      .min(1)
      .max(256)
      .optional()
      .describe('write-only signing secret (签名校验); omitted on PUT keeps the stored one'),
  })
  .strict();
export type FeishuRobotConfigInput = z.infer<typeof feishuRobotConfigInputSchema>;

/** What is stored in the clear and shown: the webhook without its token. */
export const feishuRobotPublicConfigSchema = z.object({
  webhook: z.string().describe('the webhook with its token removed'),
});
export type FeishuRobotPublicConfig = z.infer<typeof feishuRobotPublicConfigSchema>;

/** The secrets, by the names `secretsSet` reports. */
export const FEISHU_SECRET_FIELDS = ['access_token', 'secret'] as const;
type FeishuSecrets = Partial<Record<(typeof FEISHU_SECRET_FIELDS)[number], string>>;

/** Splits API input into the public config and the secrets; on PUT `previous` keeps secrets left out. */
export function splitFeishuAccount(
  input: FeishuRobotConfigInput,
  previous: FeishuSecrets = {},
): { config: FeishuRobotPublicConfig; secrets: FeishuSecrets } {
  const url = new URL(input.webhook);
  const token = HOOK_PATH.exec(url.pathname)?.[1] || previous.access_token;
  if (!token) throw new ValidationError('missing_hook_token', 'the webhook needs its hook token');
  url.pathname = '/open-apis/bot/v2/hook/';
  const secrets: FeishuSecrets = { access_token: token };
  const secret = input.secret ?? previous.secret;
  if (secret !== undefined) secrets.secret = secret;
  return { config: { webhook: url.toString() }, secrets };
}

/** The sender's view: the stored config joined with its secrets. */
export function toFeishuRobotAccount(
  name: string,
  config: FeishuRobotPublicConfig,
  secrets: FeishuSecrets,
): FeishuRobotAccount {
  const url = new URL(config.webhook);
  if (secrets.access_token) url.pathname = `/open-apis/bot/v2/hook/${secrets.access_token}`;
  return {
    name,
    webhook: url.toString(),
    ...(secrets.secret !== undefined ? { secret: secrets.secret } : {}),
  };
}
