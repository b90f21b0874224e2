import type { TransactionalSqlClient } from '../db/sqlClient';

// Every instance takes the same lock: the sequencer runs in one place at a time.
const SEQUENCER_LOCK = 'herald.status-events.sequencer';

/**
 * Numbers the committed events that have no `seq` yet, continuing from the highest. Appenders never take a
 * number themselves: a sequence drawn inside a transaction that commits late would let a consumer that
 * already read past it skip that event. One sequencer at a time (an advisory lock; others return 0 and
 * come back later), each seeing everything the previous one numbered, so numbers follow visibility.
 * Returns how many events it numbered.
 */
export async function sequenceEvents(sql: TransactionalSqlClient, limit = 1000): Promise<number> {
  return sql.transaction(async (tx) => {
    const lock = await tx.query<{ got: boolean }>(`SELECT pg_try_advisory_xact_lock(hashtext($1)) AS got`, [
      SEQUENCER_LOCK,
    ]);
    if (!lock.rows[0]?.got) return 0;
    const { rows } = await tx.query<{ id: string }>(
      `WITH top AS (SELECT COALESCE(MAX(seq), 0) AS n FROM "StatusEvent"),
            todo AS (
              SELECT id, row_number() OVER (ORDER BY "appendOrder") AS n
              FROM (SELECT id, "appendOrder" FROM "StatusEvent" WHERE seq IS NULL ORDER BY "appendOrder" LIMIT $1) t
            )
       UPDATE "StatusEvent" e SET seq = top.n + todo.n FROM todo, top WHERE e.id = todo.id
       RETURNING e.id`,
      [limit],
    );
    return rows.length;
  });
}
