import { acceptMessages, ensureDeliveries } from '../../src/delivery/deliveryState';
import { collectedDeliveries } from '../../src/consumer/digestList';
import { closeDigest, collectIntoDigests } from '../../src/delivery/digestState';
import { createTestPglite, type TestDatabase } from '../support/testDatabase';

// Events were ordered by Message.createdAt and then by id; envelopes accepted in one batched statement
// share one createdAt, so a burst that a loaded consumer accepted together came out in id text order.
describe('a digest lists its events and its collected deliveries in the order Herald took the envelopes', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestPglite();
  }, 60_000);
  afterAll(() => t?.drop());

  it('keeps the order within one batched accept (same createdAt), whatever the ids and collection order', async () => {
    const sql = t.db.sql;
    const ids = Array.from({ length: 12 }, (_, i) => `burst-${i + 1}`);
    const to = [{ email: 'ops@example.com' }];
    await acceptMessages(
      sql,
      ids.map((id, i) => ({
        id,
        templateCode: 'burst',
        templateVersion: 1,
        recipientCount: 1,
        envelope: { id, template: 'burst', to, data: { n: i + 1 } },
      })),
    );
    const created = await sql.query<{ n: number }>(
      `SELECT count(DISTINCT "createdAt")::int AS n FROM "Message" WHERE id = ANY($1::text[])`,
      [ids],
    );
    expect(created.rows[0]?.n).toBe(1);
    const rows = await ensureDeliveries(
      sql,
      ids.map((messageId) => ({
        messageId,
        templateCode: 'burst',
        planned: [
          {
            channel: 'mail',
            recipientIndex: 0,
            recipientKey: 'address:ops@example.com',
            email: 'ops@example.com',
            status: 'queued',
          },
        ],
      })),
    );
    const buckets = new Set<string>();
    // Collected last to first: the order is the acceptance's, not the collection's.
    for (const i of ids.map((_, k) => ids.length - 1 - k)) {
      const deliveries = (rows[i] ?? []).map((d) => ({ id: d.id, channel: d.channel }));
      await sql.transaction((tx) =>
        collectIntoDigests(
          tx,
          {
            messageId: ids[i] as string,
            templateCode: 'burst',
            key: '',
            windowMs: 60_000,
            targets: [
              { scope: 'recipient', recipientKey: 'email:ops@example.com', recipients: to, deliveries },
            ],
          },
          async (_tx, bucketId) => {
            buckets.add(bucketId);
          },
        ),
      );
    }
    expect(buckets.size).toBe(1);
    const digest = await sql.transaction((tx) => closeDigest(tx, [...buckets][0] as string));
    expect(digest?.events.map((e) => e.n)).toEqual(ids.map((_, i) => i + 1));
    // GET /v1/digests/:id lists the collected deliveries in the same order; they were planned in one
    // statement (one createdAt), so ordering them by their random uuids shuffled them.
    const listed = await collectedDeliveries(sql, [...buckets][0] as string);
    expect(listed.map((d) => d.messageId)).toEqual(ids);
  }, 60_000);
});
