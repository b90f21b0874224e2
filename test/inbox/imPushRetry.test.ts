import { randomUUID } from 'node:crypto';
import { createLocalImBus, type ImBus, type ImEvent } from '../../src/gateway/imBus';
import { createInboxStore } from '../../src/inbox/inboxStore';
import { createImSender } from '../../src/senders/imSender';
import { imJob } from '../gateway/support/imJobs';
import { silentLog } from '../gateway/support/imTestServer';
import { createTestPglite, type TestDatabase } from '../support/testDatabase';

/** A bus whose publishes fail until `healthy` is set, as while the broker connection is down. */
function flakyBus(): ImBus & { healthy: boolean; seen: ImEvent[] } {
  const inner = createLocalImBus();
  const bus = {
    healthy: false,
    seen: [] as ImEvent[],
    publish: (e: ImEvent) => bus.publishMany([e]),
    async publishMany(events: ImEvent[]) {
      if (!bus.healthy) throw new Error('im bus: broker not connected');
      bus.seen.push(...events);
      await inner.publishMany(events);
    },
    subscribe: inner.subscribe,
  };
  return bus;
}

describe('IM push that cannot be published', () => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await createTestPglite();
  });
  afterAll(() => tdb.drop());

  it('is a retryable send, and the retry pushes the stored item once', async () => {
    const bus = flakyBus();
    const inbox = createInboxStore(tdb.db.sql);
    const sender = createImSender({ inbox, bus, log: silentLog });
    const user = `u-${randomUUID()}`;
    const job = imJob(user, 'hello');

    const [first] = await sender.sendMany([job]);
    expect(first).toMatchObject({ kind: 'retryable', code: 'im_push_failed' });
    // Stored already: the user's inbox has it even before the push goes out.
    expect(await inbox.unreadCount(user)).toBe(1);

    bus.healthy = true;
    const [second] = await sender.sendMany([{ ...job, attempt: 2 }]);
    expect(second).toMatchObject({ kind: 'sent' });
    expect(bus.seen.map((e) => (e.type === 'item' ? e.item.title : e.type))).toEqual(['hello']);
    expect(await inbox.unreadCount(user)).toBe(1);
  });
});
