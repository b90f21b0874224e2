import pino from 'pino';
import { topologyNames } from '../broker/topologyNames';
import type { Config } from '../config/loadConfig';
import { createAmqpImBus } from '../gateway/amqpImBus';
import { recountAndAnnounce } from '../inbox/announceChange';
import { createLocalImBus } from '../inbox/imBus';
import { createInboxStore } from '../inbox/inboxStore';
import { schedulerChannel } from '../scheduler/scheduler';
import { withInfra } from './withInfra';

/**
 * `herald inbox recount [userId]`: recomputes the counts (and every declared tab's) from the items, fixes
 * the rows that differ and prints each difference; exit code 0 either way (a fix is not a failure).
 */
export async function inboxCommand(
  config: Config,
  args: string[],
  out: (line: string) => void,
): Promise<number> {
  const [sub, userId] = args;
  if (sub !== 'recount') {
    out('usage: herald inbox recount [userId]');
    return 2;
  }
  return withInfra(config, async (db, broker) => {
    const log = pino({ level: 'silent' });
    const bus = broker
      ? await createAmqpImBus(broker, topologyNames(config.HERALD_QUEUE_PREFIX).im, log)
      : createLocalImBus();
    const inbox = createInboxStore(db.sql, { schedulerChannel: schedulerChannel(db.schema) });
    const diffs = await recountAndAnnounce({ inbox, bus, log }, userId);
    for (const d of diffs)
      out(
        `${d.userId} ${d.scope}: unread ${d.stored.unread} -> ${d.actual.unread}, unseen ${d.stored.unseen} -> ${d.actual.unseen}`,
      );
    out(diffs.length ? `fixed ${diffs.length} difference(s)` : 'no differences');
    return 0;
  });
}
