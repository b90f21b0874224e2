import type { ChannelName, Envelope } from '../contract/envelope';
import type { PlannedDelivery } from '../delivery/deliveryState';
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

/**
 * Per channel, by its fan-out: one delivery per recipient, or one per envelope for a group post (which
 * mentions the recipients). A recipient without the channel's address is `skipped`, with why.
 */
export function planDeliveries(envelope: Envelope, channels: readonly ChannelName[]): PlannedDelivery[] {
  const out: PlannedDelivery[] = [];
  for (const channel of channels) {
    const def = channelByName.get(channel);
    if (!def) throw new Error(`channel ${channel} is not registered`);
    if (def.fanOut === 'group') {
      out.push({ channel, recipientIndex: -1, status: 'queued' });
      continue;
    }
    envelope.to.forEach((r, recipientIndex) => {
      const base = { channel, recipientIndex, userId: r.userId, email: r.email };
      if (!def.address(r)) out.push({ ...base, status: 'skipped', reason: def.missingAddress });
      else out.push({ ...base, status: 'queued' });
    });
  }
  return out;
}
