import { z } from 'zod';
import { defineAccountType } from '../channel';
import { ValidationError } from '../../errors';
import type { RobotAccountConfig } from './robotJob';

/** A DingTalk custom robot: the webhook's access_token and the signing secret are the secrets. */
export const robotAccount = defineAccountType({
  type: 'dingtalk-robot',
  dbType: 'dingtalk_robot',
  label: 'DingTalk robot',
  input: z
    .object({
      webhook: z
        .url({
          protocol: /^https?$/,
          message: 'must be an https URL (http only for a host in HERALD_WEBHOOK_ALLOW_HOSTS)',
        })
        .max(2048)
        .describe(
          'the robot webhook; its access_token is write-only (omitted on PUT keeps the stored one) and never returned',
        ),
      secret: z
        .string()
        .regex(/^SEC[0-9a-zA-Z]+$/, 'must be the signing secret shown by DingTalk, starting with SEC')
        .max(256)
        .optional()
        .describe('write-only signing secret; omitted on PUT keeps the stored one'),
    })
    .strict(),
  stored: z.object({ webhook: z.string().describe('the webhook without its access_token') }),
  secrets: { access_token: 'accessToken', secret: 'secret' },
  egressUrls: (input) => [input.webhook],
  split(input, previous) {
    const url = new URL(input.webhook);
    if (url.username || url.password)
      throw new ValidationError('invalid_webhook', 'the webhook URL must not carry a user name or password');
    const token = url.searchParams.get('access_token') || previous.accessToken;
    if (!token)
      throw new ValidationError(
        'missing_access_token',
        'the webhook URL needs its access_token query parameter',
      );
    url.searchParams.delete('access_token');
    const secret = input.secret ?? previous.secret;
    return {
      config: { webhook: url.toString() },
      secrets: { accessToken: token, ...(secret !== undefined ? { secret } : {}) },
    };
  },
  movedSecrets(input, stored, secrets) {
    const after = new URL(input.webhook);
    if (new URL(stored.webhook).origin === after.origin) return undefined;
    const missing = [
      ...(secrets.accessToken !== undefined && !after.searchParams.get('access_token')
        ? ['access_token (in the webhook URL)']
        : []),
      ...(secrets.secret !== undefined && input.secret === undefined ? ['secret'] : []),
    ];
    return missing.length ? { changed: 'the webhook host', secrets: missing } : undefined;
  },
  toConfig(name, stored, secrets): RobotAccountConfig {
    const url = new URL(stored.webhook);
    if (secrets.accessToken) url.searchParams.set('access_token', secrets.accessToken);
    return {
      name,
      webhook: url.toString(),
      ...(secrets.secret !== undefined ? { secret: secrets.secret } : {}),
    };
  },
});
