import { z } from 'zod';
import { SEVERITIES } from './inboxItem';

/** What a tab, a list or a bulk change selects on; `tags` and `severity` match any of the values. */
export const inboxFilterSchema = z
  .object({
    category: z.string().min(1).max(100).optional(),
    tags: z.array(z.string().min(1).max(100)).min(1).max(20).optional(),
    severity: z.array(z.enum(SEVERITIES)).min(1).max(4).optional(),
  })
  .strict();
export type InboxFilter = z.infer<typeof inboxFilterSchema>;

/** A filter as the client gives it: its own fields, or the name of a declared tab. */
export const filterRefSchema = z.union([
  z.object({ tab: z.string().min(1).max(64) }).strict(),
  inboxFilterSchema,
]);
export type FilterRef = z.infer<typeof filterRefSchema>;

/** The fields of an item a filter looks at. */
export interface Filterable {
  category: string | null;
  tags: readonly string[];
  severity: string;
}

export function matchesFilter(f: InboxFilter, item: Filterable): boolean {
  if (f.category !== undefined && item.category !== f.category) return false;
  if (f.tags && !f.tags.some((t) => item.tags.includes(t))) return false;
  if (f.severity && !f.severity.includes(item.severity as (typeof SEVERITIES)[number])) return false;
  return true;
}

/** The SQL condition of a filter on "InboxItem" (aliased `alias`), its values appended to `params`. */
export function filterSql(f: InboxFilter, params: unknown[], alias = '"InboxItem"'): string {
  const parts: string[] = [];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    parts.push(sql.replace('?', `$${params.length}`));
  };
  if (f.category !== undefined) add(`${alias}.category = ?`, f.category);
  if (f.tags) add(`${alias}.tags && ?::text[]`, f.tags);
  if (f.severity) add(`${alias}.severity = ANY(?::text[])`, f.severity);
  return parts.length ? parts.join(' AND ') : 'TRUE';
}
