import type pg from 'pg';

/**
 * Gives every client of the pool an 'error' listener for its whole life. pg-pool hands a released client
 * straight to the next waiter, and a promise-style `pool.connect()` (our transactions, Prisma's) attaches
 * its listener one microtask later; when PostgreSQL shuts down, its 57P01 can arrive in the same socket
 * read as the previous query's ReadyForQuery, so it was emitted in that gap with no listener and ended the
 * process (seen with sockets connected, whose delivered-marks keep the pool busy). The error is not lost:
 * the client is marked not queryable, so its holder's next query fails and the pool discards it.
 */
export function guardClientErrors(pool: pg.Pool): void {
  pool.on('connect', (client) => client.on('error', () => undefined));
}
