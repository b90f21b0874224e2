import pg from 'pg';

/** The application_name of the bench's own pool, whose counting queries are not Herald's work. */
export const BENCH_APPLICATION_NAME = 'herald-bench';

let statements = 0;
let installed = false;

/**
 * Counts every statement this process sends to PostgreSQL through `pg` (Herald's pools and Prisma's pg
 * adapter alike), except the bench's own. Statements per delivery is the database round-trip cost of the
 * hot path: unlike a rate, a busy machine does not move it.
 */
export function countSqlStatements(): void {
  if (installed) return;
  installed = true;
  const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
  pg.Client.prototype.query = function (
    this: pg.Client & { connectionParameters?: { application_name?: string } },
    ...args: unknown[]
  ) {
    if (this.connectionParameters?.application_name !== BENCH_APPLICATION_NAME) statements++;
    return query.apply(this, args);
  } as typeof pg.Client.prototype.query;
}

export const sqlStatements = (): number => statements;
