/**
 * PostgreSQL text and jsonb cannot hold U+0000: a NUL that reaches the database fails there (a 500, or a
 * consumer crash that records nothing). Every boundary refuses it first, naming where it was.
 */
export const NUL_MESSAGE = 'must not contain a NUL character (\\u0000)';

export type FieldPath = Array<string | number>;

/** The path of the first string or object key holding a NUL, or undefined; walks iteratively (no stack limit). */
export function findNul(value: unknown): FieldPath | undefined {
  const stack: Array<{ value: unknown; path: FieldPath }> = [{ value, path: [] }];
  while (stack.length) {
    const { value: v, path } = stack.pop() as { value: unknown; path: FieldPath };
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return path;
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], path: [...path, i] });
    } else if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i] as [string, unknown];
        if (key.includes('\u0000')) return [...path, key];
        stack.push({ value: child, path: [...path, key] });
      }
    }
  }
  return undefined;
}

/** Text bound for the database with any NUL spelled out, for what is recorded rather than refused. */
export const spellOutNul = (text: string): string => text.replaceAll('\u0000', '\\u0000');
