import { randomUUID } from 'node:crypto';
import { createLocalImBus, type ImBus, type ImEvent } from '../../src/inbox/imBus';
import { createInboxStore } from '../../src/inbox/inboxStore';
import { createImSender } from '../../src/senders/im/imSender';
import { imJob } from '../gateway/support/imJobs';
import { silentLog } from '../gateway/support/imTestServer';
import { createTestPglite, type TestDatabase } from '../support/testDatabase';

/** A bus whose first `failures` publishes fail, as while the broker connection recovers. */
function flakyBus(failures: number): ImBus & { tries: number; seen: ImEvent[] } {
  const inner = createLocalImBus();
  const bus = {
    tries: 0,
    seen: [] as ImEvent[],
    publish: (e: ImEvent) => bus.publishMany([e]),
    async publishMany(events: ImEvent[]) {
      bus.tries += 1;
      if (bus.tries <= failures) throw new Error('im bus: broker not connected');
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

  it('is tried again while the broker recovers, and pushed once', async () => {
    const bus = flakyBus(2);
    const inbox = createInboxStore(tdb.db.sql);
    const sender = createImSender({ inbox, bus, log: silentLog, pushRetryMs: [10, 10, 10] });
    const user = `u-${randomUUID()}`;
    const [outcome] = await sender.sendMany([imJob(user, 'hello')]);
    expect(outcome).toMatchObject({ kind: 'sent' });
    expect(bus.tries).toBe(3);
    expect(bus.seen.map((e) => (e.type === 'item' ? e.item.title : e.type))).toEqual(['hello']);
  });

  it('stays sent when the broker does not come back in time: the item is stored for the next hello', async () => {
    const bus = flakyBus(100);
    const inbox = createInboxStore(tdb.db.sql);
    const sender = createImSender({ inbox, bus, log: silentLog, pushRetryMs: [5, 5] });
    const user = `u-${randomUUID()}`;
    const [outcome] = await sender.sendMany([imJob(user, 'later')]);
    expect(outcome).toMatchObject({ kind: 'sent' });
    expect(bus.tries).toBe(3);
    expect((await inbox.counts(user)).unread).toBe(1);
  });
});
