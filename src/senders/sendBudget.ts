import type { Database } from '../db/database';
import type { SqlClient } from '../db/sqlClient';

/** At most `limit` sends within any sliding `windowMs`. */
export interface BudgetWindow {
  limit: number;
  windowMs: number;
}

export type BudgetAnswer =
  | {
      ok: true;
      /** Call when the request is answered (or given up): the send then counts from that moment. */
      settle(): Promise<void>;
    }
  | { ok: false; retryAfterMs: number; reason: string };

export interface SendBudget {
  readonly windows: readonly BudgetWindow[];
  /** Takes one send from the account's budget, or says how long until one is free. */
  acquire(account: string): Promise<BudgetAnswer>;
  /**
   * Holds every send of the account for `ms` (a vendor's penalty after "too fast"), for all instances.
   * A longer hold already in place is kept.
   */
  hold(account: string, ms: number, reason: string): Promise<void>;
}

export interface SendBudgetOptions {
  windows: readonly BudgetWindow[];
  /**
   * Prefix of the budget key, so accounts of different vendors never share a budget
   * (`feishu-robot` → key `feishu-robot:<account>`). Empty keeps the bare account name.
   */
  scope?: string;
}

/**
 * How long after a send leaves the window by our clock its slot is given again: 2 % of the window. The vendor
 * counts by its own clock when a request arrives; our send time is the answer's, later by the trip, but a
 * clock stepped or running apart from the vendor's over a minute can eat that, and one request over the
 * limit costs DingTalk's ten-minute block.
 */
export const slotMarginMs = (w: BudgetWindow): number => Math.ceil(w.windowMs / 50);

/** Rows older than this are no longer needed by any window and are deleted as sends go by. */
const KEEP_MS = 5 * 60_000;

/**
 * A per-account sliding-window budget kept in PostgreSQL (table "RobotSend"; holds in "SendHold"), so every
 * consumer instance draws from the same one. The advisory lock serialises acquirers of one account for the
 * length of the transaction; times come from the database clock so instances with skewed clocks still agree.
 *
 * A send is recorded when it is acquired and moved to the time its answer came back by `settle()`: vendors
 * count a message when it arrives, somewhere in between, so counting from the later time keeps a request
 * that was slow on the wire from letting the next window's sends overtake it.
 */
export function createSendBudget(db: Database, opts: SendBudgetOptions): SendBudget {
  if (opts.windows.length === 0) throw new Error('a send budget needs at least one window');
  for (const w of opts.windows) {
    if (!Number.isInteger(w.limit) || w.limit < 1 || !Number.isInteger(w.windowMs) || w.windowMs < 1)
      throw new Error(`invalid budget window ${JSON.stringify(w)}`);
  }
  const windows = [...opts.windows];
  const keepMs = Math.max(KEEP_MS, ...windows.map((w) => w.windowMs * 2));
  const keyOf = (account: string) => (opts.scope ? `${opts.scope}:${account}` : account);
  const spent = windows.map((w) => `budget spent: ${w.limit} per ${describeWindow(w.windowMs)}`);

  return {
    windows,
    acquire: (account) =>
      db.sql.transaction(async (tx): Promise<BudgetAnswer> => {
        const key = keyOf(account);
        await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`herald.robot:${key}`]);
        const held = await activeHold(tx, key);
        if (held) return { ok: false, retryAfterMs: held.waitMs, reason: held.reason };
        for (const [i, w] of windows.entries()) {
          const waitMs = await windowWait(tx, key, w);
          if (waitMs !== undefined) return { ok: false, retryAfterMs: waitMs, reason: spent[i]! };
        }
        await tx.query(
          `DELETE FROM "RobotSend" WHERE account = $1 AND "sentAt" < clock_timestamp() - make_interval(secs => $2::int / 1000.0)`,
          [key, keepMs],
        );
        const inserted = await tx.query<{ id: string }>(
          `INSERT INTO "RobotSend" (account, "sentAt") VALUES ($1, clock_timestamp()) RETURNING id::text AS id`,
          [key],
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
    async hold(account, ms, reason) {
      await db.sql.query(
        `INSERT INTO "SendHold" (key, "until", reason)
         VALUES ($1, clock_timestamp() + make_interval(secs => $2::int / 1000.0), $3)
         ON CONFLICT (key) DO UPDATE
           SET "until" = GREATEST("SendHold"."until", EXCLUDED."until"),
               reason = CASE WHEN EXCLUDED."until" > "SendHold"."until" THEN EXCLUDED.reason ELSE "SendHold".reason END`,
        [keyOf(account), Math.max(1, Math.round(ms)), reason],
      );
    },
  };
}

async function activeHold(
  tx: SqlClient,
  key: string,
): Promise<{ waitMs: number; reason: string } | undefined> {
  const { rows } = await tx.query<{ wait_ms: number; reason: string }>(
    `SELECT ceil(extract(epoch FROM "until" - clock_timestamp()) * 1000)::int AS wait_ms, reason
       FROM "SendHold" WHERE key = $1 AND "until" > clock_timestamp()`,
    [key],
  );
  const row = rows[0];
  return row ? { waitMs: Math.max(1, row.wait_ms), reason: row.reason } : undefined;
}

/**
 * Undefined when the window has room; else how long until it has: the `limit`-th most recent send
 * leaving the window (and the margin after it) is what frees a slot.
 */
async function windowWait(tx: SqlClient, key: string, w: BudgetWindow): Promise<number | undefined> {
  const spanMs = w.windowMs + slotMarginMs(w);
  const { rows } = await tx.query<{ n: number; wait_ms: number | null }>(
    `WITH c AS (SELECT clock_timestamp() AS t),
          s AS (SELECT r."sentAt" FROM "RobotSend" r, c
                 WHERE r.account = $1 AND r."sentAt" > c.t - make_interval(secs => $2::int / 1000.0))
     SELECT (SELECT count(*)::int FROM s) AS n,
            (SELECT ceil(extract(epoch FROM s."sentAt" - c.t) * 1000 + $2::int)::int
               FROM s, c ORDER BY s."sentAt" DESC OFFSET $3::int - 1 LIMIT 1) AS wait_ms`,
    [key, spanMs, w.limit],
  );
  const used = rows[0]?.n ?? 0;
  if (used < w.limit) return undefined;
  const wait = rows[0]?.wait_ms ?? spanMs;
  return Math.min(spanMs, Math.max(1, wait));
}

function describeWindow(ms: number): string {
  if (ms === 60_000) return 'minute';
  if (ms === 1000) return 'second';
  return `${ms / 1000} s`;
}
