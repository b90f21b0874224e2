import type { SqlClient } from '../db/sqlClient';

export interface DeliveryRate {
  /** Start of the minute (ISO 8601). */
  minute: string;
  channel: string;
  status: string;
  count: number;
}

/**
 * Deliveries created in each of the last `minutes` minutes, by channel and current status, read through
 * the (createdAt, id) index so a long delivery log costs only the window.
 */
export async function deliveryRates(sql: SqlClient, minutes: number): Promise<DeliveryRate[]> {
  const { rows } = await sql.query<{ minute: Date | string; channel: string; status: string; count: string }>(
    `SELECT date_trunc('minute', "createdAt") AS minute, channel::text AS channel, status::text AS status,
            count(*)::text AS count
       FROM "Delivery"
      WHERE "createdAt" >= date_trunc('minute', now()) - make_interval(mins => $1::int)
      GROUP BY 1, 2, 3
      ORDER BY 1, 2, 3`,
    [minutes - 1],
  );
  return rows.map((r) => ({
    minute: new Date(r.minute).toISOString(),
    channel: r.channel,
    status: r.status,
    count: Number(r.count),
  }));
}
