import type { ChannelName } from '../contract/envelope';
import { preferencesSchema, type Preferences } from '../contract/subscriber';
import type { FormFields } from './formBody';

type Switches = Partial<Record<ChannelName, boolean>>;

/**
 * The preferences a posted page form stands for. A checkbox that is not ticked is absent from the post, so
 * the form names the categories it showed (`shown`): those absent from `category` are off, as is every
 * `categoryChannel` pair of them not posted. Only "off" is stored (anything not switched off is on);
 * channels and categories the page did not show keep their switches. Undefined when the post does not
 * make valid preferences.
 */
export function preferencesFromForm(
  current: Preferences,
  form: FormFields,
  channels: readonly ChannelName[],
): Preferences | undefined {
  const values = (name: string) => new Set(form.get(name) ?? []);
  const onChannels = values('channel');
  const onCategories = values('category');
  const onPairs = values('categoryChannel');

  const channelSwitches: Switches = { ...current.channels };
  for (const c of channels) {
    if (onChannels.has(c)) delete channelSwitches[c];
    else channelSwitches[c] = false;
  }
  const categories = { ...current.categories };
  for (const cat of values('shown')) {
    const off: Switches = { ...categories[cat]?.channels };
    for (const c of channels) {
      if (onPairs.has(`${c}:${cat}`)) delete off[c];
      else off[c] = false;
    }
    const entry = {
      ...(onCategories.has(cat) ? {} : { enabled: false }),
      ...(Object.keys(off).length ? { channels: off } : {}),
    };
    if (Object.keys(entry).length) categories[cat] = entry;
    else delete categories[cat];
  }
  const parsed = preferencesSchema.safeParse({ channels: channelSwitches, categories });
  return parsed.success ? parsed.data : undefined;
}
