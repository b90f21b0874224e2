import { CHANNELS } from '../contract/envelope';
import type { TemplateChannels, TemplateLocales } from '../contract/template';
import { ValidationError } from '../errors';
import type { AnyChannel, PartIssue } from '../senders/channel';
import { channelByName } from '../senders/registry';
import { mergeLocale } from './templateParts';

export interface ChannelPartProblem extends PartIssue {
  channel: string;
  /** Set when the problem is in a locale's version of the part. */
  locale?: string;
}

/** Runs each channel's own part checks (`checkPart`) on the base parts and on every locale's merged parts. */
export function findChannelPartProblems(content: {
  channels: TemplateChannels;
  locales: TemplateLocales;
}): ChannelPartProblem[] {
  const problems: ChannelPartProblem[] = [];
  const scan = (parts: TemplateChannels, locale?: string) => {
    for (const channel of CHANNELS) {
      const part: Record<string, unknown> | undefined = parts[channel];
      const def: AnyChannel | undefined = channelByName.get(channel);
      if (!part || !def?.checkPart) continue;
      for (const issue of def.checkPart(part))
        problems.push({ channel, ...(locale ? { locale } : {}), ...issue });
    }
  };
  scan(content.channels);
  for (const locale of Object.keys(content.locales))
    scan(mergeLocale(content.channels, content.locales, locale), locale);
  return problems;
}

export function assertChannelParts(content: { channels: TemplateChannels; locales: TemplateLocales }): void {
  const problems = findChannelPartProblems(content);
  const first = problems[0];
  if (!first) return;
  const where = `${first.locale ? `locales.${first.locale}.` : ''}${first.channel}.${first.field}`;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
  throw new ValidationError('template_part_invalid', `${where}: ${first.message}${more}`, problems);
}
