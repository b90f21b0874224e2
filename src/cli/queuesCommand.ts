import pino from 'pino';
import { connectBroker } from '../broker/brokerConnection';
import { topologyNames } from '../broker/topologyNames';
import type { Config } from '../config/loadConfig';
import { backlogFromDatabase, inspectQueues } from '../consumer/queueInspector';
import { retryQueueDelays } from '../consumer/retryPolicy';
import { openDatabase } from '../db/database';
import { OVERDUE_AFTER_S, readSchedulerBacklog } from '../scheduler/backlog';

/**
 * `herald queues`: depth and consumers of each queue, the scheduler's backlog (overdue: due more than
 * OVERDUE_AFTER_S ago and not claimed), and the age of the oldest unfinished message.
 */
export async function queuesCommand(config: Config, out: (line: string) => void): Promise<number> {
  const db = await openDatabase({ url: config.DATABASE_URL, poolSize: 1, homeDir: config.homeDir });
  try {
    if (config.AMQP_URL) {
      const broker = await connectBroker(config.AMQP_URL, pino({ level: 'silent' }), { initialRounds: 1 });
      try {
        const model = broker.current();
        if (!model) throw new Error('lost the broker connection');
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
        await broker.close();
      }
    } else {
      out('no AMQP_URL: envelopes queue as rows of the scheduler (below)');
    }
    out('');
    out(
      `scheduler kind              waiting       due   running   overdue  (due > ${OVERDUE_AFTER_S} s)  oldest due`,
    );
    const scheduled = await readSchedulerBacklog(db.sql);
    if (!scheduled.length) out('(no rows)');
    for (const r of scheduled)
      out(
        `${r.kind.padEnd(24)} ${[r.waiting, r.due, r.running, r.overdue].map((n) => String(n).padStart(9)).join(' ')}  ${r.due ? `${r.oldestOverdueSeconds} s` : '-'}`,
      );
    out('');
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
