import { createHash } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';
import type { SmtpAccountConfig } from './mailJob';

export type SmtpTransport = Transporter;

/** Socket limits, so a server that stops answering fails the attempt instead of holding it. */
export const SMTP_TIMEOUTS = { connectionTimeout: 15_000, greetingTimeout: 10_000, socketTimeout: 30_000 };

interface PoolEntry {
  fingerprint: string;
  transport: SmtpTransport;
  inFlight: number;
  retired: boolean;
}

export interface SmtpTransports {
  /** Runs `fn` on the account's pooled transport, creating it on first use or after the config changed. */
  use<T>(account: SmtpAccountConfig, fn: (transport: SmtpTransport) => Promise<T>): Promise<T>;
  /** Closes the account's pool (once its in-flight sends are done); the next send opens a new one. */
  forget(name: string): void;
  closeAll(): void;
}

/** One nodemailer SMTP pool per account, keyed by name and a fingerprint of its config. */
export function createSmtpTransports(
  opts: { maxConnections?: number; timeouts?: Partial<typeof SMTP_TIMEOUTS> } = {},
): SmtpTransports {
  const pools = new Map<string, PoolEntry>();

  const retire = (entry: PoolEntry) => {
    entry.retired = true;
    if (entry.inFlight === 0) entry.transport.close();
  };

  const entryFor = (account: SmtpAccountConfig): PoolEntry => {
    const fingerprint = fingerprintOf(account);
    const current = pools.get(account.name);
    if (current?.fingerprint === fingerprint) return current;
    if (current) retire(current);
    const entry: PoolEntry = {
      fingerprint,
      transport: nodemailer.createTransport({
        pool: true,
        maxConnections: opts.maxConnections ?? 5,
        host: account.host,
        port: account.port,
        secure: account.secure,
        // A password never crosses the wire in the clear unless the account says it may.
        requireTLS: !account.secure && account.user !== undefined && account.allowInsecureAuth !== true,
        auth: account.user ? { user: account.user, pass: account.password ?? '' } : undefined,
        ...SMTP_TIMEOUTS,
        ...opts.timeouts,
      }),
      inFlight: 0,
      retired: false,
    };
    pools.set(account.name, entry);
    return entry;
  };

  return {
    async use(account, fn) {
      const entry = entryFor(account);
      entry.inFlight += 1;
      try {
        return await fn(entry.transport);
      } finally {
        entry.inFlight -= 1;
        if (entry.retired && entry.inFlight === 0) entry.transport.close();
      }
    },
    forget(name) {
      const entry = pools.get(name);
      if (!entry) return;
      pools.delete(name);
      retire(entry);
    },
    closeAll() {
      for (const entry of pools.values()) entry.transport.close();
      pools.clear();
    },
  };
}

/** A hash, so the map never holds the password in a readable key. */
function fingerprintOf(a: SmtpAccountConfig): string {
  return createHash('sha256')
    .update(
      JSON.stringify([a.host, a.port, a.secure, a.user ?? null, a.password ?? null, a.allowInsecureAuth]),
    )
    .digest('hex');
}
