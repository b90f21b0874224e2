import pg from 'pg';

/**
 * LISTEN on a connection of its own (a pooled one may be handed to someone else), reconnecting with a
 * backoff when the server goes away. Notifications are hints: whoever listens must also poll, since
 * those sent while the connection was down are gone.
 */
export function listenPostgres(
  connectionString: string,
  channel: string,
  onNotify: () => void,
): () => Promise<void> {
  let client: pg.Client | undefined;
  let closed = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let delay = 500;

  const connect = async (): Promise<void> => {
    if (closed) return;
    const c = new pg.Client({ connectionString, connectionTimeoutMillis: 5000 });
    c.on('error', () => undefined);
    c.on('notification', () => onNotify());
    c.on('end', () => {
      if (client === c) client = undefined;
      schedule();
    });
    try {
      await c.connect();
      await c.query(`LISTEN "${channel}"`);
      if (closed) return void (await c.end().catch(() => undefined));
      client = c;
      delay = 500;
      // Anything sent while we were away is lost: let the listener look for itself.
      onNotify();
    } catch {
      await c.end().catch(() => undefined);
    }
  };
  const schedule = () => {
    if (closed || retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void connect();
    }, delay);
    delay = Math.min(delay * 2, 15_000);
  };
  void connect();
  return async () => {
    closed = true;
    if (retryTimer) clearTimeout(retryTimer);
    await client?.end().catch(() => undefined);
  };
}
