import type { ChannelName } from '../contract/envelope';
import { channelByName } from '../senders/registry';
import type { RenderedParts, ResolvedTemplate } from './dispatchTypes';

type RenderInput = Parameters<ResolvedTemplate['render']>[0];

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');
const more = (n: number) => `\n… and ${n} more`;

/** The longest prefix of `text` within `limit` bytes, cut between characters. */
function cutToBytes(text: string, limit: number): string {
  let out = '';
  let used = 0;
  for (const ch of text) {
    used += bytes(ch);
    if (used > limit) break;
    out += ch;
  }
  return out;
}

/** A digest message's data: the collected events and how many there were. */
export function digestEvents(
  data: Record<string, unknown>,
): { events: unknown[]; count: number } | undefined {
  const { events, count } = data;
  return Array.isArray(events) && typeof count === 'number' ? { events, count } : undefined;
}

/**
 * A digest's parts, each within its channel's text limit: a part over it is rendered again with the most
 * events that fit beside "… and N more" (N the events left out), so the vendor never refuses it. Parts
 * within their limits, and channels without one (mail), are as rendered.
 */
export async function fitDigestParts(
  parts: RenderedParts,
  input: RenderInput,
  render: ResolvedTemplate['render'],
): Promise<RenderedParts> {
  const digest = digestEvents(input.data);
  if (!digest) return parts;
  const out: Record<string, unknown> = { ...parts };
  for (const [channel, part] of Object.entries(parts) as Array<[ChannelName, Record<string, unknown>]>) {
    const limit = channelByName.get(channel)?.textLimit?.(part as never);
    const text = limit && part[limit.field];
    if (!limit || typeof text !== 'string' || bytes(text) <= limit.bytes) continue;
    const renderWith = async (shown: number) => {
      const data = { ...input.data, events: digest.events.slice(0, shown) };
      const again = (await render({ ...input, data, channels: [channel] })) as Record<
        string,
        Record<string, unknown>
      >;
      return `${String(again[channel]?.[limit.field] ?? '')}${more(digest.count - shown)}`;
    };
    // The most events that fit: a binary search over how many are shown.
    let best: string | undefined;
    let lo = 0;
    let hi = digest.events.length - 1;
    while (lo <= hi) {
      const mid = Math.floor((lo + hi) / 2);
      const candidate = await renderWith(mid);
      if (bytes(candidate) <= limit.bytes) {
        best = candidate;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    // Even no event fits (a long fixed text): cut the text itself.
    const suffix = more(digest.count);
    out[channel] = {
      ...part,
      [limit.field]: best ?? `${cutToBytes(text, Math.max(0, limit.bytes - bytes(suffix)))}${suffix}`,
    };
  }
  return out as RenderedParts;
}
