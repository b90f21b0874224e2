import type { ChannelAccountService } from '../accounts/channelAccountService';
import type { ChannelName } from '../contract/envelope';
import type { TemplateChannels, TemplateLocales, TemplateView } from '../contract/template';
import { NotFoundError, ValidationError } from '../errors';
import type { AnyAccountType } from '../senders/channel';
import { channelByName, channels } from '../senders/registry';

type Content = { channels: TemplateChannels; locales?: TemplateLocales };

/** The account type a channel's part may name, from the channel's definition (none: it names no account). */
const accountTypeOf = (channel: string): AnyAccountType | undefined =>
  channelByName.get(channel as ChannelName)?.account;

function namedAccounts(content: Content): Array<{ where: string; channel: string; account: string }> {
  const out: Array<{ where: string; channel: string; account: string }> = [];
  const scan = (parts: Partial<Record<string, object>>, prefix: string) => {
    for (const [channel, part] of Object.entries(parts)) {
      const account = (part as { account?: unknown } | undefined)?.account;
      if (typeof account === 'string') out.push({ where: `${prefix}${channel}.account`, channel, account });
    }
  };
  scan(content.channels, '');
  for (const [locale, override] of Object.entries(content.locales ?? {}))
    scan(override, `locales.${locale}.`);
  return out;
}

/** Refuses, at save, a part that names an account that does not exist or is of another type. */
export async function assertTemplateAccounts(
  accounts: ChannelAccountService,
  content: Content,
): Promise<void> {
  for (const { where, channel, account } of namedAccounts(content)) {
    const expected = accountTypeOf(channel)?.type;
    if (!expected) continue;
    const found = await accounts.get(account).catch((err: unknown) => {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    });
    if (!found)
      throw new ValidationError(
        'unknown_account',
        `${where} names "${account}", which is no channel account`,
        [{ path: where, account }],
      );
    if (found.type !== expected)
      throw new ValidationError(
        'wrong_account_type',
        `${where} names "${account}", a ${found.type} account; the ${channel} channel needs a ${expected} account`,
        [{ path: where, account, type: found.type, expected }],
      );
  }
}

/**
 * Channels of a template that cannot be sent as it stands: a part of a channel whose account type has no
 * default (`defaultable`) and that names no account, so its deliveries fail with no_account. Shown in the
 * template's view and in the answer to a save.
 */
export function templateWarnings(content: Pick<Content, 'channels'>): string[] {
  const warnings: string[] = [];
  const parts: Partial<Record<string, object>> = content.channels;
  for (const channel of channels) {
    const part = parts[channel.name] as { account?: unknown } | undefined;
    const type = channel.account;
    if (part && type && !type.defaultable && part.account === undefined)
      warnings.push(
        `${channel.name}: the part names no ${type.label} account and that type has no default, so its deliveries fail with no_account`,
      );
  }
  return warnings;
}

export const withWarnings = (view: TemplateView): TemplateView & { warnings: string[] } => ({
  ...view,
  warnings: templateWarnings(view),
});
