import { clockSeconds, type QuietHours } from '../contract/subscriber';

const DAY_S = 86_400;
const formatters = new Map<string, Intl.DateTimeFormat>();

/** Seconds after local midnight of an instant in an IANA time zone. */
function localSecondOfDay(at: number, timeZone: string): number {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  const parts = f.formatToParts(new Date(at));
  const part = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return (part('hour') % 24) * 3600 + part('minute') * 60 + part('second');
}

/** A difference of local clock readings folded into [-12 h, 12 h). */
const folded = (seconds: number): number => ((((seconds + DAY_S / 2) % DAY_S) + DAY_S) % DAY_S) - DAY_S / 2;

/**
 * When the quiet hours that `now` falls in end (the next local `to` in `timeZone`), or undefined when
 * `now` is outside them. `from` is inclusive, `to` exclusive; a window with from after to spans midnight.
 * A daylight-saving change before the end is allowed for: the end is the instant the local clock reads
 * `to` (or, when that reading is skipped, the hour after).
 */
export function quietUntil(window: QuietHours, timeZone: string, now: number): number | undefined {
  const at = localSecondOfDay(now, timeZone);
  const from = clockSeconds(window.from);
  const to = clockSeconds(window.to);
  const inside = from < to ? at >= from && at < to : at >= from || at < to;
  if (!inside) return undefined;
  const wholeSecond = now - (((now % 1000) + 1000) % 1000);
  const naive = wholeSecond + ((to - at + DAY_S) % DAY_S) * 1000;
  // The offset may change before the end (DST): move by what the local clock reads off by there.
  const corrected = naive - folded(localSecondOfDay(naive, timeZone) - to) * 1000;
  return corrected > now ? corrected : naive;
}
