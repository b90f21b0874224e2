import type { SqlClient } from '../db/sqlClient';

/** At most this many categories are offered on one page (a workspace with more has other problems). */
const MAX_CATEGORIES = 200;

/**
 * The categories a person may switch off: those of active, non-critical templates (critical ones ignore
 * the switch), plus any the person's preferences already name, in name order.
 */
export async function offeredCategories(sql: SqlClient, alsoNamed: readonly string[]): Promise<string[]> {
  const { rows } = await sql.query<{ category: string }>(
    `SELECT DISTINCT v.category FROM "Template" t
       JOIN "TemplateVersion" v ON v."templateId" = t.id AND v.version = t."currentVersion"
      WHERE t.status = 'active' AND v.category IS NOT NULL AND NOT v.critical
      ORDER BY v.category LIMIT ${MAX_CATEGORIES}`,
  );
  return [...new Set([...rows.map((r) => r.category), ...alsoNamed])].sort();
}
