import amqplib from 'amqplib';
import { topologyNames } from '../broker/topologyNames';
import type { Config } from '../config/loadConfig';
import { backlogFromDatabase, inspectQueues } from '../consumer/queueInspector';
import { retryQueueDelays } from '../consumer/retryPolicy';
import { openDatabase } from '../db/database';

/** `herald queues`: depth and consumers of each queue, and the age of the oldest unfinished message. */
export async function queuesCommand(config: Config, out: (line: string) => void): Promise<number> {
  const db = await openDatabase({ url: config.DATABASE_URL, poolSize: 1, homeDir: config.homeDir });
  try {
    if (config.AMQP_URL) {
      const model = await amqplib.connect(config.AMQP_URL);
      try {
        const stats = await inspectQueues(
          model,
          topologyNames(config.HERALD_QUEUE_PREFIX),
          retryQueueDelays(config.HERALD_RETRY_DELAYS),
        );
        out('queue                                  messages  consumers');
        for (const s of stats) {
          out(
            `${s.queue.padEnd(38)} ${s.messages < 0 ? 'missing' : String(s.messages).padStart(8)}  ${s.consumers < 0 ? '' : String(s.consumers).padStart(9)}`,
          );
        }
      } finally {
        await model.close();
      }
    } else {
      out('no AMQP_URL: the in-process queue lives inside the running server');
    }
    const backlog = await backlogFromDatabase(db.sql);
    out(
      `oldest unfinished message: ${backlog.oldestUnfinishedSeconds === null ? 'none' : `${backlog.oldestUnfinishedSeconds} s`}`,
    );
    out(`dead letters not replayed: ${backlog.deadLetters}`);
    return 0;
  } finally {
    await db.close();
  }
}
