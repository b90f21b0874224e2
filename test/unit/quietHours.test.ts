import { quietUntil } from '../../src/audience/quietHours';
import { ConfigError, loadConfig } from '../../src/config/loadConfig';
import { quietHoursSchema } from '../../src/contract/subscriber';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

describe('quietUntil: the end of the quiet hours an instant falls in', () => {
  const night = { from: '22:00', to: '08:00' };

  it('spans midnight in the given zone: inside until the next local 08:00, outside otherwise', () => {
    // 23:30 in Shanghai (UTC+8) = 15:30Z; the window ends at 08:00 local = 00:00Z the next day.
    expect(iso(quietUntil(night, 'Asia/Shanghai', at('2026-12-01T15:30:00.250Z')))).toBe(
      '2026-12-02T00:00:00.000Z',
    );
    // 06:00 local, after midnight, still inside.
    expect(iso(quietUntil(night, 'Asia/Shanghai', at('2026-12-01T22:00:00Z')))).toBe(
      '2026-12-02T00:00:00.000Z',
    );
    // The same instants read in UTC (15:30, 22:00 → inside only the second) differ: the zone decides.
    expect(quietUntil(night, 'UTC', at('2026-12-01T15:30:00Z'))).toBeUndefined();
    expect(iso(quietUntil(night, 'UTC', at('2026-12-01T22:00:00Z')))).toBe('2026-12-02T08:00:00.000Z');
  });

  it('takes from inclusive and to exclusive, and windows inside one day', () => {
    const lunch = { from: '12:00', to: '13:30' };
    expect(iso(quietUntil(lunch, 'UTC', at('2026-12-01T12:00:00Z')))).toBe('2026-12-01T13:30:00.000Z');
    expect(quietUntil(lunch, 'UTC', at('2026-12-01T13:30:00Z'))).toBeUndefined();
    expect(quietUntil(lunch, 'UTC', at('2026-12-01T11:59:59.999Z'))).toBeUndefined();
  });

  it('reads seconds and zones with quarter-hour offsets (a window a few seconds long)', () => {
    // Kathmandu is UTC+05:45: 10:00:00Z is 15:45:00 there.
    const short = { from: '15:44:00', to: '15:45:04' };
    expect(iso(quietUntil(short, 'Asia/Kathmandu', at('2026-12-01T10:00:00.700Z')))).toBe(
      '2026-12-01T10:00:04.000Z',
    );
    expect(quietUntil(short, 'Asia/Kathmandu', at('2026-12-01T10:00:04Z'))).toBeUndefined();
  });

  it('ends when the local clock reads `to` across a daylight-saving change', () => {
    // New York springs forward on 2026-03-08 (02:00 EST → 03:00 EDT): 08:00 EDT is 12:00Z, not 13:00Z.
    expect(iso(quietUntil(night, 'America/New_York', at('2026-03-08T04:00:00Z')))).toBe(
      '2026-03-08T12:00:00.000Z',
    );
    // And falls back on 2026-11-01 (02:00 EDT → 01:00 EST): 08:00 EST is 13:00Z.
    expect(iso(quietUntil(night, 'America/New_York', at('2026-11-01T03:00:00Z')))).toBe(
      '2026-11-01T13:00:00.000Z',
    );
  });

  it('refuses windows that are no window', () => {
    expect(quietHoursSchema.safeParse({ from: '22:00', to: '22:00:00' }).success).toBe(false);
    expect(quietHoursSchema.safeParse({ from: '24:00', to: '08:00' }).success).toBe(false);
    expect(quietHoursSchema.safeParse({ from: '22:00:30', to: '08:00' }).success).toBe(true);
  });
});

describe('HERALD_QUIET_HOURS and HERALD_QUIET_HOURS_TIMEZONE', () => {
  it('are unset and UTC by default, and parse from-to', () => {
    const none = loadConfig({});
    expect(none.HERALD_QUIET_HOURS).toBeUndefined();
    expect(none.HERALD_QUIET_HOURS_TIMEZONE).toBe('UTC');
    const set = loadConfig({
      HERALD_QUIET_HOURS: '22:00-07:30',
      HERALD_QUIET_HOURS_TIMEZONE: 'Asia/Shanghai',
    });
    expect(set.HERALD_QUIET_HOURS).toEqual({ from: '22:00', to: '07:30' });
    expect(set.HERALD_QUIET_HOURS_TIMEZONE).toBe('Asia/Shanghai');
  });

  it('name what is wrong with them', () => {
    let error: unknown;
    try {
      loadConfig({ HERALD_QUIET_HOURS: '22:00', HERALD_QUIET_HOURS_TIMEZONE: 'Mars/Olympus' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems.some((p) => /^HERALD_QUIET_HOURS\b(?!_)/.test(p))).toBe(true);
    expect(problems.some((p) => /^HERALD_QUIET_HOURS_TIMEZONE: must be an IANA time zone/.test(p))).toBe(
      true,
    );
  });
});
