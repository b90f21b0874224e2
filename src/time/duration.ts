const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A duration like `500ms`, `90s`, `15m`, `2h` or `7d`. */
export const DURATION_PATTERN = /^(\d{1,12})(ms|s|m|h|d)$/;

/** Milliseconds of a duration matching DURATION_PATTERN; throws on anything else. */
export function parseDuration(text: string): number {
  const m = DURATION_PATTERN.exec(text);
  if (!m) throw new Error(`"${text}" is not a duration like 15m, 2h or 7d`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}
