import pg from 'pg';

/** The application_name of the bench's own pool, whose counting queries are not Herald's work. */
export const BENCH_APPLICATION_NAME = 'herald-bench';

let statements = 0;
let installed = false;
/** Per statement text: how many ran and their summed round trips (HERALD_BENCH_SQL_PROFILE=1 only). */
const profile = process.env.HERALD_BENCH_SQL_PROFILE
  ? new Map<string, { n: number; ms: number }>()
  : undefined;

const statementKey = (arg: unknown): string => {
  const text = typeof arg === 'string' ? arg : ((arg as { text?: string } | undefined)?.text ?? '?');
  return text.replace(/\s+/g, ' ').trim().slice(0, 110);
};

function record(key: string, started: number): void {
  const entry = profile?.get(key) ?? { n: 0, ms: 0 };
  entry.n++;
  entry.ms += performance.now() - started;
  profile?.set(key, entry);
}

/** The query's arguments with its callback (pg.Pool passes one) wrapped to record the round trip. */
function timedArgs(key: string, args: unknown[], started: number): unknown[] {
  const last = args[args.length - 1];
  if (typeof last !== 'function') return args;
  const callback = last as (...a: unknown[]) => unknown;
  return [
    ...args.slice(0, -1),
    (...result: unknown[]) => {
      record(key, started);
      return callback(...result);
    },
  ];
}

/**
 * With HERALD_BENCH_SQL_PROFILE=1: the 25 statements that took the most summed round-trip time since
 * the last call (count, ms, text), and a fresh start. Round trips include the event loop's delay in
 * reading the answer, so under load they read long; the counts are exact.
 */
export function takeSqlProfile(): string {
  if (!profile) return '';
  const rows = [...profile.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25);
  profile.clear();
  return rows
    .map(([k, v]) => `${String(v.n).padStart(8)} ${v.ms.toFixed(0).padStart(8)} ms  ${k}`)
    .join('\n');
}

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
    if (this.connectionParameters?.application_name === BENCH_APPLICATION_NAME)
      return query.apply(this, args);
    statements++;
    if (!profile) return query.apply(this, args);
    const key = statementKey(args[0]);
    const started = performance.now();
    const timed = timedArgs(key, args, started);
    const result = query.apply(this, timed);
    if (timed === args && result instanceof Promise)
      result.then(
        () => record(key, started),
        () => undefined,
      );
    return result;
  } as typeof pg.Client.prototype.query;
}

export const sqlStatements = (): number => statements;
