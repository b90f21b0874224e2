import { Gauge, type Registry } from 'prom-client';
import type { SqlClient } from '../db/sqlClient';

/**
 * Robots in a vendor's penalty period (a SendHold row still running): the seconds left per budget key
 * (the account name, prefixed by its vendor scope where it has one). Read from the database when Prometheus
 * scrapes, the same on every instance; a series exists only while its hold does.
 */
export function registerSendHoldGauge(registry: Registry, sql: SqlClient): void {
  new Gauge({
    name: 'herald_send_hold_seconds',
    help: 'Seconds left of a vendor penalty (no sends for this account until then), by account',
    labelNames: ['account'] as const,
    registers: [registry],
    async collect() {
      const { rows } = await sql.query<{ key: string; seconds: number }>(
        `SELECT key, extract(epoch FROM "until" - clock_timestamp())::float8 AS seconds
           FROM "SendHold" WHERE "until" > clock_timestamp()`,
      );
      this.reset();
      for (const r of rows) this.set({ account: r.key }, Math.max(0, Number(r.seconds)));
    },
  });
}
