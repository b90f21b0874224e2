import { appendEvents, eventsOfMessage, latestSeq, readEventsAfter } from '../../src/events/eventLog';
import { sequenceEvents } from '../../src/events/sequencer';
import { describeWith } from '../support/services';
import { createTestPglite, createTestPostgres, type TestDatabase } from '../support/testDatabase';

type Backend = { name: string; open(): Promise<TestDatabase>; needs: Array<'postgres'> };
const backends: Backend[] = [
  { name: 'PostgreSQL', open: createTestPostgres, needs: ['postgres'] },
  { name: 'PGlite', open: createTestPglite, needs: [] },
];

for (const backend of backends) {
  describeWith(backend.needs, `status event log on ${backend.name}`, () => {
    let t: TestDatabase;
    beforeAll(async () => {
      t = await backend.open();
    });
    afterEach(() => t.db.sql.query(`DELETE FROM "StatusEvent"`));
    afterAll(() => t.drop());

    it('appends a batch in one call, each with its own id, unnumbered until sequenced', async () => {
      await appendEvents(t.db.sql, [
        {
          type: 'message.accepted',
          messageId: 'm-1',
          templateCode: 'notice',
          payload: { status: 'accepted' },
        },
        {
          type: 'delivery.skipped',
          messageId: 'm-1',
          deliveryId: '00000000-0000-4000-8000-000000000001',
          templateCode: 'notice',
          payload: { channel: 'mail', reason: 'no_address', absent: null },
        },
      ]);
      const before = await eventsOfMessage(t.db.sql, 'm-1');
      expect(before.map((e) => [e.type, e.seq])).toEqual([
        ['message.accepted', null],
        ['delivery.skipped', null],
      ]);
      expect(new Set(before.map((e) => e.id)).size).toBe(2);
      // Nulls are left out of the payload, so receivers see only what is known.
      expect(before.find((e) => e.type === 'delivery.skipped')?.payload).toEqual({
        channel: 'mail',
        reason: 'no_address',
      });
      expect(await readEventsAfter(t.db.sql, { afterSeq: 0, limit: 10 })).toEqual([]);

      expect(await sequenceEvents(t.db.sql)).toBe(2);
      const after = await readEventsAfter(t.db.sql, { afterSeq: 0, limit: 10 });
      expect(after.map((e) => e.seq)).toEqual([1, 2]);
      expect(await latestSeq(t.db.sql)).toBe(2);
      expect(await sequenceEvents(t.db.sql)).toBe(0);
    });

    it('records an event with a key once, however often it is appended', async () => {
      const action = {
        type: 'delivery.actioned' as const,
        messageId: 'm-2',
        deliveryId: '00000000-0000-4000-8000-000000000002',
        payload: { action: 'approve' },
        key: 'delivery:00000000-0000-4000-8000-000000000002:actioned',
      };
      await appendEvents(t.db.sql, [action, action]);
      await appendEvents(t.db.sql, [action]);
      expect(await eventsOfMessage(t.db.sql, 'm-2')).toHaveLength(1);
    });

    it('appends in the caller transaction: a rollback leaves no event', async () => {
      await expect(
        t.db.sql.transaction(async (tx) => {
          await appendEvents(tx, [{ type: 'message.rejected', messageId: 'm-3', payload: {} }]);
          throw new Error('the change failed');
        }),
      ).rejects.toThrow('the change failed');
      expect(await eventsOfMessage(t.db.sql, 'm-3')).toEqual([]);
    });

    it('numbers later commits after earlier ones and filters by type', async () => {
      await appendEvents(t.db.sql, [{ type: 'delivery.sent', messageId: 'm-4', payload: {} }]);
      await sequenceEvents(t.db.sql);
      const first = await latestSeq(t.db.sql);
      await appendEvents(t.db.sql, [
        { type: 'delivery.read', messageId: 'm-4', payload: {} },
        { type: 'delivery.failed', messageId: 'm-5', payload: {} },
      ]);
      await sequenceEvents(t.db.sql);
      const later = await readEventsAfter(t.db.sql, { afterSeq: first, limit: 10 });
      expect(later.map((e) => e.type).sort()).toEqual(['delivery.failed', 'delivery.read']);
      expect(later.every((e) => (e.seq ?? 0) > first)).toBe(true);
      const reads = await readEventsAfter(t.db.sql, { afterSeq: 0, limit: 10, types: ['delivery.read'] });
      expect(reads.map((e) => e.messageId)).toEqual(['m-4']);
    });
  });
}

describeWith(['postgres'], 'status event sequencer under concurrent appenders', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestPostgres();
  });
  afterAll(() => t.drop());

  it('never numbers an event below one a consumer has already read', async () => {
    // A transaction that appended first but commits last must still come after what was read meanwhile.
    let commitLate!: () => void;
    const held = new Promise<void>((r) => (commitLate = r));
    const slow = t.db.sql.transaction(async (tx) => {
      await appendEvents(tx, [{ type: 'delivery.sent', messageId: 'slow', payload: {} }]);
      await held;
    });
    await new Promise((r) => setTimeout(r, 50));
    await appendEvents(t.db.sql, [{ type: 'delivery.sent', messageId: 'fast', payload: {} }]);
    await sequenceEvents(t.db.sql);
    const seen = await readEventsAfter(t.db.sql, { afterSeq: 0, limit: 10 });
    expect(seen.map((e) => e.messageId)).toEqual(['fast']);
    const cursor = seen[0]?.seq ?? 0;

    commitLate();
    await slow;
    await sequenceEvents(t.db.sql);
    const next = await readEventsAfter(t.db.sql, { afterSeq: cursor, limit: 10 });
    expect(next.map((e) => e.messageId)).toEqual(['slow']);
  });
});
