import type { ChannelModel } from 'amqplib';
import { dispatchQueues, type TopologyNames } from '../broker/topologyNames';
import type { SqlClient } from '../db/sqlClient';

export interface QueueStats {
  queue: string;
  messages: number;
  consumers: number;
}

export interface PipelineHealth {
  queues: QueueStats[];
  /** Age in seconds of the oldest message not yet finished (accepted or dispatched), from the database. */
  oldestUnfinishedSeconds: number | null;
  deadLetters: number;
}

/** Depth and consumers of each queue (passive declare: fails rather than creating a missing queue). */
export async function inspectQueues(
  model: ChannelModel,
  names: TopologyNames,
  retryDelays: readonly number[],
): Promise<QueueStats[]> {
  const out: QueueStats[] = [];
  for (const queue of dispatchQueues(names, retryDelays)) {
    const ch = await model.createChannel();
    ch.on('error', () => undefined);
    try {
      const q = await ch.checkQueue(queue);
      out.push({ queue, messages: q.messageCount, consumers: q.consumerCount });
      await ch.close();
    } catch {
      out.push({ queue, messages: -1, consumers: -1 });
    }
  }
  return out;
}

export async function backlogFromDatabase(sql: SqlClient): Promise<Omit<PipelineHealth, 'queues'>> {
  const { rows } = await sql.query<{ oldest: number | null; dead: string }>(
    // A message whose only pending deliveries wait for quiet hours is not stuck: its scheduler row
    // (herald_scheduler_overdue_jobs) says if it is late.
    `SELECT (SELECT EXTRACT(EPOCH FROM now() - min(m."createdAt"))::float8 FROM "Message" m
              WHERE m.status IN ('accepted', 'dispatched')
                AND NOT (EXISTS (SELECT 1 FROM "Delivery" d WHERE d."messageId" = m.id AND d.status = 'deferred')
                     AND NOT EXISTS (SELECT 1 FROM "Delivery" d WHERE d."messageId" = m.id
                                       AND d.status IN ('queued', 'sending', 'retrying')))) AS oldest,
            (SELECT count(*) FROM "DeadLetter" WHERE "replayedAt" IS NULL)::text AS dead`,
  );
  const r = rows[0];
  return {
    oldestUnfinishedSeconds: r?.oldest === null || r?.oldest === undefined ? null : Math.round(r.oldest),
    deadLetters: Number(r?.dead ?? 0),
  };
}
