import {
  DriverAdapterError,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils';

/** A driver adapter, and how to send a whole script on its connection. */
export interface ScriptConnection {
  adapter: SqlDriverAdapter;
  run(script: string): Promise<unknown>;
}

/**
 * The schema engine runs each migration through the adapter's `executeScript`, and neither adapter runs
 * one right: @prisma/adapter-pg splits the text at every `;` and sends the pieces one by one, which cuts
 * apart `$$` bodies and breaks on a `;` inside a string literal, a quoted name or a comment;
 * pglite-prisma-adapter starts the script without awaiting it, so a failing migration is reported as
 * applied and its error ends the process as an unhandled rejection. This factory hands the engine
 * adapters that send each script whole, as one simple-protocol query, and wait for it: PostgreSQL's own
 * parser splits it, so nothing is tokenised here. PostgreSQL runs such a query as one implicit
 * transaction, so a migration that fails part-way leaves nothing behind, on either database, as with
 * Prisma's native engine.
 */
export function wholeScriptAdapter(
  factory: Pick<SqlMigrationAwareDriverAdapterFactory, 'provider' | 'adapterName'>,
  connect: () => Promise<ScriptConnection>,
  connectToShadowDb: () => Promise<ScriptConnection>,
): SqlMigrationAwareDriverAdapterFactory {
  const runWhole = ({ adapter, run }: ScriptConnection): SqlDriverAdapter => {
    adapter.executeScript = async (script) => {
      try {
        await run(script);
      } catch (err) {
        throw asDriverError(err);
      }
    };
    return adapter;
  };
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => runWhole(await connect()),
    connectToShadowDb: async () => runWhole(await connectToShadowDb()),
  };
}

interface PostgresErrorFields {
  code?: unknown;
  severity?: unknown;
  detail?: string;
  column?: string;
  hint?: string;
}

/** A PostgreSQL error (pg's or PGlite's) as the engine reports it, its code and message; others as they are. */
function asDriverError(err: unknown): unknown {
  const e = err as PostgresErrorFields;
  if (!(err instanceof Error) || typeof e.code !== 'string' || typeof e.severity !== 'string') return err;
  return new DriverAdapterError({
    kind: 'postgres',
    code: e.code,
    severity: e.severity,
    message: err.message,
    detail: e.detail,
    column: e.column,
    hint: e.hint,
  });
}
