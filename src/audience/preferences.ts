import type { ChannelName } from '../contract/envelope';
import type { Preferences } from '../contract/subscriber';

/**
 * Whether the person switched this off: the channel for everything, the template's category, or the
 * category on this channel. Anything not switched off is on.
 */
export function optedOut(prefs: Preferences, channel: ChannelName, category: string | null): boolean {
  if (prefs.channels[channel] === false) return true;
  if (category === null) return false;
  const c = prefs.categories[category];
  return c?.enabled === false || c?.channels?.[channel] === false;
}

/**
 * What a one-click unsubscribe does to the person's preferences: the message's category off on the
 * channel the link came by (a mail's link leaves their in-app items of it on), or the whole channel off
 * for a message without a category.
 */
export function withChannelOff(
  prefs: Preferences,
  channel: ChannelName,
  category: string | null,
): Preferences {
  if (category === null) return { ...prefs, channels: { ...prefs.channels, [channel]: false } };
  const entry = prefs.categories[category] ?? {};
  return {
    ...prefs,
    categories: {
      ...prefs.categories,
      [category]: { ...entry, channels: { ...entry.channels, [channel]: false } },
    },
  };
}
