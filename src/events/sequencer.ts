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

/**
 * Where a consumer starting "from now" begins: past the highest number given and past the committed events
 * still waiting for one, which the sequencer numbers next, in append order, before anything appended later.
 * The highest number alone would hand a new consumer the whole unnumbered backlog: nothing numbers events
 * while no webhook exists, so the first endpoint would receive every event since the last one was deleted.
 * Taken under the sequencer's lock, so no numbering runs between the two reads. An event appended after
 * this is never skipped; one appended just before it by a transaction that commits later may take the
 * place of an older event, which then goes out too.
 */
export async function startFromNow(sql: TransactionalSqlClient): Promise<bigint> {
  return sql.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [SEQUENCER_LOCK]);
    const { rows } = await tx.query<{ start: string }>(
      `SELECT ((SELECT COALESCE(MAX(seq), 0) FROM "StatusEvent")
             + (SELECT count(*) FROM "StatusEvent" WHERE seq IS NULL))::text AS start`,
    );
    return BigInt(rows[0]?.start ?? 0);
  });
}
