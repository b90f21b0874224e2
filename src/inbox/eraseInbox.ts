import type { SqlClient } from '../db/sqlClient';

/** Deletes a user's inbox and its sequence counter (in the caller's transaction); returns the items removed. */
export async function eraseInbox(tx: SqlClient, userId: string): Promise<number> {
  const { rows } = await tx.query<{ n: number }>(
    `WITH gone AS (DELETE FROM "InboxItem" WHERE "userId" = $1 RETURNING 1) SELECT count(*)::int AS n FROM gone`,
    [userId],
  );
  await tx.query(`DELETE FROM "InboxCounter" WHERE "userId" = $1`, [userId]);
  return Number(rows[0]?.n ?? 0);
}
