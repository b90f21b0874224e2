import type { EventEmitter } from 'node:events';
import pg from 'pg';
import { guardClientErrors } from '../../src/db/poolClientErrors';
import { describeWith, TEST_DATABASE_URL } from '../support/services';

/**
 * The gap PostgreSQL's shutdown hit: a client released by one query goes straight to a promise-style
 * `connect()` waiter, and an error that arrives before the waiter's continuation runs (the server's 57P01
 * in the same socket read as the previous ReadyForQuery) finds no listener. Induced here by emitting a
 * connection error in a microtask queued when the waiter acquires the client.
 */
async function errorDuringHandOver(guard: boolean) {
  const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
  pool.on('error', () => undefined);
  if (guard) guardClientErrors(pool);
  let thrown: unknown;
  try {
    (await pool.connect()).release();
    let acquired = 0;
    pool.on('acquire', (client) => {
      acquired += 1;
      if (acquired !== 2) return;
      queueMicrotask(() => {
        try {
          (client as unknown as { connection: EventEmitter }).connection.emit(
            'error',
            new Error('terminating connection (stand-in)'),
          );
        } catch (err) {
          thrown = err;
        }
      });
    });
    const query = pool.query('SELECT pg_sleep(0.05)');
    const waiter = pool.connect();
    await query;
    const client = await waiter;
    const afterError = await client.query('SELECT 1').then(
      () => 'answered',
      (err: Error) => err.message,
    );
    client.release(new Error('broken'));
    const { rows } = await pool.query<{ n: number }>('SELECT 2 AS n');
    return { thrown, afterError, poolAnswers: rows[0]?.n };
  } finally {
    await pool.end();
  }
}

describeWith(['postgres'], 'pool client errors', () => {
  it('without the guard, an error in the hand-over gap has no listener (what ended the process)', async () => {
    const r = await errorDuringHandOver(false);
    expect(String((r.thrown as Error | undefined)?.message)).toMatch(/terminating connection \(stand-in\)/);
  });

  it('with the guard, it is handled: the holder sees a failed query and the pool carries on', async () => {
    const r = await errorDuringHandOver(true);
    expect(r.thrown).toBeUndefined();
    expect(r.afterError).toMatch(/not queryable/);
    expect(r.poolAnswers).toBe(2);
  });
});
