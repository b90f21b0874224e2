import { z } from 'zod';
import type { ChannelAccount, ChannelAccountType } from '../generated/prisma/client';
import type {
  AccountType,
  AccountView,
  ReplaceAccountBody,
  SecretFieldName,
} from '../contract/channelAccount';
import { ValidationError } from '../errors';
import type { RobotAccountConfig, SmtpAccountConfig } from '../senders/types';
import type { SecretFields } from './secretBox';

/**
 * Splits API input into the non-secret config (the Json column) and the secret fields (encrypted),
 * and joins them back for views and senders. Pure: no database, no keys.
 */

const storedSmtpConfig = z.object({
  host: z.string(),
  port: z.number(),
  secure: z.boolean(),
  user: z.string().optional(),
  allowInsecureAuth: z.boolean().optional(),
  from: z.string(),
  replyTo: z.string().optional(),
});
const storedRobotConfig = z.object({ webhook: z.string() });

export const toDbType = (t: AccountType): ChannelAccountType => (t === 'smtp' ? 'smtp' : 'dingtalk_robot');
export const toApiType = (t: ChannelAccountType): AccountType => (t === 'smtp' ? 'smtp' : 'dingtalk-robot');

export interface SplitAccount {
  config: Record<string, unknown>;
  secrets: SecretFields;
}

/** `previous` holds the stored secrets on PUT: a secret left out of the input keeps its stored value. */
export function splitSecrets(input: ReplaceAccountBody, previous: SecretFields = {}): SplitAccount {
  if (input.type === 'smtp') {
    const { password, ...config } = input.config;
    const secrets: SecretFields = {};
    const keep = password ?? previous.password;
    if (keep !== undefined) secrets.password = keep;
    return { config, secrets };
  }
  const url = new URL(input.config.webhook);
  if (url.username || url.password)
    throw new ValidationError('invalid_webhook', 'the webhook URL must not carry a user name or password');
  const token = url.searchParams.get('access_token') || previous.accessToken;
  if (!token)
    throw new ValidationError(
      'missing_access_token',
      'the webhook URL needs its access_token query parameter',
    );
  url.searchParams.delete('access_token');
  const secrets: SecretFields = { accessToken: token };
  const secret = input.config.secret ?? previous.secret;
  if (secret !== undefined) secrets.secret = secret;
  return { config: { webhook: url.toString() }, secrets };
}

function secretsSet(secrets: SecretFields): SecretFieldName[] {
  const out: SecretFieldName[] = [];
  if (secrets.password !== undefined) out.push('password');
  if (secrets.accessToken !== undefined) out.push('access_token');
  if (secrets.secret !== undefined) out.push('secret');
  return out;
}

export function toView(row: ChannelAccount, secrets: SecretFields): AccountView {
  const base = {
    name: row.name,
    secretsSet: secretsSet(secrets),
    isDefault: row.isDefault,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
  if (row.type === 'smtp') return { ...base, type: 'smtp', config: storedSmtpConfig.parse(row.config) };
  return { ...base, type: 'dingtalk-robot', config: storedRobotConfig.parse(row.config) };
}

export function toSmtpConfig(row: ChannelAccount, secrets: SecretFields): SmtpAccountConfig {
  const c = storedSmtpConfig.parse(row.config);
  return { name: row.name, ...c, ...(secrets.password !== undefined ? { password: secrets.password } : {}) };
}

export function toRobotConfig(row: ChannelAccount, secrets: SecretFields): RobotAccountConfig {
  const url = new URL(storedRobotConfig.parse(row.config).webhook);
  if (secrets.accessToken) url.searchParams.set('access_token', secrets.accessToken);
  return {
    name: row.name,
    webhook: url.toString(),
    ...(secrets.secret !== undefined ? { secret: secrets.secret } : {}),
  };
}
