/**
 * A user's preferences as Herald stores them (src/contract/subscriber.ts `preferencesSchema`): on/off
 * switches per channel, per category and per category on one channel. Anything not switched off is on,
 * so an "on" is kept by leaving its key out, and everything on is `{ channels: {}, categories: {} }`.
 */
export type ChannelSwitches = Partial<Record<string, boolean>>;

export interface Preferences {
  channels: ChannelSwitches;
  categories: Record<string, { enabled?: boolean; channels?: ChannelSwitches }>;
}

/** One switch: a channel, a category, or a category on one channel. */
export interface Switch {
  channel?: string;
  category?: string;
}

export function switchedOn(p: Preferences, at: Switch): boolean {
  if (at.category === undefined) return at.channel === undefined || p.channels[at.channel] !== false;
  const c = p.categories[at.category];
  return at.channel === undefined ? c?.enabled !== false : c?.channels?.[at.channel] !== false;
}

/** A copy of `p` with one switch turned on or off. */
export function withSwitch(p: Preferences, at: Switch, on: boolean): Preferences {
  const set = (rec: ChannelSwitches, key: string) => {
    if (on) delete rec[key];
    else rec[key] = false;
  };
  const channels = { ...p.channels };
  const categories = { ...p.categories };
  if (at.category === undefined) {
    if (at.channel !== undefined) set(channels, at.channel);
    return { channels, categories };
  }
  const before = categories[at.category];
  const cat: { enabled?: boolean; channels?: ChannelSwitches } = { ...before };
  const catChannels: ChannelSwitches = { ...before?.channels };
  if (at.channel === undefined) {
    if (on) delete cat.enabled;
    else cat.enabled = false;
  } else set(catChannels, at.channel);
  if (Object.keys(catChannels).length) cat.channels = catChannels;
  else delete cat.channels;
  if (Object.keys(cat).length) categories[at.category] = cat;
  else delete categories[at.category];
  return { channels, categories };
}
