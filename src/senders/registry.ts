import type { Channel as DbChannel, ChannelAccountType as DbAccountType } from '../generated/prisma/enums';
import { dingtalk } from './dingtalk';
import { dingtalkWork } from './dingtalk_work';
import { feishu } from './feishu';
import { im } from './im';
import { mail } from './mail';
import { wecom } from './wecom';
import {
  accountTypesOf,
  namesOf,
  type NameOf,
  type PartsOf,
  type RecipientFieldsOf,
  type RenderedPartsOf,
} from './channelSet';

/** Every channel Herald sends on. Adding one: its folder under src/senders, one line here, a migration. */
export const channels = [mail, dingtalk, im, feishu, wecom, dingtalkWork] as const;

export type Channels = typeof channels;
export type ChannelName = NameOf<Channels>;
export type ChannelDefinition = Channels[number];
export const CHANNEL_NAMES = namesOf(channels);
export type TemplateParts = PartsOf<Channels>;
export type RenderedParts = RenderedPartsOf<Channels>;
export type RecipientFields = RecipientFieldsOf<Channels>;

export const channelByName: ReadonlyMap<ChannelName, ChannelDefinition> = new Map(
  channels.map((c) => [c.name, c]),
);

export const accountTypes = accountTypesOf(channels);

/** The vendor hosts of the channels that send through accounts of this type. */
export const vendorHostsOf = (account: { type: string }): string[] =>
  channels.flatMap((c) => (c.account?.type === account.type ? [...c.vendorHosts] : []));
type AccountTypeName = NonNullable<ChannelDefinition['account']>['type'];
type AccountSecretName = keyof NonNullable<ChannelDefinition['account']>['secrets'] & string;
export const ACCOUNT_TYPES = accountTypes.map((a) => a.type) as [AccountTypeName, ...AccountTypeName[]];
export const SECRET_NAMES = [...new Set(accountTypes.flatMap((a) => Object.keys(a.secrets)))] as [
  AccountSecretName,
  ...AccountSecretName[],
];

// The database enums must list exactly the registered channels and account types: a channel added here
// without its migration (or the reverse) fails to compile.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const channelsMatchDatabase: Same<ChannelName, DbChannel> = true;
const accountTypesMatchDatabase: Same<NonNullable<ChannelDefinition['account']>['dbType'], DbAccountType> =
  true;
void channelsMatchDatabase;
void accountTypesMatchDatabase;
