/** The narrow raw-SQL surface the hot path uses; both pg.Pool and PGlite satisfy it through small wrappers. */
export interface SqlClient {
  query<T = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<{ rows: T[] }>;
}

export interface TransactionalSqlClient extends SqlClient {
  /** Runs `fn` inside BEGIN/COMMIT on one connection; rolls back if it throws. */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>;
}
