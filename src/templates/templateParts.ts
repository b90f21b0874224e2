import { CHANNELS, type ChannelName } from '../contract/envelope';
import type { TemplateChannels, TemplateLocales } from '../contract/template';
import type { AnyChannel } from '../senders/channel';
import { channelByName } from '../senders/registry';

type Part = Record<string, unknown>;

export interface TextField {
  /** `subject`, or `data.key` for a string value of a record field. */
  field: string;
  source: string;
  /** Rendered as HTML (escaping output by default), not text. */
  html: boolean;
}

function definitionOf(channel: ChannelName): AnyChannel {
  const def = channelByName.get(channel);
  if (!def) throw new Error(`channel ${channel} is not registered`);
  return def;
}

/**
 * The template texts of one channel part, by field, in the part schema's field order; fields the
 * channel does not declare as text, HTML or record fields (`account`, `msgtype`) are names, not texts.
 */
export function textFields(channel: ChannelName, part: Part): TextField[] {
  const def = definitionOf(channel);
  const html = new Set<string>(def.htmlFields ?? []);
  const text = new Set<string>([...def.textFields, ...html]);
  const out: TextField[] = [];
  for (const field of Object.keys(def.part.shape)) {
    const value = part[field];
    if (text.has(field) && typeof value === 'string')
      out.push({ field, source: value, html: html.has(field) });
  }
  for (const record of def.recordFields ?? []) {
    const value = part[record];
    if (!value || typeof value !== 'object') continue;
    for (const [key, v] of Object.entries(value)) {
      if (typeof v === 'string') out.push({ field: `${record}.${key}`, source: v, html: false });
    }
  }
  return out;
}

/** The record fields of a channel part (their string values are rendered one by one). */
export function recordFields(channel: ChannelName): readonly string[] {
  return definitionOf(channel).recordFields ?? [];
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
