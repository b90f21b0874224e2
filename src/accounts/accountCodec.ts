import type { ChannelAccount, ChannelAccountType } from '../generated/prisma/client';
import type {
  AccountType,
  AccountView,
  ReplaceAccountBody,
  SecretFieldName,
} from '../contract/channelAccount';
import type { AnyAccountType, AccountConfigOf } from '../senders/channel';
import { createEgressGuard, type AllowedHost } from '../senders/egress';
import { accountTypes, vendorHostsOf } from '../senders/registry';
import type { SecretFields } from './secretBox';

/**
 * Splits API input into the non-secret config (the Json column) and the secret fields (encrypted),
 * and joins them back for views and senders, each through its channel's account type. Pure: no
 * database, no keys.
 */

const byApiType = new Map<string, AnyAccountType>(accountTypes.map((a) => [a.type, a]));
const byDbType = new Map<string, AnyAccountType>(accountTypes.map((a) => [a.dbType, a]));

/** Every registered account type has a database enum value (checked in src/senders/registry.ts). */
export function accountTypeOf(type: AccountType): AnyAccountType {
  const spec = byApiType.get(type);
  if (!spec) throw new Error(`account type ${type} is not registered`);
  return spec;
}

function specOfRow(row: ChannelAccount): AnyAccountType {
  const spec = byDbType.get(row.type);
  if (!spec) throw new Error(`channel account "${row.name}" has the unregistered type ${row.type}`);
  return spec;
}

export const toDbType = (t: AccountType): ChannelAccountType => accountTypeOf(t).dbType;

export interface SplitAccount {
  config: Record<string, unknown>;
  secrets: SecretFields;
}

/** `previous` holds the stored secrets on PUT: a secret left out of the input keeps its stored value. */
export function splitSecrets(input: ReplaceAccountBody, previous: SecretFields = {}): SplitAccount {
  const spec = accountTypeOf(input.type);
  return spec.split(spec.input.parse(input.config), previous);
}

/**
 * Refuses (400, naming the host and HERALD_WEBHOOK_ALLOW_HOSTS) an account whose URLs leave its channel's
 * vendor hosts; the senders check again, after DNS resolution, at send time.
 */
export function checkEgress(input: ReplaceAccountBody, allowHosts: readonly AllowedHost[]): void {
  const spec = accountTypeOf(input.type);
  if (!spec.egressUrls) return;
  const guard = createEgressGuard({ vendorHosts: vendorHostsOf(spec), allowHosts, label: spec.label });
  for (const url of spec.egressUrls(spec.input.parse(input.config))) guard.checkUrl(url);
}

function secretsSet(spec: AnyAccountType, secrets: SecretFields): SecretFieldName[] {
  return Object.entries(spec.secrets)
    .filter(([, key]) => secrets[key] !== undefined)
    .map(([name]) => name as SecretFieldName);
}

/** The secrets (by the names `secretsSet` uses) whose value differs between two sealed sets. */
export function changedSecrets(
  type: AccountType,
  before: SecretFields,
  after: SecretFields,
): SecretFieldName[] {
  return Object.entries(accountTypeOf(type).secrets)
    .filter(([, key]) => before[key] !== after[key])
    .map(([name]) => name as SecretFieldName);
}

export function toView(row: ChannelAccount, secrets: SecretFields): AccountView {
  const spec = specOfRow(row);
  const view = {
    name: row.name,
    type: spec.type,
    secretsSet: secretsSet(spec, secrets),
    isDefault: row.isDefault,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    config: spec.stored.parse(row.config),
  };
  return view as AccountView;
}

/** A stored config (parsed with the type's schema) and its secrets, decoded for the sender. */
export function decodeAccount<A extends AnyAccountType>(
  spec: A,
  name: string,
  config: unknown,
  secrets: SecretFields,
): AccountConfigOf<A> {
  // `spec.toConfig` is A's own; TypeScript sees only the constraint's return type here.
  return spec.toConfig(name, spec.stored.parse(config), secrets) as AccountConfigOf<A>;
}

/** The row decoded for the sender, when it is of `spec`'s type. */
export function toSenderConfig<A extends AnyAccountType>(
  spec: A,
  row: ChannelAccount,
  secrets: SecretFields,
): AccountConfigOf<A> | undefined {
  return row.type === spec.dbType ? decodeAccount(spec, row.name, row.config, secrets) : undefined;
}
