/**
 * Errors that mean "the database (or network) is away", as opposed to a bug or bad data. Work that hits
 * one waits and is tried again; it is never acked, dead-lettered or counted as a failed send.
 */
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  '57P01',
  '57P02',
  '57P03',
  '53300',
]);

export function isTransientInfraError(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { code?: unknown; message?: unknown; cause?: unknown };
  if (typeof e.code === 'string' && (TRANSIENT_CODES.has(e.code) || e.code.startsWith('08'))) return true;
  const msg = typeof e.message === 'string' ? e.message : '';
  if (
    /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|the database system is (starting up|shutting down)|DatabaseNotReachable|Can't reach database/i.test(
      msg,
    )
  ) {
    return true;
  }
  return e.cause !== undefined && e.cause !== err && isTransientInfraError(e.cause);
}
