import type { ChannelName, Envelope, Recipient } from '../contract/envelope';
import type { PlannedDelivery } from '../delivery/deliveryState';
import { optedOut } from '../audience/preferences';
import type { Target } from '../audience/recipients';
import type { StoredSubscriber } from '../audience/subscriberStore';
import { channelByName } from '../senders/registry';

export type { PlannedDelivery };

/** The channels an envelope goes out on: the template's, narrowed by `envelope.channels`. */
export function selectChannels(
  envelope: Envelope,
  templateChannels: readonly ChannelName[],
): { channels: ChannelName[] } | { unknown: ChannelName[] } {
  if (!envelope.channels) return { channels: [...templateChannels] };
  const unknown = envelope.channels.filter((c) => !templateChannels.includes(c));
  if (unknown.length) return { unknown };
  return { channels: [...new Set(envelope.channels)] };
}

export const GROUP_KEY = 'group';

/** What a delivery is unique by within its message and channel (see Delivery.recipientKey). */
function recipientKeyOf(address: string | undefined, target: Target): string {
  if (target.recipient.userId) return `user:${target.recipient.userId}`;
  if (address) return `address:${address}`;
  return `index:${target.index ?? -1}`;
}

/** The template's settings that decide, per person, whether a delivery is made at all. */
export interface AudienceRules {
  category: string | null;
  critical: boolean;
}

export interface Plan {
  planned: PlannedDelivery[];
  /** The recipient of each planned delivery, by `${channel} ${recipientKey}`; none for a group post. */
  recipients: Map<string, Recipient>;
  /** The directory entry of each planned delivery's person who has one, keyed as `recipients`. */
  subscribers: Map<string, StoredSubscriber>;
}

export const planKey = (channel: string, recipientKey: string): string => `${channel} ${recipientKey}`;

/**
 * Per channel, by its fan-out: one delivery per person (a user id, else an address; the first mention
 * wins), or one per envelope for a group post (`group`: the robot's post, which follows the group's
 * settings, not a person's). A person without the channel's address is `skipped` with why; one who turned
 * the channel or the template's category off is `skipped` with `preference`, unless the template is
 * critical. This is the first of the audience rules (see dispatch.ts sendDue for their order).
 */
export function planDeliveries(
  targets: readonly Target[],
  channels: readonly ChannelName[],
  opts: { group: boolean; rules: AudienceRules },
): Plan {
  const planned: PlannedDelivery[] = [];
  const recipients = new Map<string, Recipient>();
  const subscribers = new Map<string, StoredSubscriber>();
  for (const channel of channels) {
    const def = channelByName.get(channel);
    if (!def) throw new Error(`channel ${channel} is not registered`);
    if (def.fanOut === 'group') {
      if (opts.group)
        planned.push({ channel, recipientIndex: -1, recipientKey: GROUP_KEY, status: 'queued' });
      continue;
    }
    for (const target of targets) {
      const r = target.recipient;
      const address = def.address(r);
      const recipientKey = recipientKeyOf(address, target);
      const key = planKey(channel, recipientKey);
      if (recipients.has(key)) continue;
      recipients.set(key, r);
      if (target.subscriber) subscribers.set(key, target.subscriber);
      const base = { channel, recipientIndex: target.index, recipientKey, userId: r.userId, email: r.email };
      if (
        !opts.rules.critical &&
        target.subscriber &&
        optedOut(target.subscriber.preferences, channel, opts.rules.category)
      )
        planned.push({ ...base, status: 'skipped', reason: 'preference' });
      else if (!address) planned.push({ ...base, status: 'skipped', reason: def.missingAddress });
      else planned.push({ ...base, status: 'queued' });
    }
  }
  return { planned, recipients, subscribers };
}
