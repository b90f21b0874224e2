import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../appContext';
import type { SqlClient } from '../db/sqlClient';
import { writeAuditRow, type AuditActor, type AuditEntry, type AuditInTx } from '../audit/auditLog';

type RequestEntry = Omit<AuditEntry, 'actor' | 'requestId'>;

export interface AuditTrail {
  /**
   * The audit row of the change a service makes for `req`, for the service to write in that change's
   * transaction, from what the change returns.
   */
  inTx<T>(req: FastifyRequest, entryOf: (result: T) => RequestEntry): AuditInTx<T>;
  /** Runs a raw-SQL change and writes its audit row in one transaction; returns what the change did. */
  sqlChange<T>(
    req: FastifyRequest,
    change: (tx: SqlClient) => Promise<T>,
    entryOf: (result: T) => RequestEntry,
  ): Promise<T>;
  /** Records an action that has no transaction to join (a publish, a test send), after it. */
  after(req: FastifyRequest, entry: RequestEntry): Promise<void>;
}

/**
 * Audit rows of the admin changes requests make, with the key that made each (never the key itself)
 * and the request id that ties the row to the request's log lines.
 */
export function auditTrail(ctx: AppContext): AuditTrail {
  const actorOf = (req: FastifyRequest, action: string): AuditActor => {
    const p = req.principal;
    // Every audited route is admin-scoped, so /v1's hook has refused a request without a key.
    if (!p) throw new Error(`${action} ran without an authenticated key`);
    return { id: p.id, name: p.name };
  };
  const inTx: AuditTrail['inTx'] = (req, entryOf) => async (tx, result) => {
    const entry = entryOf(result);
    await writeAuditRow(tx, { ...entry, actor: actorOf(req, entry.action), requestId: req.id });
  };
  return {
    inTx,
    sqlChange: (req, change, entryOf) =>
      ctx.db.sql.transaction(async (tx) => {
        const result = await change(tx);
        await inTx(req, entryOf)({ sql: tx }, result);
        return result;
      }),
    after: (req, entry) =>
      ctx.services.audit.record({ ...entry, actor: actorOf(req, entry.action), requestId: req.id }),
  };
}
