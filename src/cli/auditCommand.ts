import { createAuditLog } from '../audit/auditLog';
import type { Config } from '../config/loadConfig';
import { withInfra } from './withInfra';

const USAGE = 'usage: herald audit [limit]';

/** `herald audit [limit]`: the newest admin changes, one line each, as GET /v1/audit lists them. */
export async function auditCommand(
  config: Config,
  [limit]: string[],
  out: (line: string) => void,
): Promise<number> {
  const n = limit === undefined ? 50 : Number(limit);
  if (!Number.isInteger(n) || n < 1 || n > 1000) {
    out(USAGE);
    return 2;
  }
  return withInfra(config, async (db) => {
    const rows = await createAuditLog(db.prisma).list({ limit: n });
    if (!rows.length) out('no audit events');
    for (const r of rows)
      out(`${r.at.toISOString()}  ${r.actorName}  ${r.action}  ${r.targetType}:${r.targetId}`);
    return 0;
  });
}
