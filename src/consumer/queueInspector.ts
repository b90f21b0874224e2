import type { ChannelModel } from 'amqplib';
import type { TopologyNames } from '../broker/topologyNames';
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
  const queues = [names.dispatch, ...retryDelays.map((d) => names.retryQueue(d)), names.dead];
  const out: QueueStats[] = [];
  for (const queue of queues) {
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
    `SELECT (SELECT EXTRACT(EPOCH FROM now() - min("createdAt"))::float8 FROM "Message" WHERE status IN ('accepted', 'dispatched')) AS oldest,
            (SELECT count(*) FROM "DeadLetter" WHERE "replayedAt" IS NULL)::text AS dead`,
  );
  const r = rows[0];
  return {
    oldestUnfinishedSeconds: r?.oldest === null || r?.oldest === undefined ? null : Math.round(r.oldest),
    deadLetters: Number(r?.dead ?? 0),
  };
}
