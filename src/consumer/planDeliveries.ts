import type { ChannelName, Envelope } from '../contract/envelope';

export interface PlannedDelivery {
  channel: ChannelName;
  /** Index into envelope.to; -1 for the one DingTalk group post. */
  recipientIndex: number;
  userId?: string;
  email?: string;
  status: 'queued' | 'skipped';
  reason?: string;
}

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
 * One delivery per recipient for mail and IM, one per envelope for DingTalk (the robot posts into one
 * group and @mentions recipients). A recipient without an address for a channel is `skipped` with why.
 */
export function planDeliveries(envelope: Envelope, channels: readonly ChannelName[]): PlannedDelivery[] {
  const out: PlannedDelivery[] = [];
  for (const channel of channels) {
    if (channel === 'dingtalk') {
      out.push({ channel, recipientIndex: -1, status: 'queued' });
      continue;
    }
    envelope.to.forEach((r, recipientIndex) => {
      const base = { channel, recipientIndex, userId: r.userId, email: r.email };
      if (channel === 'mail' && !r.email)
        out.push({ ...base, status: 'skipped', reason: 'recipient has no email address' });
      else if (channel === 'im' && !r.userId)
        out.push({ ...base, status: 'skipped', reason: 'recipient has no userId for in-site messages' });
      else out.push({ ...base, status: 'queued' });
    });
  }
  return out;
}
