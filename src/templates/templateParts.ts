import { CHANNELS, type ChannelName } from '../contract/envelope';
import type { TemplateChannels, TemplateLocales } from '../contract/template';

type Part = Record<string, unknown>;

/** The template texts of one channel part, by field; `account` and `msgtype` are names, not texts. */
export function textFields(channel: ChannelName, part: Part): Array<{ field: string; source: string }> {
  const names =
    channel === 'mail'
      ? ['subject', 'html', 'text']
      : channel === 'dingtalk'
        ? ['title', 'text', 'url', 'picUrl', 'btnTitle']
        : ['title', 'body', 'url', 'category'];
  const out: Array<{ field: string; source: string }> = [];
  for (const field of names) {
    const value = part[field];
    if (typeof value === 'string') out.push({ field, source: value });
  }
  const data = part.data;
  if (channel === 'im' && data && typeof data === 'object') {
    for (const [key, value] of Object.entries(data)) {
      if (typeof value === 'string') out.push({ field: `data.${key}`, source: value });
    }
  }
  return out;
}

/**
 * The locale override to use: each candidate in order (recipient's, then the message's), matched
 * exactly, then by its primary language ("zh-CN" falls back to "zh"). Undefined means the base parts.
 */
export function resolveLocale(
  locales: TemplateLocales,
  candidates: ReadonlyArray<string | undefined>,
): string | undefined {
  const keys = Object.keys(locales);
  if (keys.length === 0) return undefined;
  const byLower = new Map(keys.map((k) => [k.toLowerCase(), k]));
  for (const candidate of candidates) {
    if (!candidate) continue;
    const lower = candidate.toLowerCase();
    const exact = byLower.get(lower);
    if (exact) return exact;
    const primary = byLower.get(lower.split('-')[0] ?? lower);
    if (primary) return primary;
  }
  return undefined;
}

/** The base channel parts with one locale's overrides merged over them field by field. */
export function mergeLocale(
  channels: TemplateChannels,
  locales: TemplateLocales,
  locale: string | undefined,
): TemplateChannels {
  const override = locale ? locales[locale] : undefined;
  if (!override) return channels;
  const merged: Record<string, Part> = {};
  for (const ch of CHANNELS) {
    const base = channels[ch];
    if (base) merged[ch] = { ...base, ...stripUndefined(override[ch] ?? {}) };
  }
  return merged as TemplateChannels;
}

function stripUndefined(o: Part): Part {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}
