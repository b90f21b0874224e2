import type { Database } from '../../db/database';

export type BudgetAnswer =
  | {
      ok: true;
      /** Call when the request is answered (or given up): the send then counts from that moment. */
      settle(): Promise<void>;
    }
  | { ok: false; retryAfterMs: number };

export interface RobotBudget {
  readonly perWindow: number;
  readonly windowMs: number;
  /** Takes one send from the robot's budget, or says how long until one is free. */
  acquire(account: string): Promise<BudgetAnswer>;
}

export interface RobotBudgetOptions {
  /** Sends allowed per robot within any window (DingTalk: 20). */
  perWindow?: number;
  /** The sliding window (DingTalk: one minute). */
  windowMs?: number;
}

/** Rows older than this are no longer needed by any window and are deleted as sends go by. */
const KEEP_MS = 5 * 60_000;

/**
 * A per-robot sliding-window budget kept in PostgreSQL (table "RobotSend"), so every consumer instance
 * draws from the same one. The advisory lock serialises acquirers of one robot for the length of the
 * transaction; times come from the database clock so instances with skewed clocks still agree.
 *
 * A send is recorded when it is acquired and moved to the time its answer came back by `settle()`:
 * DingTalk counts a message when it arrives, somewhere in between, so counting from the later time keeps
 * a request that was slow on the wire from letting the next window's sends overtake it.
 */
export function createRobotBudget(db: Database, opts: RobotBudgetOptions = {}): RobotBudget {
  const perWindow = opts.perWindow ?? 20;
  const windowMs = opts.windowMs ?? 60_000;
  const keepMs = Math.max(KEEP_MS, windowMs * 2);

  return {
    perWindow,
    windowMs,
    acquire: (account) =>
      db.sql.transaction(async (tx): Promise<BudgetAnswer> => {
        await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`herald.robot:${account}`]);
        // clock_timestamp(), not now(): now() is the transaction start, before the wait for the lock.
        const { rows } = await tx.query<{ n: number; wait_ms: number | null }>(
          `WITH c AS (SELECT clock_timestamp() AS t)
           SELECT count(*)::int AS n,
                  ceil(extract(epoch FROM min(s."sentAt") - c.t) * 1000 + $2::int)::int AS wait_ms
             FROM "RobotSend" s, c
            WHERE s.account = $1 AND s."sentAt" > c.t - make_interval(secs => $2::int / 1000.0)
            GROUP BY c.t`,
          [account, windowMs],
        );
        const used = rows[0]?.n ?? 0;
        if (used >= perWindow) {
          const wait = rows[0]?.wait_ms ?? windowMs;
          return { ok: false, retryAfterMs: Math.min(windowMs, Math.max(1, wait)) };
        }
        await tx.query(
          `DELETE FROM "RobotSend" WHERE account = $1 AND "sentAt" < clock_timestamp() - make_interval(secs => $2::int / 1000.0)`,
          [account, keepMs],
        );
        const inserted = await tx.query<{ id: string }>(
          `INSERT INTO "RobotSend" (account, "sentAt") VALUES ($1, clock_timestamp()) RETURNING id::text AS id`,
          [account],
        );
        const id = inserted.rows[0]?.id;
        return {
          ok: true,
          settle: async () => {
            await db.sql.query(`UPDATE "RobotSend" SET "sentAt" = clock_timestamp() WHERE id = $1::bigint`, [
              id,
            ]);
          },
        };
      }),
  };
}
