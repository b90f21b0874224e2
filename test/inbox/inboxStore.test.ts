import { randomUUID } from 'node:crypto';
import type { Selection } from '../../src/inbox/inboxChange';
import type { NewInboxItem } from '../../src/inbox/inboxItem';
import { createInboxStore, type InboxStore } from '../../src/inbox/inboxStore';
import { describeWith } from '../support/services';
import { createTestPglite, createTestPostgres, type TestDatabase } from '../support/testDatabase';

const item = (userId: string, title = 't'): NewInboxItem => ({
  userId,
  deliveryId: randomUUID(),
  attempt: 1,
  messageId: `m-${randomUUID()}`,
  title,
  body: `body of ${title}`,
});

function storeSuite(open: () => Promise<TestDatabase>): void {
  let tdb: TestDatabase;
  let inbox: InboxStore;
  beforeAll(async () => {
    tdb = await open();
    inbox = createInboxStore(tdb.db.sql);
  });
  afterAll(() => tdb.drop());
  const markRead = async (u: string, selection: Selection) => {
    const r = await inbox.change(u, { kind: 'read' }, selection);
    return { updated: r.ids.length, unread: r.counts.unread };
  };

  it('numbers each user’s items consecutively within one batch and across batches', async () => {
    const [a, b] = [`a-${randomUUID()}`, `b-${randomUUID()}`];
    const first = await inbox.insertItems([item(a, '1'), item(b, '1'), item(a, '2')]);
    expect(first.items.map((r) => [r.item.userId, r.item.seq, r.created])).toEqual([
      [a, 1, true],
      [b, 1, true],
      [a, 2, true],
    ]);
    expect({ [a]: first.counts[a]?.unread, [b]: first.counts[b]?.unread }).toEqual({ [a]: 2, [b]: 1 });
    const second = await inbox.insertItems([item(a, '3')]);
    expect(second.items[0]?.item.seq).toBe(3);
    expect(second.items[0]?.item).toMatchObject({ title: '3', body: 'body of 3', readAt: null, url: null });
  });

  it('does not duplicate an item or bump the sequence when a delivery is stored again', async () => {
    const u = `u-${randomUUID()}`;
    const job = { ...item(u), data: { orderNo: 981 }, url: '/orders/981', category: 'orders' };
    const once = await inbox.insertItems([job]);
    const again = await inbox.insertItems([job, item(u)]);
    expect(again.items[0]).toEqual({ item: once.items[0]?.item, created: false });
    expect(again.items[0]?.item.data).toEqual({ orderNo: 981 });
    expect(again.items[1]?.item.seq).toBe(2);
    expect((await inbox.counts(u)).unread).toBe(2);
  });

  it('hands out unique consecutive sequence numbers to concurrent writers', async () => {
    const u = `c-${randomUUID()}`;
    await Promise.all(Array.from({ length: 8 }, () => inbox.insertItems([item(u), item(u)])));
    const page = await inbox.listItems(u, { afterSeq: 0, limit: 100 });
    expect(page.items.map((i) => i.seq)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
  });

  it('marks read by ids, up to a seq, or all, and returns the new unread count', async () => {
    const u = `r-${randomUUID()}`;
    const { items } = await inbox.insertItems([item(u), item(u), item(u), item(u), item(u)]);
    const ids = items.map((r) => r.item.id);
    expect(await markRead(u, { ids: [ids[1] as string, 'not-a-uuid'] })).toEqual({
      updated: 1,
      unread: 4,
    });
    expect(await markRead(u, { upToSeq: 3 })).toEqual({ updated: 2, unread: 2 });
    expect(await markRead(`other-${u}`, { all: true })).toEqual({ updated: 0, unread: 0 });
    expect(await markRead(u, { all: true })).toEqual({ updated: 2, unread: 0 });
    const page = await inbox.listItems(u, { limit: 10 });
    expect(page.items.every((i) => i.readAt !== null)).toBe(true);
  });

  it('pages newest first, filters unread, and takes a capped snapshot oldest first', async () => {
    const u = `p-${randomUUID()}`;
    await inbox.insertItems(Array.from({ length: 7 }, (_, i) => item(u, String(i + 1))));
    await markRead(u, { upToSeq: 2 });
    const p1 = await inbox.listItems(u, { limit: 3 });
    expect(p1.items.map((i) => i.seq)).toEqual([7, 6, 5]);
    expect(p1.more).toBe(true);
    const p2 = await inbox.listItems(u, { limit: 3, beforeSeq: 5, status: 'unread' });
    expect(p2).toMatchObject({ more: false });
    expect(p2.items.map((i) => i.seq)).toEqual([4, 3]);

    const snap = await inbox.snapshot(u, { limit: 3 });
    expect(snap).toMatchObject({ lastSeq: 7, counts: { unread: 5 }, more: true });
    expect(snap.items.map((i) => i.seq)).toEqual([5, 6, 7]);
    const resume = await inbox.snapshot(u, { afterSeq: 1, limit: 10 });
    expect(resume.items.map((i) => i.seq)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(resume.items[0]?.readAt).not.toBeNull();
  });

  it('moves deliveries to delivered, then read, and never back', async () => {
    const u = `d-${randomUUID()}`;
    const messageId = `msg-${randomUUID()}`;
    const [d1, d2] = [randomUUID(), randomUUID()];
    await tdb.db.sql.query(`INSERT INTO "Message" (id, status) VALUES ($1, 'dispatched')`, [messageId]);
    await tdb.db.sql.query(
      `INSERT INTO "Delivery" (id, "messageId", channel, "recipientIndex", "recipientKey", "userId", "templateCode", status)
       VALUES ($1, $3, 'im', 0, 'index:0', $4, 't', 'sent'), ($2, $3, 'im', 1, 'index:1', $4, 't', 'sent')`,
      [d1, d2, messageId, u],
    );
    await inbox.insertItems([
      { ...item(u), deliveryId: d1 },
      { ...item(u), deliveryId: d2 },
    ]);
    expect(await inbox.markDelivered([d1])).toBe(1);
    await markRead(u, { upToSeq: 2 });
    expect(await inbox.markDelivered([d1, d2])).toBe(0);
    const { rows } = await tdb.db.sql.query<{ id: string; status: string }>(
      `SELECT id, status::text FROM "Delivery" WHERE "messageId" = $1 ORDER BY "recipientIndex"`,
      [messageId],
    );
    expect(rows.map((r) => r.status)).toEqual(['read', 'read']);
  });
}

describeWith(['postgres'], 'inbox store on PostgreSQL', () => storeSuite(createTestPostgres));
describe('inbox store on PGlite (embedded default)', () => storeSuite(createTestPglite));
