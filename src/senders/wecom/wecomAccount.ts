import { z } from 'zod';
import { ValidationError } from '../../errors';
import type { WecomRobotAccount } from './wecomJob';

/** Where WeCom robots live: the egress allow-list. */
export const WECOM_HOSTS = ['qyapi.weixin.qq.com'] as const;

/** The account as the API takes it; the webhook's `key` is write-only. */
export const wecomRobotConfigInputSchema = z
  .object({
    webhook: z
      .url({
        protocol: /^https?$/,
        message: 'must be an https URL (http only for a host in HERALD_WEBHOOK_ALLOW_HOSTS)',
      })
      .max(2048)
      .refine((u) => new URL(u).pathname === '/cgi-bin/webhook/send', {
        message: 'must be a group robot webhook like https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…',
      })
      .describe(
        'the robot webhook; its key is write-only (omitted on PUT keeps the stored one) and never returned',
      ),
  })
  .strict();
export type WecomRobotConfigInput = z.infer<typeof wecomRobotConfigInputSchema>;

/** What is stored in the clear and shown: the webhook without its key. */
export const wecomRobotPublicConfigSchema = z.object({
  webhook: z.string().describe('the webhook with its key removed'),
});
export type WecomRobotPublicConfig = z.infer<typeof wecomRobotPublicConfigSchema>;

export const WECOM_SECRET_FIELDS = ['key'] as const;
type WecomSecrets = Partial<Record<(typeof WECOM_SECRET_FIELDS)[number], string>>;

/** Splits API input into the public config and the secrets; on PUT `previous` keeps a key left out. */
export function splitWecomAccount(
  input: WecomRobotConfigInput,
  previous: WecomSecrets = {},
): { config: WecomRobotPublicConfig; secrets: WecomSecrets } {
  const url = new URL(input.webhook);
  const key = url.searchParams.get('key') || previous.key;
  if (!key) throw new ValidationError('missing_key', 'the webhook URL needs its key query parameter');
  url.searchParams.delete('key');
  return { config: { webhook: url.toString() }, secrets: { key } };
}

export function toWecomRobotAccount(
  name: string,
  config: WecomRobotPublicConfig,
  secrets: WecomSecrets,
): WecomRobotAccount {
  const url = new URL(config.webhook);
  if (secrets.key) url.searchParams.set('key', secrets.key);
  return { name, webhook: url.toString() };
}
