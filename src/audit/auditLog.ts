import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { SqlClient } from '../db/sqlClient';
import type { AuditEvent, Prisma, PrismaClient } from '../generated/prisma/client';
import type { AuditAction, AuditTargetType } from './auditTypes';

export { AUDIT_ACTIONS, AUDIT_TARGET_TYPES, type AuditAction, type AuditTargetType } from './auditTypes';

/** Who acted: an API key (its id and name), `bootstrap:<n>` for an admin token, `cli:<user>` for the CLI. */
export interface AuditActor {
  id: string;
  name: string;
}

export interface AuditEntry {
  actor: AuditActor;
  action: AuditAction;
  target: { type: AuditTargetType; id: string };
  /** Views as the API shows them (never a secret): templates and accounts before and after the change. */
  before?: unknown;
  after?: unknown;
  /** What else says what happened: the secrets a write changed (by name), how many were purged, … */
  detail?: unknown;
  requestId?: string;
}

export interface AuditQuery {
  limit: number;
  /** (at, id) of the last event of the previous page. */
  after?: { at: Date; id: string };
  actorId?: string;
  targetType?: AuditTargetType;
  targetId?: string;
  since?: Date;
}

/** The transaction of a change, Prisma's or raw SQL's, that its audit row is written in. */
export type AuditTx = { prisma: Prisma.TransactionClient } | { sql: SqlClient };

/**
 * Writes the audit row of a change in the change's own transaction, from what the change made: a
 * service that takes one calls it before its commit, so there is never a change without its row, nor a
 * row for a change that rolled back.
 */
export type AuditInTx<T> = (tx: AuditTx, result: T) => Promise<void>;

/** Append-only: there is no update or delete here, and the database refuses both (see its migration). */
export interface AuditLog {
  /**
   * Records a change that has no transaction to join (a publish to RabbitMQ): written after it, so a
   * crash in between leaves the change unrecorded, never a row for a change that did not happen.
   */
  record(entry: AuditEntry): Promise<void>;
  list(query: AuditQuery): Promise<AuditEvent[]>;
}

// Dates become ISO strings and undefined fields disappear, as in the API's own answers.
const asJson = (v: unknown) => (v === undefined ? undefined : (JSON.parse(JSON.stringify(v)) as object));

/** Appends one audit row through `tx`, inside whatever transaction `tx` is. */
export async function writeAuditRow(tx: AuditTx, e: AuditEntry): Promise<void> {
  const before = asJson(e.before);
  const after = asJson(e.after);
  const detail = asJson(e.detail);
  if ('sql' in tx) {
    const text = (v: object | undefined) => (v === undefined ? null : JSON.stringify(v));
    await tx.sql.query(
      `INSERT INTO "AuditEvent" (id, "actorId", "actorName", action, "targetType", "targetId", before, after, detail, "requestId")
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9::jsonb, $10)`,
      [
        randomUUID(),
        e.actor.id,
        e.actor.name,
        e.action,
        e.target.type,
        e.target.id,
        text(before),
        text(after),
        text(detail),
        e.requestId ?? null,
      ],
    );
    return;
  }
  await tx.prisma.auditEvent.create({
    data: {
      actorId: e.actor.id,
      actorName: e.actor.name,
      action: e.action,
      targetType: e.target.type,
      targetId: e.target.id,
      before,
      after,
      detail,
      requestId: e.requestId,
    },
  });
}

export function createAuditLog(prisma: PrismaClient): AuditLog {
  return {
    record: (e) => writeAuditRow({ prisma }, e),

    async list(q) {
      return prisma.auditEvent.findMany({
        where: {
          actorId: q.actorId,
          targetType: q.targetType,
          targetId: q.targetId,
          ...(q.since ? { at: { gte: q.since } } : {}),
          ...(q.after
            ? { OR: [{ at: { lt: q.after.at } }, { at: q.after.at, id: { lt: q.after.id } }] }
            : {}),
        },
        orderBy: [{ at: 'desc' }, { id: 'desc' }],
        take: q.limit,
      });
    },
  };
}

/** The actor of a CLI command: the operating-system user who ran it. */
export function cliActor(): AuditActor {
  let user = 'unknown';
  try {
    user = os.userInfo().username;
  } catch {
    // No passwd entry (some containers): still a CLI action, just not whose.
  }
  return { id: `cli:${user}`, name: `cli:${user}` };
}
